"""Attachment leaves to ``ParsedAttachment`` records: size cap, text extraction, TNEF.

An attachment whose encoded size exceeds the walk's cap is recorded without being decoded or
extracted (``capped=True``). A TNEF container (winmail.dat) is recorded itself and also
yields each file inside it (source "tnef") and, when it carries one, a body text.
"""

from __future__ import annotations

import mimetypes
from email.message import Message

from ingest_pipeline.domain import ParsedAttachment, sha256_hex
from ingest_pipeline.parsing.attachment_text import TNEF_TYPES, attachment_text, unpack_tnef
from ingest_pipeline.parsing.mime_charsets import normalize_body_text
from ingest_pipeline.parsing.mime_payload import decoded_payload, encoded_payload
from ingest_pipeline.parsing.mime_walk_state import BodyTexts, WalkState


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
    """An attachment over the ``cap``: hashed and sized, but its text not extracted."""
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


def add_attachment(
    part: Message, ctype: str, name: str, source: str, walk: WalkState, body: BodyTexts
) -> None:
    """Record one attachment leaf; a winmail.dat also yields the files inside it."""
    encoded = encoded_payload(part)
    if len(encoded) > walk.cap:
        walk.attachments.append(_capped(name, ctype, encoded, source, walk.cap))
        return
    data = decoded_payload(part)
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
        body.tnef.append(normalize_body_text(tnef_body))
