"""Raw RFC 5322 / MIME bytes to a ``ParsedMessage``, tolerating the mail real mailboxes hold.

The stdlib parser (``policy=default``) does the parsing; this module reads its result
defensively. A header, charset or part that cannot be read costs only itself: it is decoded a
simpler way or skipped, and a short note goes to ``ParsedMessage.defects``. The only exception
that leaves ``parse_message`` is ``UnparseableMessage``, for bytes that hold no message at all.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import email
import email.policy
import email.utils
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message

from ingest_pipeline.domain import Address, ParsedAttachment, ParsedMessage, sha256_hex
from ingest_pipeline.parsing.attachment_text import TNEF_TYPES, attachment_text, unpack_tnef
from ingest_pipeline.parsing.html_text import html_to_text, strip_zero_width

FORWARD_MARKER = "---------- Forwarded message ----------"
DEFAULT_ATTACHMENT_MAX_BYTES = 10_000_000
_MAX_DEPTH = 30  # MIME nesting deeper than this is skipped (and noted as a defect)

# Charset labels Python does not know, or knows as a smaller set than mailers mean.
# ``None`` means "no real charset": try UTF-8, then Windows-1252.
_CHARSET_ALIASES: dict[str, str | None] = {
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
# ``message/*`` subtypes that hold a whole message, walked like a forwarded mail.
_EMBEDDED_MESSAGE_TYPES = ("message/rfc822", "message/global", "message/news")
_KNOWN_MAINTYPES = (
    *("text", "image", "audio", "video", "application", "multipart", "message", "font", "model"),
)
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?[bBqQ]\?[^?\s]*\?=")
_MSG_ID = re.compile(r"<\s*([^<>]*?)\s*>")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NEWLINES = re.compile(r"\r\n?|\n")
# A header line in obsolete syntax (RFC 5322 4.5.3): whitespace between name and colon.
_OBS_FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]+:", re.MULTILINE)


class UnparseableMessage(Exception):
    """The bytes hold no usable mail message; ``str(exc)`` is a reason a person can act on."""


@dataclass
class _Walk:
    """What the walk over one top-level message has collected so far."""

    cap: int
    defects: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    forwarded_subjects: list[str] = field(default_factory=list)
    html_present: bool = False
    leaves: int = 0  # leaf parts seen, numbering generated filenames ("part-3.jpg")


@dataclass
class _Body:
    """Body texts of one message level: the top message, or one forwarded message in it."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)  # already converted to text
    tnef: list[str] = field(default_factory=list)  # bodies carried inside winmail.dat
    forwarded: list[str] = field(default_factory=list)  # rendered forwarded messages

    def render(self) -> str:
        """Plain parts, else HTML parts, else TNEF bodies; then each forwarded message."""
        main = _join(self.plain) or _join(self.html) or _join(self.tnef)
        blocks = [main] if main else []
        blocks += [f"{FORWARD_MARKER}\n{text}" for text in self.forwarded]
        return "\n\n".join(blocks)


def _join(texts: list[str]) -> str:
    return "\n\n".join(t.strip() for t in texts if t.strip())


# ---------------------------------------------------------------- text and charsets


def _decode_8bit(data: bytes, hint: str | None) -> str:
    """Undeclared 8-bit header bytes: UTF-8 if valid, else the message's charset, else cp1252."""
    for codec in ("utf-8", _codec(hint)):
        if codec:
            try:
                return data.decode(codec)
            except UnicodeError:
                continue
    return data.decode("cp1252", errors="replace")


def _clean(text: str, hint: str | None = None) -> str:
    """``text`` as valid Unicode: surrogate-escaped raw bytes decoded (see ``_decode_8bit``),
    NULs and zero-width characters removed."""
    if any("\ud800" <= c <= "\udfff" for c in text):
        try:
            text = _decode_8bit(text.encode("utf-8", "surrogateescape"), hint)
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return strip_zero_width(text.replace("\x00", ""))


def _label(charset: str | None) -> str:
    return (charset or "").strip().strip("\"'").lower()


