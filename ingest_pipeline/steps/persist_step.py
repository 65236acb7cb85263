"""persist: upsert the stream's records through its kind; end each ledger item.

Each batch's records and its ledger updates commit in one transaction, so an interrupted
run never leaves a record without its item marked, nor an item marked without its record.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.steps.step_context import StepContext, Stopwatch, claimed_batches
from ingest_pipeline.store import ledger
from ingest_pipeline.store.blobs import load_parsed
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.extraction_cache import load_results
from ingest_pipeline.streams.stream_kind import PersistBatch, StreamKind


def persist_partition(
    ctx: StepContext, *, kind: StreamKind, task: TaskSpec | None, min_confidence: float
) -> dict[str, Any]:
    """Persist every extracted item; returns rows inserted/updated per table and item outcomes."""
    watch = Stopwatch()
    counts: Counter[str] = Counter()
    for session, items in claimed_batches(ctx, "extracted"):
        batch = PersistBatch(
            items=items,
            parsed=load_parsed(
                session,
                [i.content_hash for i in items if i.content_hash],
                parser_version=kind.parser_version,
            ),
            results=load_results(session, [i.extraction_id for i in items if i.extraction_id]),
            integration_id=ctx.integration.id,
            tenant_id=ctx.integration.tenant_id,
            options=ctx.integration.options,
            run_id=ctx.run_id,
            task=task,
            min_confidence=min_confidence,
        )
        outcome = kind.persist(session, batch)
        counts.update(outcome.counts)
        ledger.mark(session, outcome.updates)
    with session_scope(ctx.database_url) as session:
        status = ledger.batch_status(session, ctx.part)
    inserted = sum(v for k, v in counts.items() if k.endswith("_inserted"))
    updated = sum(v for k, v in counts.items() if k.endswith("_updated"))
    return {
        **dict(sorted(counts.items())),
        "inserted": inserted,
        "updated": updated,
        **{f"batch_{name}": count for name, count in status.items()},
        "persist_seconds": watch.seconds(),
    }
