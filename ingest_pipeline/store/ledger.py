"""The item ledger (``ingest_items``): record enumerated items, claim them step by step, and
mark what happened to each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import REMOVED, TERMINAL_STATUSES, ItemRef
from ingest_pipeline.store.models import SNAPSHOT_DAY, IngestItem, PartitionCursor, utcnow
from ingest_pipeline.store.upsert import table_of, upsert

ACTIVE_STATUSES = ("pending", "processing")
# The statuses as a batch's status reads them (the seed's status endpoint named them so).
BATCH_STATUS_NAMES = {
    "pending": "queued",
    "processing": "processing",
    "done": "succeeded",
    "failed": "failed",
    "skipped": "skipped",
}


@dataclass(frozen=True)
class PartitionKey:
    """One partition of one stream of one integration: the unit a partition run works on.

    ``day`` is the UTC day for dated streams (mail, calendar events) and None for snapshot
    streams (contacts), whose ledger rows carry `SNAPSHOT_DAY`.
    """

    integration_id: int
    day: dt.date | None
    stream: str

    @property
    def stored_day(self) -> dt.date:
        """The ``partition_day`` the ledger stores for this partition."""
        return self.day if self.day is not None else SNAPSHOT_DAY


def in_partition(part: PartitionKey) -> sa.ColumnElement[bool]:
    """The ledger rows of ``part``."""
    return sa.and_(
        IngestItem.integration_id == part.integration_id,
        IngestItem.stream == part.stream,
        IngestItem.partition_day == part.stored_day,
    )


@dataclass(frozen=True)
class EnumerationResult:
    """What recording one page did: items new to the ledger, and items re-opened because
    the provider's version changed (an edited card, a moved event)."""

    new: int = 0
    changed: int = 0


def record_enumerated(
    session: Session, part: PartitionKey, refs: Sequence[ItemRef], *, run_id: str | None
) -> EnumerationResult:
    """Add listed items as ``pending``; items already in the ledger keep their state, except
    those whose ``version`` changed, which start again from the first step in this
    partition (a moved event changes day). An item claimed by a live run is left alone:
    the partition lease guarantees that run is this one or a dead one."""
    now = utcnow()
    unique = {ref.external_id: ref for ref in refs}
    rows = [
        {
            "integration_id": part.integration_id,
            "stream": part.stream,
            "external_id": ref.external_id,
            "partition_day": part.stored_day,
            "received_at": ref.received_at,
            "version": ref.version,
            "status": "pending",
            "step": "none",
            "attempts": 0,
            "run_id": run_id,
            "updated_at": now,
        }
        for ref in unique.values()
    ]
    result = upsert(
        session,
        table_of(IngestItem),
        rows,
        keys=("integration_id", "stream", "external_id"),
        update=(),
        id_column=None,
    )
    versioned = {key: ref for key, ref in unique.items() if ref.version is not None}
    changed = _reopen_changed(session, part, versioned, now=now) if versioned else 0
    return EnumerationResult(new=result.inserted, changed=changed)


def _reopen_changed(
    session: Session, part: PartitionKey, refs: Mapping[str, ItemRef], *, now: dt.datetime
) -> int:
    listed = session.execute(
        sa.select(IngestItem.id, IngestItem.external_id, IngestItem.version).where(
            IngestItem.integration_id == part.integration_id,
            IngestItem.stream == part.stream,
            IngestItem.external_id.in_(list(refs)),
        )
    ).all()
    stale = [(i, e) for i, e, version in listed if version != refs[e].version]
    updates = [
        {
            "id": item_id,
            "version": refs[external_id].version,
            "received_at": refs[external_id].received_at,
            "partition_day": part.stored_day,
            "status": "pending",
            "step": "none",
            "attempts": 0,
            "last_error": None,
            "content_hash": None,
            "extraction_id": None,
            "duplicate_of": None,
            "updated_at": now,
        }
        for item_id, external_id in stale
    ]
    if updates:
        session.execute(sa.update(IngestItem), updates)
    return len(updates)


def mark_removed(
    session: Session, part: PartitionKey, listed: set[str], *, now: dt.datetime | None = None
) -> int:
    """After a complete listing of a snapshot partition, open again every item it no longer
    holds with the version `REMOVED`, so the next steps record the removal; returns how
    many."""
    now = now or utcnow()
    gone = [
        item_id
        for item_id, external_id in session.execute(
            sa.select(IngestItem.id, IngestItem.external_id).where(
                IngestItem.integration_id == part.integration_id,
                IngestItem.stream == part.stream,
                IngestItem.partition_day == part.stored_day,
                sa.or_(IngestItem.version.is_(None), IngestItem.version != REMOVED),
            )
        )
        if external_id not in listed
    ]
    if gone:
        session.execute(
            sa.update(IngestItem),
            [
                {
                    "id": item_id,
                    "version": REMOVED,
                    "status": "pending",
                    "step": "none",
                    "attempts": 0,
                    "last_error": None,
                    "content_hash": None,
                    "extraction_id": None,
                    "duplicate_of": None,
                    "updated_at": now,
                }
                for item_id in gone
            ],
        )
    return len(gone)