def _codec(charset: str | None) -> str | None:
    """A Python codec name for a mail charset label, or None when there is no usable one."""
    label = _label(charset)
    if not label:
        return None
    if label in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[label]
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # base64, zlib, rot13 ... are codecs too, but not for text.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _decode_bytes(
    data: bytes, charset: str | None, defects: list[str] | None = None, where: str = ""
) -> str:
    """Decode with the declared charset (aliases applied), else UTF-8, else Windows-1252.

    Unknown charsets and bytes invalid in the declared charset are noted in ``defects``.
    """
    label = _label(charset)
    codec = _codec(label)
    notes: list[str] = []
    if label and codec is None:
        known = label in _CHARSET_ALIASES  # x-unknown, unknown-8bit ...: a label for "no idea"
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


def _text(raw: str) -> str:
    """Body text with unified newlines and no invisible characters."""
    return _NEWLINES.sub("\n", strip_zero_width(raw.replace("\x00", "")))


# ---------------------------------------------------------------- headers


def _raw_values(msg: Message, name: str) -> list[str]:
    """The values of header ``name`` exactly as stored, before any decoding."""
    wanted = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == wanted]


def _decode_raw(raw: str, defects: list[str], where: str, hint: str | None = None) -> str:
    """A raw header value unfolded, 8-bit bytes and RFC 2047 encoded words decoded."""
    text = _clean(_FOLD.sub("", raw), hint).replace("\r", "").replace("\n", " ")
    if "=?" not in text:
        return text.strip()
    try:
        return str(make_header(decode_header(text))).strip()
    except LookupError:
        try:
            chunks = decode_header(text)
            return "".join(
                _decode_bytes(c, cs) if isinstance(c, bytes) else c for c, cs in chunks
            ).strip()
        except Exception:
            pass
    except Exception:
        pass
    defects.append(f"{where}: undecodable encoded word; kept raw")
    return text.strip()


def _header_text(
    msg: Message, name: str, defects: list[str], prefix: str = "", hint: str | None = None
) -> str | None:
    """The decoded value of the first ``name`` header, or None when the header is absent.

    ``hint`` is the charset tried for raw 8-bit bytes that are not UTF-8.
    """
    where = f"{prefix}{name}"
    raws = _raw_values(msg, name)
    if not raws:
        return None
    try:
        header = msg.get(name)
        text = None if header is None else str(header)
        defects.extend(f"{where}: {type(d).__name__}" for d in getattr(header, "defects", ()))
    except Exception as exc:
        defects.append(f"{where}: {type(exc).__name__} reading header; decoded the raw value")
        return _decode_raw(raws[0], defects, where, hint)
    for charset in _ENCODED_WORD.findall(raws[0]):
        label = _label(charset.split("*", 1)[0])
        if _codec(label) is None and label not in _CHARSET_ALIASES:
            defects.append(f"{where}: unknown charset {label!r} in encoded word; read as utf-8")
    if text is None or "\ufffd" in text or any("\udc80" <= c <= "\udcff" for c in raws[0]):
        # Raw 8-bit header: the policy replaces its bytes; decode them ourselves.
        text = _decode_raw(raws[0], defects, where, hint)
    else:
        text = _clean(text, hint).strip()
    if _ENCODED_WORD.search(text):
        defects.append(f"{where}: undecodable encoded word; kept raw")
    return text


def _addresses(
    msg: Message, name: str, defects: list[str], prefix: str = "", hint: str | None = None
) -> list[Address]:
    """Every mailbox in every ``name`` header (groups flattened); entries without an address
    are dropped. ``hint`` as for ``_header_text``."""
    where = f"{prefix}{name}"
    raws = _raw_values(msg, name)
    if not raws:
        return []
    found: list[Address] = []
    try:
        for header in msg.get_all(name) or []:
            defects.extend(f"{where}: {type(d).__name__}" for d in getattr(header, "defects", ()))
            for addr in header.addresses:  # type: ignore[attr-defined]
                name_text, email_text = (
                    _clean(addr.display_name, hint),
                    _clean(addr.addr_spec, hint),
                )
                found.append(Address(name=name_text, email=email_text))
    except Exception as exc:
        defects.append(f"{where}: {type(exc).__name__} parsing addresses; used getaddresses")
        found = []
        unfolded = [_clean(_FOLD.sub("", r), hint).replace("\n", " ") for r in raws]
        for display, addr in email.utils.getaddresses(unfolded):
            found.append(Address(name=_decode_raw(display, defects, where), email=addr.strip()))
    return [a for a in found if a.email]


