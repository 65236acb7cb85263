"""Tables of the prompt-runs stream: the prompts of each prompt set, the answers each day's
runs got, the entity mentions in them, and the daily aggregate the UI plots."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ingest_pipeline.store.models import JSON, Base, utcnow
from ingest_pipeline.store.types import UTCDateTime


class Prompt(Base):
    """One prompt of a prompt set (a ``prompts`` integration, ``integration_id``).

    Every UTC day each active prompt is asked ``runs_per_day`` times of each model in
    ``models`` (names from the models registry). ``name`` is unique in its set; ``owner``
    is whoever added it, ``tenant_id`` the set's tenant. Disabling keeps the row and every
    answer it got; only the days enumerated afterwards leave it out.
    """

    __tablename__ = "prompts"
    __table_args__ = (sa.UniqueConstraint("integration_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    owner: Mapped[str | None] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    models: Mapped[list[str]] = mapped_column(JSON)
    runs_per_day: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PromptAnswer(Base):
    """One run's answer: prompt × model × run index on one batch day (the ledger item
    ``source_item_id``, external id ``external_id``).

    ``model`` is the model the prompt asked for; ``answered_by`` the model that answered
    (``offline-rules-1`` when no LLM was called); ``path`` how the answer's shape was
    enforced: ``structured`` (strict JSON schema), ``json_mode`` (JSON mode plus
    validation: the fallback for models without structured outputs) or ``offline``.
    ``latency_ms`` is the call's wall time (None for a cached or offline answer).
    """

    __tablename__ = "prompt_answers"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "external_id"),
        sa.Index("ix_prompt_answers_day", "integration_id", "batch_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    external_id: Mapped[str] = mapped_column(sa.String(255))
    source_item_id: Mapped[int] = mapped_column(sa.ForeignKey("ingest_items.id"))
    batch_day: Mapped[dt.date] = mapped_column(sa.Date)
    prompt_id: Mapped[int] = mapped_column(sa.ForeignKey("prompts.id"))
    model: Mapped[str] = mapped_column(sa.String(128))
    run_index: Mapped[int]
    answered_by: Mapped[str] = mapped_column(sa.String(128))
    path: Mapped[str] = mapped_column(sa.String(16))
    answer: Mapped[str] = mapped_column(sa.Text)
    extraction_id: Mapped[int] = mapped_column(sa.ForeignKey("llm_extractions.id"))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    latency_ms: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EntityMention(Base):
    """A named entity one answer mentions: as written (``name``), its ``entity_type``, the
    normalised entity it counts as (``entity``, see `entity_names.normalize_entity`), and
    the character offset of its first occurrence in the answer (None when the model named
    something its answer does not contain). ``ordinal`` orders the answer's mentions."""

    __tablename__ = "entity_mentions"
    __table_args__ = (
        sa.UniqueConstraint("answer_id", "ordinal"),
        sa.Index("ix_entity_mentions_day", "integration_id", "batch_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("prompt_answers.id"))
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    batch_day: Mapped[dt.date] = mapped_column(sa.Date)
    prompt_id: Mapped[int] = mapped_column(sa.ForeignKey("prompts.id"))
    model: Mapped[str] = mapped_column(sa.String(128))
    ordinal: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(300))
    entity_type: Mapped[str] = mapped_column(sa.String(32))
    entity: Mapped[str] = mapped_column(sa.String(300))
    position: Mapped[int | None]


class EntityMentionsDaily(Base):
    """Mentions per entity × model × batch day of one prompt set (the derived asset
    ``derived/prompt_runs/entity_mentions_daily``): how many mentions, in how many answers
    and of how many prompts; ``display_name`` is the entity's most common written form."""

    __tablename__ = "entity_mentions_daily"

    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"), primary_key=True)
    batch_day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    model: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    entity: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    display_name: Mapped[str] = mapped_column(sa.String(300))
    mentions: Mapped[int]
    answers: Mapped[int]
    prompts: Mapped[int]
