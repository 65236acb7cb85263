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
    """A connected account's stream: where items come from and which extraction task runs.

    ``partition_key`` is the Dagster dynamic partition key (``<provider>-<id>``); ``stream``
    is the stream kind it yields (``mail``, ``contacts``, ``calendar_events``; one
    integration per account and stream); ``account`` is the provider's account (a mailbox
    path for the mailbox provider); ``task`` is the LLM extraction task, None for streams
    without one; ``options`` holds task and provider options such as ``job_id``;
    ``sync_state`` holds provider cursors (history ids, sync tokens); ``credentials`` is
    Fernet ciphertext, never plain text. ``probe_token`` is the provider's change token
    (`steps.change_probes`) the last successful scheduled run was launched with;
    ``probed_at``/``probe_error`` the latest probe and why it failed, if it did.
    """

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64), default="default")
    user_id: Mapped[str | None] = mapped_column(sa.String(128))
    provider: Mapped[str] = mapped_column(sa.String(32))
    stream: Mapped[str] = mapped_column(sa.String(32), default="mail")
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    partition_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    account: Mapped[str] = mapped_column(sa.Text)
    task: Mapped[str | None] = mapped_column(sa.String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    credentials: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    sync_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sync_frequency_minutes: Mapped[int] = mapped_column(default=15)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_sync_status: Mapped[str | None] = mapped_column(sa.String(16))
    last_sync_error: Mapped[str | None] = mapped_column(sa.Text)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    probe_token: Mapped[str | None] = mapped_column(sa.String(200))
    probed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    probe_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IngestItem(Base):
    """The ledger: one row per enumerated provider item, with the step it has reached.

    ``status`` is pending → processing → done | failed | skipped; ``step`` is none → fetched
    → parsed → extracted → persisted. ``last_error`` is the reason a person can act on for a
    failed or skipped item. ``content_hash`` addresses the raw bytes in ``raw_items``.
    ``partition_day`` is the UTC day of the partition that listed it (for snapshot streams
    such as contacts, `SNAPSHOT_DAY`: they have no day). ``version`` is the provider's
    version of a changeable item (a card's hash, an event's); a new version re-opens the
    item. ``duplicate_of`` is the item already stored with the same content, for items
    skipped as duplicates. ``run_id`` is the run that last claimed the item.
    """

    __tablename__ = "ingest_items"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "stream", "external_id"),
        sa.Index(
            "ix_ingest_items_stream_partition",
            "integration_id",
            "stream",
            "partition_day",
            "status",
        ),
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
    version: Mapped[str | None] = mapped_column(sa.String(128))
    duplicate_of: Mapped[int | None] = mapped_column(sa.ForeignKey("ingest_items.id"))
    extraction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("llm_extractions.id"))
    run_id: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# The partition day recorded for snapshot streams (contacts), which have no day.
SNAPSHOT_DAY = dt.date(1970, 1, 1)


class PartitionLease(Base):
    """Which run owns one partition of one stream, until when.

    A run takes the lease before it touches the partition's items and renews it while it
    works; another run may take it only once it has expired (the owner crashed). This makes
    "one run per partition" a database fact, whatever launched the runs.
    """

    __tablename__ = "partition_leases"

    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    partition_day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(64))
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


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
    """The extraction cache: one result per (content hash, task, model, prompt version).

    ``integration_id`` is the integration whose run paid for the call (None for results
    stored before spend was attributed); ``cost_usd`` with ``created_at`` is what the daily
    LLM budgets count.
    """

    __tablename__ = "llm_extractions"
    __table_args__ = (
        sa.UniqueConstraint("content_hash", "task", "model", "prompt_version"),
        sa.Index("ix_llm_extractions_created_at_integration", "created_at", "integration_id"),
    )

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
    integration_id: Mapped[int | None] = mapped_column(sa.Integer)
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
    """A person who applied; ``candidate_key`` is the lowercased email (or ``name:<name>``).

    ``preferred_roles`` are the roles the candidate is looking for, as the application
    stores them ("Data Engineer"); mail integrations with keyword search list only messages
    that mention the tenant's most wanted ones (`search_keywords`).
    """

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
    preferred_roles: Mapped[list[str] | None] = mapped_column(JSON)


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


