"""Walking a message's MIME tree: each part becomes a body text, an attachment or a
forwarded message, and a part that cannot be read costs only itself (noted as a defect).

Body selection happens per message level (see ``BodyTexts.render``): plain text wins over
HTML, HTML over a TNEF body, and forwarded messages follow their own headers and body.
"""

from __future__ import annotations

from email.message import Message

from ingest_pipeline.parsing.html_text import html_to_text
from ingest_pipeline.parsing.mime_attachments import add_attachment
from ingest_pipeline.parsing.mime_charsets import charset_hint
from ingest_pipeline.parsing.mime_headers import header_text
from ingest_pipeline.parsing.mime_part_headers import (
    EMBEDDED_MESSAGE_TYPES,
    content_type,
    filename,
    generated_filename,
)
from ingest_pipeline.parsing.mime_payload import embedded_message, leaf_text
from ingest_pipeline.parsing.mime_walk_state import BodyTexts, WalkState

_MAX_DEPTH = 30  # MIME nesting deeper than this is skipped (and noted as a defect)
_KNOWN_MAINTYPES = (
    *("text", "image", "audio", "video", "application", "multipart", "message", "font", "model"),
)


def render_body(msg: Message, source: str, walk: WalkState, depth: int) -> str:
    """Walk ``msg`` and return its body text (forwarded messages appended).

    ``source`` labels the attachments found ("mime" at the top, "rfc822" inside a
    forwarded message); ``depth`` is the MIME nesting level ``msg`` sits at.
    """
    body = BodyTexts()
    try:
        _walk_part(msg, source, walk, body, depth)
    except Exception as exc:
        walk.defects.append(f"message structure unreadable ({type(exc).__name__}: {exc})")
    return body.render()


def _walk_part(part: Message, source: str, walk: WalkState, body: BodyTexts, depth: int) -> None:
    """Sort one part (and, recursively, its children) into body texts and attachments."""
    if depth > _MAX_DEPTH:
        walk.defects.append(f"MIME nesting deeper than {_MAX_DEPTH} levels; inner parts skipped")
        return
    ctype = content_type(part, walk.defects)
    maintype = ctype.split("/", 1)[0]
    if ctype in EMBEDDED_MESSAGE_TYPES:
        _forwarded(part, walk, body, depth)
    elif part.is_multipart() and maintype == "multipart":
        for child in part.get_payload():
            _walk_child(child, source, walk, body, depth + 1)
    else:
        walk.leaves += 1
        _leaf(part, ctype, source, walk, body)
    walk.defects.extend(type(d).__name__ for d in part.defects)


def _walk_child(child: object, source: str, walk: WalkState, body: BodyTexts, depth: int) -> None:
    """``_walk_part`` for one child, turning any failure into a defect."""
    if not isinstance(child, Message):
        walk.defects.append(f"non-MIME item in a multipart ({type(child).__name__}); skipped")
        return
    try:
        _walk_part(child, source, walk, body, depth)
    except Exception as exc:
        kind = content_type(child, [])
        walk.defects.append(f"{kind} part unreadable ({type(exc).__name__}: {exc}); skipped")


def _leaf(part: Message, ctype: str, source: str, walk: WalkState, body: BodyTexts) -> None:
    """A part without children: a body text or an attachment."""
    maintype = ctype.split("/", 1)[0]
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    name = filename(part, walk.defects)
    attached = disposition == "attachment" or name is not None
    if maintype == "multipart":
        walk.defects.append(f"{ctype} without a usable boundary; its body read as text")
        body.plain.append(leaf_text(part, walk.defects, ctype))
        return
    if maintype not in _KNOWN_MAINTYPES and not attached:
        walk.defects.append(f"unknown content type {ctype}; read as text")
        body.plain.append(leaf_text(part, walk.defects, ctype))
        return
    if ctype in ("text/plain", "text/html") and not attached:
        text = leaf_text(part, walk.defects, ctype)
        if ctype == "text/html":
            walk.html_present = True
            body.html.append(html_to_text(text))
        else:
            body.plain.append(text)
        return
    if ctype == "message/partial":
        walk.defects.append("message/partial fragment; not reassembled")
    attachment_name = name or generated_filename(walk.leaves, ctype)
    add_attachment(part, ctype, attachment_name, source, walk, body)


def _forwarded(part: Message, walk: WalkState, body: BodyTexts, depth: int) -> None:
    """Walk a forwarded message: its subject, its attachments (source rfc822) and its body."""
    inner = embedded_message(part, walk.defects)
    if inner is None:
        return
    prefix = "forwarded "
    hint = charset_hint(inner)
    subject = header_text(inner, "Subject", walk.defects, prefix, hint) or ""
    if subject:
        walk.forwarded_subjects.append(subject)
    lines = []
    for name in ("From", "Date", "Subject", "To"):
        value = header_text(inner, name, walk.defects, prefix, hint)
        if value:
            lines.append(f"{name}: {value}")
    text = render_body(inner, "rfc822", walk, depth + 1)
    body.forwarded.append("\n".join(lines) + ("\n\n" + text if text else ""))
