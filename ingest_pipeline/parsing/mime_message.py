"""Raw RFC 5322 / MIME bytes to a ``ParsedMessage``, tolerating the mail real mailboxes hold.

The stdlib parser (``policy=default``) does the parsing; this module reads its result
defensively. A header, charset or part that cannot be read costs only itself: it is decoded a
simpler way or skipped, and a short note goes to ``ParsedMessage.defects``. The only exception
that leaves ``parse_message`` is ``UnparseableMessage``, for bytes that hold no message at all.

This module loads the bytes and assembles the result; the reading is done by its siblings:
``mime_headers`` (top-level headers), ``mime_parts`` (the walk over the MIME tree, with
``mime_part_headers``, ``mime_payload`` and ``mime_attachments``) and ``mime_charsets``.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import re
from email.message import Message

from ingest_pipeline.domain import ParsedMessage
from ingest_pipeline.parsing.mime_automation import automation_markers, references
from ingest_pipeline.parsing.mime_charsets import charset_hint
from ingest_pipeline.parsing.mime_headers import (
    first_message_id,
    header_addresses,
    header_date,
    header_text,
    raw_values,
)
from ingest_pipeline.parsing.mime_parts import render_body
from ingest_pipeline.parsing.mime_walk_state import FORWARD_MARKER, WalkState

__all__ = ["DEFAULT_ATTACHMENT_MAX_BYTES", "FORWARD_MARKER", "UnparseableMessage", "parse_message"]

DEFAULT_ATTACHMENT_MAX_BYTES = 10_000_000
# A header line in obsolete syntax (RFC 5322 4.5.3): whitespace between name and colon.
_OBS_FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]+:", re.MULTILINE)


class UnparseableMessage(Exception):
    """The bytes hold no usable mail message; ``str(exc)`` is a reason a person can act on."""


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
    """``raw`` parsed with attachments over ``cap`` encoded bytes left unextracted."""
    msg, early_defects = _load(raw)
    walk = WalkState(cap=cap, defects=early_defects)
    d = walk.defects
    hint = charset_hint(msg)
    senders = header_addresses(msg, "From", d, hint=hint)
    senders = senders or header_addresses(msg, "Sender", d, hint=hint)
    if len(raw_values(msg, "Subject")) > 1:
        d.append("Subject: several Subject headers; kept the first")
    subject = header_text(msg, "Subject", d, hint=hint) or ""
    message_id = first_message_id(header_text(msg, "Message-ID", d))
    in_reply_to = first_message_id(header_text(msg, "In-Reply-To", d))
    to = tuple(header_addresses(msg, "To", d, hint=hint))
    cc = tuple(header_addresses(msg, "Cc", d, hint=hint))
    date = header_date(msg, d)
    body_text = render_body(msg, "mime", walk, 0).strip()
    return ParsedMessage(
        message_id=message_id,
        subject=subject,
        sender=senders[0] if senders else None,
        to=to,
        cc=cc,
        date=date,
        in_reply_to=in_reply_to,
        references=references(msg),
        automation=automation_markers(msg),
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
