"""What every step needs to know about the partition it works on, and batch claiming."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ingest_pipeline.store import ledger
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.models import IngestItem, Integration


@dataclass(frozen=True)
class IntegrationInfo:
    """The integration fields the steps read (a detached copy of the row)."""

    id: int
    partition_key: str
    provider: str
    stream: str
    account: str
    task: str | None
    tenant_id: str
    options: dict[str, Any] = field(default_factory=dict)
    sync_state: dict[str, Any] = field(default_factory=dict)
    credentials: bytes | None = field(default=None, repr=False)

    @classmethod
    def of(cls, row: Integration) -> IntegrationInfo:
        return cls(
            id=row.id,
            partition_key=row.partition_key or "",
            provider=row.provider,
            stream=row.stream,
            account=row.account,
            task=row.task,
            tenant_id=row.tenant_id,
            options=dict(row.options or {}),
            sync_state=dict(row.sync_state or {}),
            credentials=bytes(row.credentials) if row.credentials else None,
        )


@dataclass(frozen=True)
class LeaseTerms:
    """How long a partition lease lasts unless renewed, and how long a run waits for a
    partition another live run holds before it gives up saying who holds it."""

    ttl_seconds: float = 60.0
    wait_seconds: float = 90.0


@dataclass(frozen=True)
class StepContext:
    """One step's run over one partition: database, integration, partition, run id, batch."""

    database_url: str
    integration: IntegrationInfo
    part: PartitionKey
    run_id: str
    batch_size: int = 100
    lease: LeaseTerms = field(default_factory=LeaseTerms)


class LeaseLost(RuntimeError):
    """The run's partition lease expired and another run took the partition over."""


def claimed_batches(ctx: StepContext, step: str) -> Iterator[tuple[Session, list[IngestItem]]]:
    """Yield (session, items) batches of the partition's items at ``step``.

    Each batch is claimed and handled in one transaction, committed when the caller asks
    for the next batch; an exception in the caller rolls the batch back, so a killed or
    failed run leaves every item exactly at the last committed step. The caller holds the
    partition's lease (`partition_lease.hold_partition`); before each batch the lease is
    checked, so a run that lost it stops instead of working beside the new owner.
    """
    from ingest_pipeline.steps.partition_lease import ensure_still_held

    last_id = 0
    while True:
        ensure_still_held(ctx)
        with session_scope(ctx.database_url) as session:
            items = ledger.claim(
                session,
                ctx.part,
                step=step,
                run_id=ctx.run_id,
                limit=ctx.batch_size,
                after_id=last_id,
            )
            if not items:
                return
            last_id = items[-1].id
            yield session, items


class Stopwatch:
    """Seconds since creation, for step durations in the metrics."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def seconds(self) -> float:
        return round(time.monotonic() - self.start, 3)
