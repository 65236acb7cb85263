"""A MIME part's body bytes: as transmitted, transfer-decoded, as text, or as a message.

Nothing here raises for a bad body: missing payloads read as empty, and trouble decoding an
embedded message is noted in the caller's defects list.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import quopri
from email.message import Message

from ingest_pipeline.parsing.mime_charsets import decode_bytes, normalize_body_text


def _serialize(sub: object) -> bytes:
    """A sub-message (or stray string) of a ``message/*`` part back to bytes; b"" if impossible."""
    try:
        if isinstance(sub, Message):
            return sub.as_bytes()
        return str(sub).encode("utf-8", "surrogateescape")
    except Exception:
        return b""


def encoded_payload(part: Message) -> bytes:
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


def decoded_payload(part: Message) -> bytes:
    """The part's body with its Content-Transfer-Encoding undone."""
    if isinstance(part.get_payload(), list):
        return encoded_payload(part)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def leaf_text(part: Message, defects: list[str], where: str) -> str:
    """A text leaf's body decoded with its charset (see ``decode_bytes``)."""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return normalize_body_text(decode_bytes(decoded_payload(part), charset, defects, where))


def embedded_message(part: Message, defects: list[str]) -> Message | None:
    """The message inside a ``message/rfc822`` part, re-parsed when it was transfer-encoded."""
    payload = part.get_payload()
    cte = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if inner is not None and cte not in ("base64", "quoted-printable"):
        return inner if isinstance(inner, Message) else None
    encoded = _serialize(inner) if inner is not None else encoded_payload(part)
    try:
        if cte == "base64":
            data = base64.b64decode(b"".join(encoded.split()), validate=False)
        elif cte == "quoted-printable":
            data = quopri.decodestring(encoded)
        else:
            data = encoded
    except (binascii.Error, ValueError):
        defects.append(f"{part.get_content_type()}: undecodable {cte} body; skipped")
        return None
    defects.append(f"{part.get_content_type()} with {cte or 'no'} transfer encoding")
    return email.message_from_bytes(data, policy=email.policy.default)
