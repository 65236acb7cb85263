"""Row builders and batched upserts for messages, attachments and the job domain records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import ParsedMessage
from ingest_pipeline.store.models import (
    Attachment,
    Candidate,
    IngestItem,
    JobApplicationRow,
    JobPostingRow,
    Message,
)
from ingest_pipeline.store.upsert import UpsertResult, table_of, upsert


def message_key(message: ParsedMessage, content_hash: str) -> str:
    """Message-ID when the message has one, else its raw content hash."""
    return (message.message_id or f"sha256:{content_hash}")[:512]


def message_owners(
    session: Session, integration_id: int, keys: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """For each stored message key, the ledger item it was first stored from (id, external id)."""
    if not keys:
        return {}
    rows = session.execute(
        sa.select(Message.message_key, IngestItem.id, IngestItem.external_id)
        .join(IngestItem, IngestItem.id == Message.source_item_id)
        .where(Message.integration_id == integration_id, Message.message_key.in_(set(keys)))
    )
    return {key: (item_id, external_id) for key, item_id, external_id in rows}


def message_row(
    *,
    integration_id: int,
    item_id: int,
    key: str,
    message: ParsedMessage,
    content_hash: str,
    received_at: dt.datetime | None,
) -> dict[str, Any]:
    return {
        "integration_id": integration_id,
        "message_key": key,
        "source_item_id": item_id,
        "subject": message.subject,
        "sender_email": message.sender.email if message.sender else None,
        "sender_name": message.sender.name if message.sender else None,
        "recipients": [a.email for a in (*message.to, *message.cc)],
        "sent_at": message.date,
        "received_at": received_at,
        "body_text": message.body_text,
        "has_html": message.body_html_present,
        "defects": list(message.defects),
        "content_hash": content_hash,
    }


def attachment_rows(message_id: int, message: ParsedMessage) -> list[dict[str, Any]]:
    return [
        {
            "message_id": message_id,
            "ordinal": ordinal,
            "filename": a.filename,
            "content_type": a.content_type[:255],
            "size": a.size,
            "sha256": a.sha256,
            "text": a.text,
            "text_error": a.text_error,
            "capped": a.capped,
            "source": a.source,
        }
        for ordinal, a in enumerate(message.attachments)
    ]


def candidate_key(result: dict[str, Any]) -> str | None:
    """A candidate is identified by their first email, else by their name."""
    emails = [e.strip().lower() for e in result.get("emails") or [] if e and "@" in e]
    if emails:
        return emails[0][:320]
    name = (result.get("name") or "").strip().lower()
    return f"name:{name}"[:320] if name else None


def upsert_messages(session: Session, rows: list[dict[str, Any]]) -> UpsertResult:
    return upsert(session, table_of(Message), rows, keys=("integration_id", "message_key"))


def upsert_attachments(session: Session, rows: list[dict[str, Any]]) -> UpsertResult:
    return upsert(
        session, table_of(Attachment), rows, keys=("message_id", "ordinal"), id_column=None
    )


def upsert_job_postings(session: Session, rows: list[dict[str, Any]]) -> UpsertResult:
    return upsert(
        session,
        table_of(JobPostingRow),
        rows,
        keys=("integration_id", "message_id"),
        id_column=None,
    )


def upsert_candidates(session: Session, rows: list[dict[str, Any]]) -> UpsertResult:
    return upsert(session, table_of(Candidate), rows, keys=("tenant_id", "candidate_key"))


def upsert_applications(session: Session, rows: list[dict[str, Any]]) -> UpsertResult:
    return upsert(
        session,
        table_of(JobApplicationRow),
        rows,
        keys=("integration_id", "job_id", "candidate_id"),
        id_column=None,
    )
