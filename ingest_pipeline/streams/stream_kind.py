"""The contract a stream kind fulfils: what differs between mail, contacts and events.

The five steps (`ingest_pipeline.steps`) are written once over the ledger; a kind supplies
its parser, the input its LLM task reads (if it has a task), its persist, and what its
checks compare. A kind knows nothing of Dagster or of providers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.store.models import IngestItem


class UnparseableItem(ValueError):
    """Raw bytes a kind's parser cannot use; the message is the reason a person reads."""


@dataclass(frozen=True)
class ParseOptions:
    """Settings the parsers read: the attachment size cap (mail) and the region phone
    numbers without a country code belong to (contacts)."""

    attachment_max_bytes: int = 10_000_000
    default_phone_region: str | None = None


@dataclass(frozen=True)
class PersistBatch:
    """One claimed batch for a kind's persist: its items with their parse results (by raw
    content hash) and extraction results (by extraction id), and whose they are."""

    items: Sequence[IngestItem]
    parsed: Mapping[str, dict[str, Any]]
    results: Mapping[int, dict[str, Any]]
    integration_id: int
    tenant_id: str
    options: Mapping[str, Any]
    run_id: str
    task: TaskSpec | None
    min_confidence: float


@dataclass
class PersistOutcome:
    """What a kind's persist did with a batch: ledger updates (one per item, each ending
    it with `ledger.finish`) and counts (``<table>_inserted``/``_updated``, ``items_*``)."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


class StreamKind(Protocol):
    """What one kind of item needs beyond the shared five steps."""

    name: str
    """The stream's name: the ledger's ``stream``, the asset ``ingest/<name>``."""
    dated: bool
    """True: partitioned by UTC day × integration; False: by integration (a snapshot)."""
    looks_ahead: bool
    """True when items sit on future days (meetings): the date dimension then runs
    ``INGEST_CALENDAR_LOOKAHEAD_DAYS`` past today and a nightly run re-lists those days."""
    parser_version: str
    """Changes when the parser's output changes, so stored parse results are redone."""
    description: str
    default_task: str | None
    """The LLM task a new integration of this stream runs, if any."""
    llm_attempts: int
    """How many runs ask the LLM for one item before a failed answer fails the item (each
    failure before that leaves it pending with the reason, for the next run)."""
    per_item_model: bool
    """True when each item names the model that answers it (prompt runs): the gpt step then
    routes through the models registry instead of the run's one extractor."""
    schedule: str
    """``frequent``: the current partition every 15 minutes (by each integration's
    frequency) and yesterday's nightly; ``midnight``: today's partition at 00:00 UTC, with
    yesterday's when it still has items waiting."""

    def parse(self, data: bytes, options: ParseOptions) -> dict[str, Any]:
        """The raw bytes as the kind's record (JSON); raises `UnparseableItem`."""
        ...

    def task_input(self, parsed: dict[str, Any], task: TaskSpec) -> ExtractionInput:
        """The text the LLM task reads from one parsed record."""
        ...

    def persist(self, session: Session, batch: PersistBatch) -> PersistOutcome:
        """Upsert the batch's domain records; one ledger update per item."""
        ...

    def stored_item_ids(self) -> sa.Select[tuple[int]]:
        """The ledger item ids that a domain record of this kind was stored from."""
        ...

    def hidden_duplicates(self, session: Session, integration_id: int) -> dict[str, list[str]]:
        """Duplicates the unique keys cannot see (the same message under two keys, the same
        person as two contacts), by what they are, with examples; empty when none."""
        ...

    def produced_per_day(
        self, session: Session, integration_id: int, days: Sequence[dt.date]
    ) -> dict[str, dict[dt.date, int]]:
        """Domain records produced per partition day, by label, for the run summary."""
        ...


def records_per_day(
    session: Session,
    record_id: Any,
    source_item_id: Any,
    integration_id: int,
    days: Sequence[dt.date],
) -> dict[dt.date, int]:
    """How many records (``record_id`` of a table whose ``source_item_id`` names the ledger
    item) each partition day produced."""
    rows = session.execute(
        sa.select(IngestItem.partition_day, sa.func.count(record_id))
        .join(IngestItem, IngestItem.id == source_item_id)
        .where(IngestItem.integration_id == integration_id, IngestItem.partition_day.in_(days))
        .group_by(IngestItem.partition_day)
    )
    return {day: count for day, count in rows}
