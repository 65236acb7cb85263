"""What the asset checks compare, as plain functions over the ledger and the domain tables.

`reconcile` proves nothing was lost: every item the partition enumerated is stored, a
skipped duplicate of a stored item, skipped with a reason, failed, or still waiting, and
no item is marked done without the record it should have produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ingest_pipeline.store.ledger import ACTIVE_STATUSES, PartitionKey, in_partition
from ingest_pipeline.store.models import IngestItem
from ingest_pipeline.streams.stream_kind import StreamKind

EXAMPLES = 10


@dataclass(frozen=True)
class Reconciliation:
    """One partition's items by outcome: ``enumerated`` = ``stored`` + ``duplicates_skipped``
    + ``skipped`` + ``failed`` + ``waiting`` + ``lost``. ``lost`` items are marked done
    without the record they produced, or skipped as copies of an item with no record: data
    gone after (or despite) the run; ``lost_examples`` names some."""

    enumerated: int
    stored: int
    duplicates_skipped: int
    skipped: int
    failed: int
    waiting: int
    lost: int = 0
    lost_examples: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.lost == 0 and self.enumerated == (
            self.stored + self.duplicates_skipped + self.skipped + self.failed + self.waiting
        )


def reconcile(session: Session, part: PartitionKey, kind: StreamKind) -> Reconciliation:
    """Classify each of the partition's items once, by its ledger status and whether a
    domain record was stored from it (or, for a duplicate, from the item it copies). Every
    item that persist ended done or skipped (a message that is not a posting, a card that
    adds nothing) has a record; only items skipped before persist may have none."""
    stored_ids = kind.stored_item_ids().scalar_subquery()
    has_record = IngestItem.id.in_(stored_ids)
    original = aliased(IngestItem)
    rows = session.execute(
        sa.select(
            IngestItem.external_id,
            IngestItem.status,
            IngestItem.step,
            IngestItem.duplicate_of,
            has_record,
            original.id.in_(stored_ids),
        )
        .outerjoin(original, original.id == IngestItem.duplicate_of)
        .where(in_partition(part))
        .order_by(IngestItem.id)
    ).all()
    buckets = dict.fromkeys(("stored", "duplicates", "skipped", "failed", "waiting"), 0)
    lost: list[str] = []
    for external_id, status, step, duplicate_of, stored, original_stored in rows:
        if status in ACTIVE_STATUSES:
            buckets["waiting"] += 1
        elif stored:
            buckets["stored"] += 1
        elif status == "skipped" and duplicate_of is not None:
            if original_stored:
                buckets["duplicates"] += 1
            else:
                lost.append(f"{external_id}: a copy of item {duplicate_of}, which has no record")
        elif status == "done" or (status == "skipped" and step == "persisted"):
            lost.append(f"{external_id}: {status} by persist, but no record was stored from it")
        else:
            buckets["skipped" if status == "skipped" else "failed"] += 1
    return Reconciliation(
        enumerated=len(rows),
        stored=buckets["stored"],
        duplicates_skipped=buckets["duplicates"],
        skipped=buckets["skipped"],
        failed=buckets["failed"],
        waiting=buckets["waiting"],
        lost=len(lost),
        lost_examples=lost[:EXAMPLES],
    )