def _message_id(text: str | None) -> str | None:
    """The first msg-id in ``text`` as ``<id>`` without whitespace, or None."""
    if not text:
        return None
    match = _MSG_ID.search(text)
    core = re.sub(r"\s+", "", match.group(1) if match else text).strip("<>")
    return f"<{core}>" if core else None


def _date(msg: Message, defects: list[str]) -> dt.datetime | None:
    """The Date header as an aware UTC datetime; None (and a defect) when absent or garbage."""
    raws = _raw_values(msg, "Date")
    if not raws:
        return None
    value: dt.datetime | None = None
    try:
        value = getattr(msg.get("Date"), "datetime", None)
    except Exception:
        value = None
    if value is None:
        try:
            value = email.utils.parsedate_to_datetime(_clean(raws[0]).strip())
        except Exception:
            value = None
    try:
        if value is not None:
            if value.tzinfo is None:  # "-0000": time zone unknown, taken as UTC
                value = value.replace(tzinfo=dt.UTC)
            return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        pass
    defects.append(f"Date: unparseable value {_clean(raws[0]).strip()[:60]!r}; date left empty")
    return None


# ---------------------------------------------------------------- parts


def _content_type(part: Message, defects: list[str]) -> str:
    """The part's ``type/subtype`` in lower case; ``text/plain`` when unreadable."""
    try:
        ctype = part.get_content_type()
    except Exception as exc:
        defects.append(f"Content-Type unreadable ({type(exc).__name__}); taken as text/plain")
        return "text/plain"
    declared = _raw_values(part, "Content-Type")
    if declared and "/" not in declared[0].split(";")[0]:
        shown = _clean(declared[0]).split(";")[0].strip()[:40]
        defects.append(f"Content-Type {shown!r} is invalid; taken as {ctype}")
    return ctype


def _raw_param(part: Message, header: str, param: str) -> str | None:
    """A parameter read from the raw header text, for values the stdlib cannot parse
    (unquoted spaces, encoded words where RFC 2231 belongs)."""
    for raw in _raw_values(part, header):
        unfolded = _FOLD.sub("", raw).replace("\r", "").replace("\n", " ")
        pattern = rf'(?:^|;)\s*{param}\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))'
        match = re.search(pattern, unfolded, re.IGNORECASE)
        if match:
            value = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
            if value:
                return value
    return None


def _filename(part: Message, defects: list[str]) -> str | None:
    """The part's filename (RFC 2231 and encoded words decoded, no directories), or None."""
    try:
        name = part.get_filename()
    except Exception as exc:
        defects.append(f"filename unreadable ({type(exc).__name__}); read from the raw header")
        name = None
    raw = _raw_param(part, "Content-Disposition", "filename") or _raw_param(
        part, "Content-Type", "name"
    )
    if raw and (not name or (len(raw) > len(name) and raw.startswith(name))):
        name = raw
    if not name:
        return None
    name = str(name)
    if "=?" in name:
        name = _decode_raw(name, defects, "filename")
    name = _clean(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c >= " ").strip().strip('"')
    return name or None


def _generated_name(index: int, ctype: str) -> str:
    """``part-<index>.<ext>`` for a part without a filename, the extension guessed from its type."""
    maintype, _, subtype = ctype.partition("/")
    ext = mimetypes.guess_extension(ctype)
    if not ext and maintype in ("text", "message"):
        ext = ".eml" if ctype in _EMBEDDED_MESSAGE_TYPES else ".txt"
    media = maintype in ("image", "audio", "video")
    if not ext and media and subtype.isalnum() and len(subtype) < 6:
        ext = f".{subtype}"
    return f"part-{index}{ext or '.bin'}"


