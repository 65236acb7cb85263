"""The item ledger (``ingest_items``): record enumerated items, claim them step by step, and
mark what happened to each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import TERMINAL_STATUSES, ItemRef
from ingest_pipeline.store.models import IngestItem, PartitionCursor, utcnow
from ingest_pipeline.store.upsert import table_of, upsert

ACTIVE_STATUSES = ("pending", "processing")


@dataclass(frozen=True)
class PartitionKey:
    """One integration-day of one stream: the unit a Dagster partition run works on."""

    integration_id: int
    day: dt.date
    stream: str = "messages"


def record_enumerated(
    session: Session, part: PartitionKey, refs: Sequence[ItemRef], *, run_id: str | None
) -> int:
    """Add listed items as ``pending``; items already in the ledger are left untouched.

    Returns how many were new.
    """
    now = utcnow()
    rows = [
        {
            "integration_id": part.integration_id,
            "stream": part.stream,
            "external_id": ref.external_id,
            "partition_day": part.day,
            "received_at": ref.received_at,
            "status": "pending",
            "step": "none",
            "attempts": 0,
            "run_id": run_id,
            "updated_at": now,
        }
        for ref in {ref.external_id: ref for ref in refs}.values()
    ]
    result = upsert(
        session,
        table_of(IngestItem),
        rows,
        keys=("integration_id", "stream", "external_id"),
        update=(),
        id_column=None,
    )
    return result.inserted


def get_cursor(session: Session, part: PartitionKey) -> PartitionCursor | None:
    return session.get(PartitionCursor, (part.integration_id, part.stream, part.day))


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
                partition_day=part.day,
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

    Items another run left ``processing`` are reclaimed: Dagster allows one run per
    integration at a time, so such a claim belongs to a run that was killed or cancelled.
    """
    query = (
        sa.select(IngestItem)
        .where(
            IngestItem.integration_id == part.integration_id,
            IngestItem.stream == part.stream,
            IngestItem.partition_day == part.day,
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
                IngestItem.integration_id == part.integration_id,
                IngestItem.stream == part.stream,
                IngestItem.partition_day == part.day,
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
    item_id: int, status: str, *, step: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    """The update that ends an item: ``done``, ``failed`` or ``skipped`` with its reason."""
    assert status in TERMINAL_STATUSES, status
    update: dict[str, Any] = {"id": item_id, "status": status, "last_error": reason}
    if step is not None:
        update["step"] = step
    return update


def status_counts(session: Session, part: PartitionKey) -> dict[str, int]:
    """How many of the partition's items are in each status."""
    rows = session.execute(
        sa.select(IngestItem.status, sa.func.count())
        .where(
            IngestItem.integration_id == part.integration_id,
            IngestItem.stream == part.stream,
            IngestItem.partition_day == part.day,
        )
        .group_by(IngestItem.status)
    )
    return {status: count for status, count in rows}


def unaccounted_items(session: Session, part: PartitionKey, *, limit: int = 20) -> list[IngestItem]:
    """Items of the partition that are not terminal, or terminal-but-not-done without a reason.

    Items never tried (pending at step ``none`` with no attempt) are not counted: a run that
    hit its item or time cap leaves exactly those for the next run.
    """
    return list(
        session.scalars(
            sa.select(IngestItem)
            .where(
                IngestItem.integration_id == part.integration_id,
                IngestItem.stream == part.stream,
                IngestItem.partition_day == part.day,
                sa.not_(
                    sa.and_(
                        IngestItem.status == "pending",
                        IngestItem.step == "none",
                        IngestItem.attempts == 0,
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
