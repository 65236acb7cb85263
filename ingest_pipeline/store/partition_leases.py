"""Partition leases: which run owns a partition of a stream, as a row in the app database.

Taking a lease is one conditional UPDATE (ours already, or expired) or one INSERT that the
primary key lets only one run win, so two runs racing for a partition on SQLite or Postgres
never both hold it. The owner renews the lease while it works; a crashed owner stops
renewing and its lease expires, so the next run takes the partition over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.models import PartitionLease

# Rounds of UPDATE-then-INSERT before giving up on a lease that keeps changing hands.
ACQUIRE_ATTEMPTS = 5


@dataclass(frozen=True)
class LeaseHolder:
    """The run that holds a partition, and until when its lease runs."""

    run_id: str
    expires_at: dt.datetime


def _rowcount(result: sa.Result[Any]) -> int:
    """Rows an UPDATE, INSERT or DELETE touched (a CursorResult's count)."""
    return int(cast(sa.CursorResult[Any], result).rowcount)


def _key(part: PartitionKey) -> sa.ColumnElement[bool]:
    return sa.and_(
        PartitionLease.integration_id == part.integration_id,
        PartitionLease.stream == part.stream,
        PartitionLease.partition_day == part.stored_day,
    )


def try_acquire(
    session: Session, part: PartitionKey, *, run_id: str, now: dt.datetime, ttl_seconds: float
) -> LeaseHolder | None:
    """Take or renew the lease for ``run_id``; None on success, else who holds it.

    When the holder releases between our UPDATE and our INSERT (Postgres' INSERT ... ON
    CONFLICT DO NOTHING does not wait for it), nobody holds the partition: try again.
    """
    expires = now + dt.timedelta(seconds=ttl_seconds)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for _ in range(ACQUIRE_ATTEMPTS):
        taken = session.execute(
            sa.update(PartitionLease)
            .where(
                _key(part),
                sa.or_(PartitionLease.run_id == run_id, PartitionLease.expires_at < now),
            )
            .values(run_id=run_id, acquired_at=now, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(taken):
            return None
        inserted = session.execute(
            insert(PartitionLease)
            .values(
                integration_id=part.integration_id,
                stream=part.stream,
                partition_day=part.stored_day,
                run_id=run_id,
                acquired_at=now,
                expires_at=expires,
            )
            .on_conflict_do_nothing()
        )
        if _rowcount(inserted):
            return None
        current = holder(session, part)
        if current is not None:
            return current
    raise RuntimeError(f"the lease on {part} kept changing hands; try again")


def holder(session: Session, part: PartitionKey) -> LeaseHolder | None:
    """Who holds the partition's lease now (expired or not), if anyone."""
    row = session.execute(
        sa.select(PartitionLease.run_id, PartitionLease.expires_at).where(_key(part))
    ).first()
    return LeaseHolder(run_id=row[0], expires_at=row[1]) if row else None


def renew(
    session: Session, part: PartitionKey, *, run_id: str, now: dt.datetime, ttl_seconds: float
) -> bool:
    """Extend ``run_id``'s lease; False when it no longer holds it (it expired and another
    run took the partition over)."""
    result = session.execute(
        sa.update(PartitionLease)
        .where(_key(part), PartitionLease.run_id == run_id)
        .values(expires_at=now + dt.timedelta(seconds=ttl_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(_rowcount(result))


def release(session: Session, part: PartitionKey, *, run_id: str) -> None:
    """Give the partition up (the run finished it); a lease held by another run stays."""
    session.execute(
        sa.delete(PartitionLease)
        .where(_key(part), PartitionLease.run_id == run_id)
        .execution_options(synchronize_session=False)
    )