def _charset_hint(msg: Message) -> str | None:
    """The first charset a text part declares: the likeliest encoding of raw 8-bit headers."""
    try:
        for part in msg.walk():
            charset = _label(part.get_content_charset())
            if charset and _codec(charset) not in (None, "utf-8", "ascii"):
                return charset
    except Exception:
        return None
    return None


def _serialize(sub: object) -> bytes:
    """A sub-message (or stray string) of a ``message/*`` part back to bytes; b"" if impossible."""
    try:
        if isinstance(sub, Message):
            return sub.as_bytes()
        return str(sub).encode("utf-8", "surrogateescape")
    except Exception:
        return b""


def _encoded_payload(part: Message) -> bytes:
    """The part's body as transmitted (still base64/quoted-printable), without decoding it."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return b"\n".join(_serialize(sub) for sub in payload)
    if isinstance(payload, bytes):
        return payload
    if payload is None:
        return b""
    try:
        return str(payload).encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return str(payload).encode("utf-8", "replace")


def _decoded_payload(part: Message) -> bytes:
    """The part's body with its Content-Transfer-Encoding undone."""
    if isinstance(part.get_payload(), list):
        return _encoded_payload(part)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _leaf_text(part: Message, walk: _Walk, where: str) -> str:
    """A text leaf's body decoded with its charset (see ``_decode_bytes``)."""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _text(_decode_bytes(_decoded_payload(part), charset, walk.defects, where))


def _attachment(
    *,
    filename: str,
    content_type: str,
    data: bytes,
    source: str,
    cap: int,
) -> ParsedAttachment:
    """An attachment from decoded bytes: text extracted, or capped when over ``cap`` bytes."""
    if len(data) > cap:
        return _capped(filename, content_type, data, source, cap)
    text, error = attachment_text(data, content_type=content_type, filename=filename)
    return ParsedAttachment(
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=sha256_hex(data),
        text=text,
        text_error=error,
        source=source,
    )


def _capped(name: str, ctype: str, data: bytes, source: str, cap: int) -> ParsedAttachment:
    return ParsedAttachment(
        filename=name,
        content_type=ctype,
        size=len(data),
        sha256=sha256_hex(data),
        text=None,
        text_error=f"attachment larger than the {cap}-byte cap; not extracted",
        capped=True,
        source=source,
    )


def _add_attachment(
    part: Message, ctype: str, name: str, source: str, walk: _Walk, body: _Body
) -> None:
    """Record one attachment leaf; a winmail.dat also yields the files inside it."""
    encoded = _encoded_payload(part)
    if len(encoded) > walk.cap:
        walk.attachments.append(_capped(name, ctype, encoded, source, walk.cap))
        return
    data = _decoded_payload(part)
    if ctype not in TNEF_TYPES and name.lower() != "winmail.dat":
        walk.attachments.append(
            _attachment(filename=name, content_type=ctype, data=data, source=source, cap=walk.cap)
        )
        return
    tnef_body, files, error = unpack_tnef(data)
    reason = error or f"TNEF container: {len(files)} file(s) unpacked as separate attachments"
    walk.attachments.append(
        ParsedAttachment(
            filename=name,
            content_type=ctype,
            size=len(data),
            sha256=sha256_hex(data),
            text=None,
            text_error=reason,
            source=source,
        )
    )
    if error:
        walk.defects.append(f"{name}: {error}")
    for inner_name, inner_data in files:
        inner_type = mimetypes.guess_type(inner_name)[0] or "application/octet-stream"
        walk.attachments.append(
            _attachment(
                filename=inner_name,
                content_type=inner_type,
                data=inner_data,
                source="tnef",
                cap=walk.cap,
            )
        )
    if tnef_body:
        body.tnef.append(_text(tnef_body))


