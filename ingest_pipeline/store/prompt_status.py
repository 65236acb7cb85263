"""The status of prompt-set batches, as the seed's status endpoint gave it: per batch
(prompt set × UTC day) how many runs are queued, processing, succeeded, failed and
skipped, narrowed to one day, one prompt or one status; and the runs themselves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.ledger import BATCH_STATUS_NAMES
from ingest_pipeline.store.models import IngestItem, Integration
from ingest_pipeline.store.prompts import PROMPT_RUNS_STREAM

STATUS_NAMES = BATCH_STATUS_NAMES
LEDGER_STATUS = {name: status for status, name in STATUS_NAMES.items()}


@dataclass(frozen=True)
class StatusFilter:
    """What to narrow to: a prompt set (integration id), a day, a prompt id, a status by
    its seed name (``queued``…``skipped``)."""

    integration_id: int | None = None
    day: dt.date | None = None
    prompt_id: int | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in LEDGER_STATUS:
            known = ", ".join(LEDGER_STATUS)
            raise ValueError(f"unknown status {self.status!r}; one of: {known}")

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses = [IngestItem.stream == PROMPT_RUNS_STREAM]
        if self.integration_id is not None:
            clauses.append(IngestItem.integration_id == self.integration_id)
        if self.day is not None:
            clauses.append(IngestItem.partition_day == self.day)
        if self.prompt_id is not None:
            clauses.append(IngestItem.external_id.like(f"%:p{self.prompt_id}:r%"))
        if self.status is not None:
            clauses.append(IngestItem.status == LEDGER_STATUS[self.status])
        return clauses


@dataclass
class BatchStatus:
    """One batch: its prompt set, day, and run counts by seed status name."""

    prompt_set: str
    day: dt.date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEDGER_STATUS, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def batch_statuses(session: Session, narrowed: StatusFilter) -> list[BatchStatus]:
    """The matching batches, newest day first, each with its counts."""
    rows = session.execute(
        sa.select(Integration.name, IngestItem.partition_day, IngestItem.status, sa.func.count())
        .join(Integration, Integration.id == IngestItem.integration_id)
        .where(*narrowed.where())
        .group_by(Integration.name, IngestItem.partition_day, IngestItem.status)
    ).all()
    batches: dict[tuple[str, dt.date], BatchStatus] = {}
    for name, day, status, count in rows:
        batch = batches.setdefault((name, day), BatchStatus(name, day))
        batch.counts[STATUS_NAMES.get(status, status)] = count
    return sorted(batches.values(), key=lambda b: (-b.day.toordinal(), b.prompt_set))


@dataclass(frozen=True)
class RunStatus:
    """One run (ledger item) with its status by seed name, attempts and reason."""

    prompt_set: str
    external_id: str
    status: str
    attempts: int
    reason: str | None


def run_statuses(session: Session, narrowed: StatusFilter, *, limit: int = 50) -> list[RunStatus]:
    """The matching runs themselves (at most ``limit``), by day and id."""
    rows = session.execute(
        sa.select(
            Integration.name,
            IngestItem.external_id,
            IngestItem.status,
            IngestItem.attempts,
            IngestItem.last_error,
        )
        .join(Integration, Integration.id == IngestItem.integration_id)
        .where(*narrowed.where())
        .order_by(IngestItem.partition_day.desc(), IngestItem.id)
        .limit(limit)
    ).all()
    return [
        RunStatus(name, external_id, STATUS_NAMES.get(status, status), attempts, reason)
        for name, external_id, status, attempts, reason in rows
    ]