class Contact(Base):
    """One person in a tenant's contacts, however many sources describe them.

    ``contact_key`` is how the person was first identified: ``email:<address>``,
    ``phone:<E.164>``, or ``source:<integration id>:<external id>`` for a card with
    neither. Cards from any source that share a normalised email (then an E.164 phone) are
    the same contact; a name alone never merges two people. ``emails`` and ``phones`` are
    the union of what the sources say; ``deleted`` is true when every source deleted it.
    """

    __tablename__ = "contacts"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "contact_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    contact_key: Mapped[str] = mapped_column(sa.String(400))
    display_name: Mapped[str] = mapped_column(sa.Text)
    given_name: Mapped[str | None] = mapped_column(sa.Text)
    family_name: Mapped[str | None] = mapped_column(sa.Text)
    emails: Mapped[list[str]] = mapped_column(JSON)
    phones: Mapped[list[str]] = mapped_column(JSON)
    organization: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str | None] = mapped_column(sa.Text)
    deleted: Mapped[bool] = mapped_column(default=False)
    seen_in_mail: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """True when the person was found in mail headers (created there or also there)."""


class ContactIdentity(Base):
    """An identity that names one contact in a tenant: ``email:<address>`` or
    ``phone:<E.164>``. Unique, so every source's card with that email or phone finds the
    same contact."""

    __tablename__ = "contact_identities"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    identity: Mapped[str] = mapped_column(sa.String(400))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"))


class ContactSuggestion(Base):
    """Two contacts that may be one person: their names match but no email or phone
    links them, so they stay two until a person merges them (a name only suggests)."""

    __tablename__ = "contact_suggestions"
    __table_args__ = (sa.UniqueConstraint("contact_id", "similar_contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"))
    similar_contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"))
    reason: Mapped[str] = mapped_column(sa.Text)