def _embedded_message(part: Message, walk: _Walk) -> Message | None:
    """The message inside a ``message/rfc822`` part, re-parsed when it was transfer-encoded."""
    payload = part.get_payload()
    cte = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if inner is not None and cte not in ("base64", "quoted-printable"):
        return inner if isinstance(inner, Message) else None
    encoded = _serialize(inner) if inner is not None else _encoded_payload(part)
    try:
        if cte == "base64":
            data = base64.b64decode(b"".join(encoded.split()), validate=False)
        elif cte == "quoted-printable":
            data = quopri.decodestring(encoded)
        else:
            data = encoded
    except (binascii.Error, ValueError):
        walk.defects.append(f"{part.get_content_type()}: undecodable {cte} body; skipped")
        return None
    walk.defects.append(f"{part.get_content_type()} with {cte or 'no'} transfer encoding")
    return email.message_from_bytes(data, policy=email.policy.default)


def _forwarded(part: Message, walk: _Walk, body: _Body, depth: int) -> None:
    """Walk a forwarded message: its subject, its attachments (source rfc822) and its body."""
    inner = _embedded_message(part, walk)
    if inner is None:
        return
    prefix = "forwarded "
    hint = _charset_hint(inner)
    subject = _header_text(inner, "Subject", walk.defects, prefix, hint) or ""
    if subject:
        walk.forwarded_subjects.append(subject)
    lines = []
    for name in ("From", "Date", "Subject", "To"):
        value = _header_text(inner, name, walk.defects, prefix, hint)
        if value:
            lines.append(f"{name}: {value}")
    text = _render(inner, "rfc822", walk, depth + 1)
    body.forwarded.append("\n".join(lines) + ("\n\n" + text if text else ""))


def _walk_part(part: Message, source: str, walk: _Walk, body: _Body, depth: int) -> None:
    """Sort one part (and, recursively, its children) into body texts and attachments."""
    if depth > _MAX_DEPTH:
        walk.defects.append(f"MIME nesting deeper than {_MAX_DEPTH} levels; inner parts skipped")
        return
    ctype = _content_type(part, walk.defects)
    maintype = ctype.split("/", 1)[0]
    if ctype in _EMBEDDED_MESSAGE_TYPES:
        _forwarded(part, walk, body, depth)
    elif part.is_multipart() and maintype == "multipart":
        for child in part.get_payload():
            _walk_child(child, source, walk, body, depth + 1)
    else:
        walk.leaves += 1
        _leaf(part, ctype, source, walk, body)
    walk.defects.extend(type(d).__name__ for d in part.defects)


def _walk_child(child: object, source: str, walk: _Walk, body: _Body, depth: int) -> None:
    """``_walk_part`` for one child, turning any failure into a defect."""
    if not isinstance(child, Message):
        walk.defects.append(f"non-MIME item in a multipart ({type(child).__name__}); skipped")
        return
    try:
        _walk_part(child, source, walk, body, depth)
    except Exception as exc:
        kind = _content_type(child, [])
        walk.defects.append(f"{kind} part unreadable ({type(exc).__name__}: {exc}); skipped")


def _leaf(part: Message, ctype: str, source: str, walk: _Walk, body: _Body) -> None:
    """A part without children: a body text or an attachment."""
    maintype = ctype.split("/", 1)[0]
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    filename = _filename(part, walk.defects)
    attached = disposition == "attachment" or filename is not None
    if maintype == "multipart":
        walk.defects.append(f"{ctype} without a usable boundary; its body read as text")
        body.plain.append(_leaf_text(part, walk, ctype))
        return
    if maintype not in _KNOWN_MAINTYPES and not attached:
        walk.defects.append(f"unknown content type {ctype}; read as text")
        body.plain.append(_leaf_text(part, walk, ctype))
        return
    if ctype in ("text/plain", "text/html") and not attached:
        text = _leaf_text(part, walk, ctype)
        if ctype == "text/html":
            walk.html_present = True
            body.html.append(html_to_text(text))
        else:
            body.plain.append(text)
        return
    if ctype == "message/partial":
        walk.defects.append("message/partial fragment; not reassembled")
    name = filename or _generated_name(walk.leaves, ctype)
    _add_attachment(part, ctype, name, source, walk, body)


def _render(msg: Message, source: str, walk: _Walk, depth: int) -> str:
    """Walk ``msg`` and return its body text (forwarded messages appended)."""
    body = _Body()
    try:
        _walk_part(msg, source, walk, body, depth)
    except Exception as exc:
        walk.defects.append(f"message structure unreadable ({type(exc).__name__}: {exc})")
    return body.render()


