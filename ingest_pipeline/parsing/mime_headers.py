"""Reading a message's headers, each with its own fallback when the stdlib cannot.

Every reader takes the defects list of the message being parsed: a header that the stdlib's
``policy=default`` cannot read is decoded from its raw value instead, and the trouble is noted
there (prefixed with the header name, and ``prefix`` such as "forwarded " when given).
``hint`` is the charset tried for raw 8-bit bytes that are not UTF-8 (see ``charset_hint``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from email.header import decode_header, make_header
from email.message import Message

from ingest_pipeline.domain import Address
from ingest_pipeline.parsing.mime_charsets import (
    CHARSET_ALIASES,
    charset_label,
    clean_text,
    codec_for,
    decode_bytes,
)

# A line break that continues a header on the next line (RFC 5322 folding).
HEADER_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?[bBqQ]\?[^?\s]*\?=")
_MSG_ID = re.compile(r"<\s*([^<>]*?)\s*>")


def raw_values(msg: Message, name: str) -> list[str]:
    """The values of header ``name`` exactly as stored, before any decoding."""
    wanted = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == wanted]


def decode_raw(raw: str, defects: list[str], where: str, hint: str | None = None) -> str:
    """A raw header value unfolded, 8-bit bytes and RFC 2047 encoded words decoded."""
    text = clean_text(HEADER_FOLD.sub("", raw), hint).replace("\r", "").replace("\n", " ")
    if "=?" not in text:
        return text.strip()
    try:
        return str(make_header(decode_header(text))).strip()
    except LookupError:
        try:
            chunks = decode_header(text)
            return "".join(
                decode_bytes(c, cs) if isinstance(c, bytes) else c for c, cs in chunks
            ).strip()
        except Exception:
            pass
    except Exception:
        pass
    defects.append(f"{where}: undecodable encoded word; kept raw")
    return text.strip()


def header_text(
    msg: Message, name: str, defects: list[str], prefix: str = "", hint: str | None = None
) -> str | None:
    """The decoded value of the first ``name`` header, or None when the header is absent."""
    where = f"{prefix}{name}"
    raws = raw_values(msg, name)
    if not raws:
        return None
    try:
        header = msg.get(name)
        text = None if header is None else str(header)
        defects.extend(f"{where}: {type(d).__name__}" for d in getattr(header, "defects", ()))
    except Exception as exc:
        defects.append(f"{where}: {type(exc).__name__} reading header; decoded the raw value")
        return decode_raw(raws[0], defects, where, hint)
    for charset in _ENCODED_WORD.findall(raws[0]):
        label = charset_label(charset.split("*", 1)[0])
        if codec_for(label) is None and label not in CHARSET_ALIASES:
            defects.append(f"{where}: unknown charset {label!r} in encoded word; read as utf-8")
    if text is None or "\ufffd" in text or any("\udc80" <= c <= "\udcff" for c in raws[0]):
        # Raw 8-bit header: the policy replaces its bytes; decode them ourselves.
        text = decode_raw(raws[0], defects, where, hint)
    else:
        text = clean_text(text, hint).strip()
    if _ENCODED_WORD.search(text):
        defects.append(f"{where}: undecodable encoded word; kept raw")
    return text


def header_addresses(
    msg: Message, name: str, defects: list[str], prefix: str = "", hint: str | None = None
) -> list[Address]:
    """Every mailbox in every ``name`` header (groups flattened); entries without an address
    are dropped."""
    where = f"{prefix}{name}"
    raws = raw_values(msg, name)
    if not raws:
        return []
    found: list[Address] = []
    try:
        for header in msg.get_all(name) or []:
            defects.extend(f"{where}: {type(d).__name__}" for d in getattr(header, "defects", ()))
            for addr in header.addresses:  # type: ignore[attr-defined]
                name_text, email_text = (
                    clean_text(addr.display_name, hint),
                    clean_text(addr.addr_spec, hint),
                )
                found.append(Address(name=name_text, email=email_text))
    except Exception as exc:
        defects.append(f"{where}: {type(exc).__name__} parsing addresses; used getaddresses")
        found = []
        unfolded = [clean_text(HEADER_FOLD.sub("", r), hint).replace("\n", " ") for r in raws]
        for display, addr in email.utils.getaddresses(unfolded):
            found.append(Address(name=decode_raw(display, defects, where), email=addr.strip()))
    return [a for a in found if a.email]


def first_message_id(text: str | None) -> str | None:
    """The first msg-id in ``text`` as ``<id>`` without whitespace, or None."""
    if not text:
        return None
    match = _MSG_ID.search(text)
    core = re.sub(r"\s+", "", match.group(1) if match else text).strip("<>")
    return f"<{core}>" if core else None


def header_date(msg: Message, defects: list[str]) -> dt.datetime | None:
    """The Date header as an aware UTC datetime; None (and a defect) when absent or garbage."""
    raws = raw_values(msg, "Date")
    if not raws:
        return None
    value: dt.datetime | None = None
    try:
        value = getattr(msg.get("Date"), "datetime", None)
    except Exception:
        value = None
    if value is None:
        try:
            value = email.utils.parsedate_to_datetime(clean_text(raws[0]).strip())
        except Exception:
            value = None
    try:
        if value is not None:
            if value.tzinfo is None:  # "-0000": time zone unknown, taken as UTC
                value = value.replace(tzinfo=dt.UTC)
            return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        pass
    defects.append(f"Date: unparseable value {clean_text(raws[0]).strip()[:60]!r}; date left empty")
    return None
