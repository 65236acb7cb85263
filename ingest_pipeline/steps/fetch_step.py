"""fetch: download the ledger's unfetched items in provider-sized batches into raw storage."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ingest_pipeline.domain import REMOVED, FetchError, ItemRef, tombstone
from ingest_pipeline.sources.base import Source
from ingest_pipeline.steps.step_context import StepContext, Stopwatch, claimed_batches
from ingest_pipeline.store import ledger
from ingest_pipeline.store.blobs import store_blobs

MAX_FETCH_ATTEMPTS = 3


def fetch_partition(
    ctx: StepContext,
    source: Source,
    *,
    max_items: int | None = None,
    max_seconds: float | None = None,
) -> dict[str, Any]:
    """Fetch every item at step ``none``; returns ``fetched`` and ``fetch_failed`` counts.

    A permanent fetch error fails the item with its reason; a retryable one leaves it
    pending for the next run until it has been tried ``MAX_FETCH_ATTEMPTS`` times. With a
    cap (items or seconds per run) the step stops between batches once it is reached,
    reports ``capped``, and leaves the rest pending for the next run.
    """
    watch = Stopwatch()
    fetched = failed = retry_later = skipped = 0
    capped: str | None = None
    batch_size = min(ctx.batch_size, source.limits.fetch_batch_size, max_items or ctx.batch_size)
    for session, items in claimed_batches(replace(ctx, batch_size=batch_size), "none"):
        if max_items is not None and fetched + failed >= max_items:
            capped = f"item cap of {max_items} per run reached; the next run continues"
            break
        if max_seconds is not None and watch.seconds() >= max_seconds:
            capped = f"time cap of {max_seconds:g}s per run reached; the next run continues"
            break
        by_external = {item.external_id: item for item in items}
        refs = [
            ItemRef(external_id=i.external_id, received_at=i.received_at, version=i.version)
            for i in items
            if i.version != REMOVED
        ]
        gone = [tombstone(i.external_id) for i in items if i.version == REMOVED]
        blobs: list[tuple[str, bytes]] = []
        updates: list[dict[str, Any]] = []
        for outcome in [*gone, *(source.fetch(refs) if refs else ())]:
            item = by_external.pop(outcome.external_id, None)
            if item is None:
                continue
            if isinstance(outcome, FetchError):
                if outcome.skip:
                    skipped += 1
                    updates.append(
                        ledger.finish(item.id, "skipped", reason=f"fetch: {outcome.reason}")
                    )
                elif outcome.retryable and item.attempts < MAX_FETCH_ATTEMPTS:
                    retry_later += 1
                    updates.append(
                        {"id": item.id, "status": "pending", "last_error": outcome.reason}
                    )
                else:
                    failed += 1
                    updates.append(
                        ledger.finish(item.id, "failed", reason=f"fetch: {outcome.reason}")
                    )
                continue
            blobs.append((outcome.content_hash, outcome.data))
            update = {
                "id": item.id,
                "step": "fetched",
                "content_hash": outcome.content_hash,
                "last_error": None,
            }
            if outcome.received_at is not None and item.received_at is None:
                update["received_at"] = outcome.received_at
            updates.append(update)
            fetched += 1
        for item in by_external.values():
            failed += 1
            updates.append(
                ledger.finish(
                    item.id, "failed", reason="fetch: the source returned nothing for this item"
                )
            )
        store_blobs(session, blobs)
        ledger.mark(session, updates)
    return {
        "fetched": fetched,
        "fetch_failed": failed,
        "fetch_retry_later": retry_later,
        "fetch_skipped": skipped,
        "capped": capped is not None,
        **({"capped_reason": capped} if capped else {}),
        "fetch_seconds": watch.seconds(),
    }