def get_cursor(session: Session, part: PartitionKey) -> PartitionCursor | None:
    return session.get(PartitionCursor, (part.integration_id, part.stream, part.stored_day))


def save_cursor(
    session: Session, part: PartitionKey, *, cursor: str | None, complete: bool
) -> None:
    """Remember where enumeration stopped; writes nothing when the value is unchanged."""
    row = get_cursor(session, part)
    if row is None:
        session.add(
            PartitionCursor(
                integration_id=part.integration_id,
                stream=part.stream,
                partition_day=part.stored_day,
                cursor=cursor,
                complete=complete,
            )
        )
    elif row.cursor != cursor or row.complete != complete:
        row.cursor = cursor
        row.complete = complete
    session.flush()


def claim(
    session: Session,
    part: PartitionKey,
    *,
    step: str,
    run_id: str,
    limit: int,
    after_id: int = 0,
) -> list[IngestItem]:
    """Take up to ``limit`` unfinished items of the partition that reached ``step``, in id
    order after ``after_id`` (so one pass over a step never takes an item twice).

    Items another run left ``processing`` are reclaimed: the caller holds the partition's
    lease (`partition_leases`), so such a claim belongs to a run that died or was cancelled.
    """
    query = (
        sa.select(IngestItem)
        .where(
            in_partition(part),
            IngestItem.step == step,
            IngestItem.status.in_(ACTIVE_STATUSES),
            IngestItem.id > after_id,
        )
        .order_by(IngestItem.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    items = list(session.scalars(query))
    now = utcnow()
    for item in items:
        if item.status != "processing" or item.run_id != run_id:
            item.status = "processing"
            item.run_id = run_id
            item.updated_at = now
            if step == "none":
                item.attempts += 1
    session.flush()
    return items


def active_items(session: Session, part: PartitionKey, *, step: str) -> list[IngestItem]:
    """The partition's unfinished items that reached ``step`` (read only, no claim)."""
    return list(
        session.scalars(
            sa.select(IngestItem).where(
                in_partition(part),
                IngestItem.step == step,
                IngestItem.status.in_(ACTIVE_STATUSES),
            )
        )
    )


def mark(session: Session, updates: Sequence[Mapping[str, Any]]) -> None:
    """Apply per-item field updates (each mapping has ``id``) in one executemany."""
    if not updates:
        return
    now = utcnow()
    session.execute(sa.update(IngestItem), [{**u, "updated_at": now} for u in updates])


def finish(
    item_id: int,
    status: str,
    *,
    step: str | None = None,
    reason: str | None = None,
    duplicate_of: int | None = None,
) -> dict[str, Any]:
    """The update that ends an item: ``done``, ``failed`` or ``skipped`` with its reason;
    ``duplicate_of`` names the item already stored when this one is skipped as a copy."""
    assert status in TERMINAL_STATUSES, status
    update: dict[str, Any] = {
        "id": item_id,
        "status": status,
        "last_error": reason,
        "duplicate_of": duplicate_of,
    }
    if step is not None:
        update["step"] = step
    return update


def status_counts(session: Session, part: PartitionKey) -> dict[str, int]:
    """How many of the partition's items are in each status."""
    rows = session.execute(
        sa.select(IngestItem.status, sa.func.count())
        .where(
            in_partition(part),
        )
        .group_by(IngestItem.status)
    )
    return {status: count for status, count in rows}


def batch_status(session: Session, part: PartitionKey) -> dict[str, int]:
    """How many of the partition's items are queued, processing, succeeded, failed and
    skipped (every name present, zeros included)."""
    counts = status_counts(session, part)
    return {name: counts.get(status, 0) for status, name in BATCH_STATUS_NAMES.items()}


def unaccounted_items(session: Session, part: PartitionKey, *, limit: int = 20) -> list[IngestItem]:
    """Items of the partition that are not terminal, or terminal-but-not-done without a reason.

    Items never tried (pending at step ``none`` with no attempt) are not counted: a run that
    hit its item or time cap leaves exactly those for the next run. Nor are pending items
    that say why they wait (a fetch to retry, the day's LLM budget spent).
    """
    return list(
        session.scalars(
            sa.select(IngestItem)
            .where(
                in_partition(part),
                sa.not_(
                    sa.and_(
                        IngestItem.status == "pending",
                        IngestItem.step == "none",
                        IngestItem.attempts == 0,
                    )
                ),
                sa.not_(
                    sa.and_(
                        IngestItem.status == "pending",
                        sa.func.coalesce(IngestItem.last_error, "") != "",
                    )
                ),
                sa.or_(
                    IngestItem.status.not_in(TERMINAL_STATUSES),
                    sa.and_(
                        IngestItem.status.in_(("failed", "skipped")),
                        sa.func.coalesce(IngestItem.last_error, "") == "",
                    ),
                ),
            )
            .order_by(IngestItem.id)
            .limit(limit)
        )
    )