# ---------------------------------------------------------------- entry point


def _normalize_header_names(raw: bytes) -> bytes | None:
    """``raw`` with obsolete ``Name  : value`` header lines rewritten as ``Name: value``;
    None when the header block has none."""
    parts = re.split(rb"(\r?\n\r?\n)", raw, maxsplit=1)
    head, rest = parts[0], b"".join(parts[1:])
    if not _OBS_FIELD_NAME.search(head):
        return None
    return _OBS_FIELD_NAME.sub(rb"\1:", head) + rest


def _load(raw: bytes) -> tuple[Message, list[str]]:
    """The stdlib's parse of ``raw``; raises UnparseableMessage when there are no headers.

    Three repairs are tried before giving up: a leading UTF-8 byte-order mark is dropped,
    leading blank lines are dropped, and obsolete whitespace before a header colon is removed.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise UnparseableMessage(f"expected the message's bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if not raw:
        raise UnparseableMessage("empty message (0 bytes)")
    if not raw.strip():
        raise UnparseableMessage(f"message holds only whitespace ({len(raw)} bytes)")
    defects: list[str] = []
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
        defects.append("UTF-8 byte-order mark before the headers; removed")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not msg.keys() and raw[:1].isspace():
        raw = raw.lstrip()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        defects.append("blank lines before the headers; removed")
    normalized = _normalize_header_names(raw)
    if normalized is not None:
        msg = email.message_from_bytes(normalized, policy=email.policy.default)
        defects.append("whitespace between header names and colons (obsolete syntax); removed")
    if not msg.keys():
        first = raw.lstrip().splitlines()[0][:80].decode("utf-8", "replace").strip()
        raise UnparseableMessage(
            f"no RFC 5322 headers found: first line is {first!r} ({len(raw)} bytes)"
        )
    return msg, defects


def _parse(raw: bytes, cap: int) -> ParsedMessage:
    msg, early_defects = _load(raw)
    walk = _Walk(cap=cap, defects=early_defects)
    d = walk.defects
    hint = _charset_hint(msg)
    senders = _addresses(msg, "From", d, hint=hint) or _addresses(msg, "Sender", d, hint=hint)
    if len(_raw_values(msg, "Subject")) > 1:
        d.append("Subject: several Subject headers; kept the first")
    subject = _header_text(msg, "Subject", d, hint=hint) or ""
    message_id = _message_id(_header_text(msg, "Message-ID", d))
    in_reply_to = _message_id(_header_text(msg, "In-Reply-To", d))
    to = tuple(_addresses(msg, "To", d, hint=hint))
    cc = tuple(_addresses(msg, "Cc", d, hint=hint))
    date = _date(msg, d)
    body_text = _render(msg, "mime", walk, 0).strip()
    return ParsedMessage(
        message_id=message_id,
        subject=subject,
        sender=senders[0] if senders else None,
        to=to,
        cc=cc,
        date=date,
        in_reply_to=in_reply_to,
        body_text=body_text,
        body_html_present=walk.html_present,
        attachments=tuple(walk.attachments),
        forwarded_subjects=tuple(walk.forwarded_subjects),
        defects=tuple(dict.fromkeys(walk.defects)),
    )


def parse_message(
    raw: bytes, *, attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES
) -> ParsedMessage:
    """Parse one message's raw bytes into a ``ParsedMessage``.

    Attachments whose encoded size exceeds ``attachment_max_bytes`` are neither decoded nor
    extracted (``capped=True``). Raises ``UnparseableMessage`` (and nothing else) when the
    bytes hold no message: empty input, only whitespace, or no header at all.
    """
    try:
        return _parse(raw, attachment_max_bytes)
    except UnparseableMessage:
        raise
    except RecursionError as exc:
        raise UnparseableMessage(
            "MIME structure nested too deeply for the parser (RecursionError)"
        ) from exc
    except Exception as exc:
        raise UnparseableMessage(
            f"message could not be parsed: {type(exc).__name__}: {exc}"
        ) from exc