class ContactSourceRow(Base):
    """What one source (an integration's card or person) says about a contact.

    Unique per (integration, external id); ``source_item_id`` is the ledger item it was
    last imported from; ``data`` is the parsed card; ``content_hash`` its raw bytes'.
    """

    __tablename__ = "contact_sources"
    __table_args__ = (sa.UniqueConstraint("integration_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"))
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    external_id: Mapped[str] = mapped_column(sa.String(255))
    source_item_id: Mapped[int] = mapped_column(sa.ForeignKey("ingest_items.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    deleted: Mapped[bool] = mapped_column(default=False)


class ImportedContact(Base):
    """What one import did with one card: ``created``, ``updated`` or ``skipped`` (the
    seed's per-job counts), with the run and, when skipped, why."""

    __tablename__ = "imported_contacts"
    __table_args__ = (sa.UniqueConstraint("run_id", "source_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(64))
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    source_item_id: Mapped[int] = mapped_column(sa.ForeignKey("ingest_items.id"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    action: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Interaction(Base):
    """One person taking part in one thing the account did: a meeting (``kind='meeting'``,
    role ``organizer`` or ``attendee``) or, later, an email.

    ``email`` is the person's normalised address; ``contact_id`` the tenant's contact
    owning it, filled when the contact exists (at import of either side); ``external_id``
    is the source item's key in its integration and stream, so a re-import updates the same
    rows and a person dropped from the meeting loses theirs. ``cancelled`` follows the
    meeting.
    """

    __tablename__ = "interactions"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "stream", "external_id", "email"),
        sa.Index("ix_interactions_tenant_email", "tenant_id", "email"),
        sa.Index("ix_interactions_contact", "contact_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    stream: Mapped[str] = mapped_column(sa.String(32))
    external_id: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str] = mapped_column(sa.String(320))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    role: Mapped[str] = mapped_column(sa.String(16))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(sa.Text)
    cancelled: Mapped[bool] = mapped_column(default=False)
    direction: Mapped[str | None] = mapped_column(sa.String(16))
    """Mail: ``outbound`` when the account sent it, else ``inbound``; None for meetings."""
    thread_key: Mapped[str | None] = mapped_column(sa.String(512))
    """Mail: the thread's root msg-id (References, In-Reply-To, else the message's own)."""
    automated: Mapped[str | None] = mapped_column(sa.Text)
    """Why this is not a relationship (bounce, auto-reply, list mail, role account), if so."""
    display_name: Mapped[str | None] = mapped_column(sa.Text)
    """The person's name as the message or meeting gave it, cleaned."""


class CalendarEvent(Base):
    """One occurrence of a calendar event, on the UTC day it starts.

    Unique per (integration, external id), the id keeping the occurrence's original start,
    so a moved occurrence is one row that moves, and a cancelled one stays, marked
    ``status='cancelled'``. ``attendees`` and ``organizer_email`` are kept for linking
    contacts; ``all_day`` events start at UTC midnight of their date.
    """

    __tablename__ = "calendar_events"
    __table_args__ = (sa.UniqueConstraint("integration_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    external_id: Mapped[str] = mapped_column(sa.String(255))
    source_item_id: Mapped[int] = mapped_column(sa.ForeignKey("ingest_items.id"))
    uid: Mapped[str] = mapped_column(sa.String(512))
    recurrence_id: Mapped[str | None] = mapped_column(sa.String(64))
    summary: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text)
    location: Mapped[str] = mapped_column(sa.Text)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    all_day: Mapped[bool]
    timezone: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16))
    organizer_email: Mapped[str | None] = mapped_column(sa.String(320))
    attendees: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    sequence: Mapped[int] = mapped_column(default=0)
    content_hash: Mapped[str] = mapped_column(sa.String(64))


class EmbeddingVector(Base):
    """One text's vector from one embeddings model, keyed by the text's sha256 and the
    model's label: the cache that makes a re-run (or the same text elsewhere) free.
    ``vector`` is little-endian float32, L2-normalised, ``dims`` long."""

    __tablename__ = "embedding_vectors"

    content_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    model: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    dims: Mapped[int]
    vector: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmbeddingRow(Base):
    """Which vector stands for one message, job posting or candidate (``kind`` and
    ``ref_id``, the row's id) of a tenant under one model: search and matching read these."""

    __tablename__ = "embeddings"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "kind", "ref_id", "model"),
        sa.Index("ix_embeddings_tenant_model", "tenant_id", "model"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    ref_id: Mapped[int]
    model: Mapped[str] = mapped_column(sa.String(200))
    content_hash: Mapped[str] = mapped_column(sa.String(64))


class TimelineEvent(Base):
    """One dated thing on a person's timeline: an email in or out, a meeting, an
    application, a posting, with a short label. Keyed by the person's address (so a contact
    imported later sees their past), the source item and what happened."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "stream", "external_id", "email", "kind"),
        sa.Index("ix_timeline_events_tenant_email", "tenant_id", "email", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    email: Mapped[str] = mapped_column(sa.String(320))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(sa.String(16))
    label: Mapped[str] = mapped_column(sa.Text)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    stream: Mapped[str] = mapped_column(sa.String(32))
    external_id: Mapped[str] = mapped_column(sa.String(255))


class ContactInsight(Base):
    """A short summary of the recent relationship with one contact and the next step,
    from the relationship-insight task over their last interactions (``extraction_id``
    names the cached result; ``model`` says whether an LLM or the offline rules wrote it)."""

    __tablename__ = "contact_insights"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"))
    summary: Mapped[str] = mapped_column(sa.Text)
    next_step: Mapped[str | None] = mapped_column(sa.Text)
    model: Mapped[str] = mapped_column(sa.String(200))
    extraction_id: Mapped[int] = mapped_column(sa.ForeignKey("llm_extractions.id"))
    interactions: Mapped[int]
    last_interaction_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# The prompt-runs stream's tables live in their own module; imported here so that
# `Base.metadata` (migrations, tests) always holds them.
from ingest_pipeline.store import prompt_models as _prompt_models  # noqa: E402, F401
