"""The app database's tables. Every table a step writes has a unique key, so writes are upserts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ingest_pipeline.store.types import UTCDateTime

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Integration(Base):
    """A connected account: where items come from and which extraction task runs on them.

    ``partition_key`` is the Dagster dynamic partition key (``<provider>-<id>``); ``account``
    is the provider's account (a mailbox path for the mailbox provider); ``options`` holds
    task options such as ``job_id``; ``sync_state`` holds provider cursors (history ids, sync
    tokens); ``credentials`` is Fernet ciphertext, never plain text.
    """

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64), default="default")
    user_id: Mapped[str | None] = mapped_column(sa.String(128))
    provider: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    partition_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    account: Mapped[str] = mapped_column(sa.Text)
    task: Mapped[str] = mapped_column(sa.String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    credentials: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    sync_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sync_frequency_minutes: Mapped[int] = mapped_column(default=15)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_sync_status: Mapped[str | None] = mapped_column(sa.String(16))
    last_sync_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IngestItem(Base):
    """The ledger: one row per enumerated provider item, with the step it has reached.

    ``status`` is pending → processing → done | failed | skipped; ``step`` is none → fetched
    → parsed → extracted → persisted. ``last_error`` is the reason a person can act on for a
    failed or skipped item. ``content_hash`` addresses the raw bytes in ``raw_items``.
    """

    __tablename__ = "ingest_items"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "stream", "external_id"),
        sa.Index("ix_ingest_items_partition", "integration_id", "partition_day", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    stream: Mapped[str] = mapped_column(sa.String(32))
    external_id: Mapped[str] = mapped_column(sa.String(255))
    partition_day: Mapped[dt.date] = mapped_column(sa.Date)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    step: Mapped[str] = mapped_column(sa.String(16), default="none")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    extraction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("llm_extractions.id"))
    run_id: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PartitionCursor(Base):
    """Where enumeration of one integration-day stopped; ``complete`` once every page was listed."""

    __tablename__ = "partition_cursors"

    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    partition_day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    cursor: Mapped[str | None] = mapped_column(sa.Text)
    complete: Mapped[bool] = mapped_column(default=False)


class RawItemBlob(Base):
    """Raw provider bytes, content-addressed by sha256: a duplicate download is stored once."""

    __tablename__ = "raw_items"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class ParsedItemRow(Base):
    """A raw item's parse result as JSON, keyed by the raw content hash and parser version."""

    __tablename__ = "parsed_items"

    content_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    parser_version: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class Message(Base):
    """An imported email. ``message_key`` is its RFC 5322 Message-ID, or ``sha256:<hash>``
    when it has none, so one message delivered twice is stored once."""

    __tablename__ = "messages"
    __table_args__ = (sa.UniqueConstraint("integration_id", "message_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    message_key: Mapped[str] = mapped_column(sa.String(512))
    source_item_id: Mapped[int] = mapped_column(sa.ForeignKey("ingest_items.id"))
    subject: Mapped[str] = mapped_column(sa.Text)
    sender_email: Mapped[str | None] = mapped_column(sa.String(320))
    sender_name: Mapped[str | None] = mapped_column(sa.Text)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    body_text: Mapped[str] = mapped_column(sa.Text)
    has_html: Mapped[bool]
    defects: Mapped[list[str]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(sa.String(64))


class Attachment(Base):
    """One attachment of a message, with its extracted text or the reason there is none."""

    __tablename__ = "attachments"
    __table_args__ = (sa.UniqueConstraint("message_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id"))
    ordinal: Mapped[int]
    filename: Mapped[str] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    text: Mapped[str | None] = mapped_column(sa.Text)
    text_error: Mapped[str | None] = mapped_column(sa.Text)
    capped: Mapped[bool]
    source: Mapped[str] = mapped_column(sa.String(16))


class LlmExtraction(Base):
    """The extraction cache: one result per (content hash, task, model, prompt version)."""

    __tablename__ = "llm_extractions"
    __table_args__ = (sa.UniqueConstraint("content_hash", "task", "model", "prompt_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    task: Mapped[str] = mapped_column(sa.String(64))
    model: Mapped[str] = mapped_column(sa.String(128))
    prompt_version: Mapped[str] = mapped_column(sa.String(32))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    request_id: Mapped[str | None] = mapped_column(sa.String(128))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobPostingRow(Base):
    """A job requirement found in a recruiter's email (one per message)."""

    __tablename__ = "job_postings"
    __table_args__ = (sa.UniqueConstraint("integration_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id"))
    extraction_id: Mapped[int] = mapped_column(sa.ForeignKey("llm_extractions.id"))
    title: Mapped[str | None] = mapped_column(sa.Text)
    company: Mapped[str | None] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.Text)
    remote: Mapped[bool | None]
    skills: Mapped[list[str]] = mapped_column(JSON)
    rate: Mapped[str | None] = mapped_column(sa.Text)
    contact: Mapped[str | None] = mapped_column(sa.Text)
    confidence: Mapped[float]


class Candidate(Base):
    """A person who applied; ``candidate_key`` is the lowercased email (or ``name:<name>``)."""

    __tablename__ = "candidates"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "candidate_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    candidate_key: Mapped[str] = mapped_column(sa.String(320))
    name: Mapped[str | None] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.String(320))
    phones: Mapped[list[str]] = mapped_column(JSON)
    location: Mapped[str | None] = mapped_column(sa.Text)
    skills: Mapped[list[str]] = mapped_column(JSON)
    years_experience: Mapped[float | None]
    links: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(sa.Text)


class JobApplicationRow(Base):
    """A candidate's application to the integration's job (``job_id`` is the app's job id)."""

    __tablename__ = "job_applications"
    __table_args__ = (sa.UniqueConstraint("integration_id", "job_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    job_id: Mapped[int]
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id"))
    extraction_id: Mapped[int] = mapped_column(sa.ForeignKey("llm_extractions.id"))
    confidence: Mapped[float]


class Notification(Base):
    """Something a person must act on, e.g. "reconnect your Gmail account"."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    kind: Mapped[str] = mapped_column(sa.String(64))
    message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LlmBatch(Base):
    """An OpenAI Batch API job holding one partition's extractions (half price, up to 24 h).

    ``requests`` maps each request's ``custom_id`` to the content hash it extracts;
    ``status`` is ``submitted`` until the batch sensor finds it ``collected`` (results in
    the cache) or ``fallback`` (failed or expired: the partition extracts directly).
    """

    __tablename__ = "llm_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_batch_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    input_file_id: Mapped[str] = mapped_column(sa.String(128))
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    partition_day: Mapped[dt.date] = mapped_column(sa.Date)
    task: Mapped[str] = mapped_column(sa.String(64))
    model: Mapped[str] = mapped_column(sa.String(128))
    prompt_version: Mapped[str] = mapped_column(sa.String(32))
    requests: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default="submitted")
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
