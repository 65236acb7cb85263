"""Mail charset labels to Python codecs, and bytes or half-decoded text to clean Unicode.

Mailers declare charsets Python does not know, or knows as a smaller set than they mean;
these helpers map such labels, fall back to UTF-8 and then Windows-1252, and note what went
wrong in a defects list instead of raising.
"""

from __future__ import annotations

import codecs
import re
from email.message import Message

from ingest_pipeline.parsing.html_text import strip_zero_width

# Charset labels Python does not know, or knows as a smaller set than mailers mean.
# ``None`` means "no real charset": try UTF-8, then Windows-1252.
CHARSET_ALIASES: dict[str, str | None] = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-roman": "mac_roman",
    "x-user-defined": "cp1252",
    "x-unknown": None,
    "unknown": None,
    "unknown-8bit": None,
    "none": None,
    "default": None,
    "charset": None,
}
_NEWLINES = re.compile(r"\r\n?|\n")


def charset_label(charset: str | None) -> str:
    """A declared charset as a bare lower-case label ("" when none was declared)."""
    return (charset or "").strip().strip("\"'").lower()


def codec_for(charset: str | None) -> str | None:
    """A Python codec name for a mail charset label, or None when there is no usable one."""
    label = charset_label(charset)
    if not label:
        return None
    if label in CHARSET_ALIASES:
        return CHARSET_ALIASES[label]
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # base64, zlib, rot13 ... are codecs too, but not for text.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _decode_8bit(data: bytes, hint: str | None) -> str:
    """Undeclared 8-bit header bytes: UTF-8 if valid, else the message's charset, else cp1252."""
    for codec in ("utf-8", codec_for(hint)):
        if codec:
            try:
                return data.decode(codec)
            except UnicodeError:
                continue
    return data.decode("cp1252", errors="replace")


def clean_text(text: str, hint: str | None = None) -> str:
    """``text`` as valid Unicode: surrogate-escaped raw bytes decoded (UTF-8 if valid, else
    the ``hint`` charset, else cp1252), NULs and zero-width characters removed."""
    if any("\ud800" <= c <= "\udfff" for c in text):
        try:
            text = _decode_8bit(text.encode("utf-8", "surrogateescape"), hint)
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return strip_zero_width(text.replace("\x00", ""))


def decode_bytes(
    data: bytes, charset: str | None, defects: list[str] | None = None, where: str = ""
) -> str:
    """Decode with the declared charset (aliases applied), else UTF-8, else Windows-1252.

    Unknown charsets and bytes invalid in the declared charset are noted in ``defects``,
    each prefixed with ``where`` (the header or part being decoded).
    """
    label = charset_label(charset)
    codec = codec_for(label)
    notes: list[str] = []
    if label and codec is None:
        known = label in CHARSET_ALIASES  # x-unknown, unknown-8bit ...: a label for "no idea"
        notes.append(
            f"{where}: {'unknown' if not known else 'placeholder'} charset {label!r};"
            " decoded as utf-8"
        )
    text: str | None = None
    if codec:
        try:
            text = data.decode(codec)
        except UnicodeError:
            notes.append(f"{where}: bytes invalid in {label}; decoded as utf-8 where possible")
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode(codec or "cp1252", errors="replace")
            except UnicodeError:  # codecs such as idna refuse errors="replace"
                text = data.decode("cp1252", errors="replace")
    if defects is not None:
        defects.extend(notes)
    return text


def normalize_body_text(raw: str) -> str:
    """Body text with unified newlines and no invisible characters."""
    return _NEWLINES.sub("\n", strip_zero_width(raw.replace("\x00", "")))


def charset_hint(msg: Message) -> str | None:
    """The first charset a text part declares: the likeliest encoding of raw 8-bit headers."""
    try:
        for part in msg.walk():
            charset = charset_label(part.get_content_charset())
            if charset and codec_for(charset) not in (None, "utf-8", "ascii"):
                return charset
    except Exception:
        return None
    return None
