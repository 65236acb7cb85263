"""enumerate: list the provider's items for the partition into the ledger as pending."""

from __future__ import annotations

from typing import Any

from ingest_pipeline.domain import Window
from ingest_pipeline.sources.base import Source
from ingest_pipeline.steps.integration_source import save_sync_state
from ingest_pipeline.steps.step_context import StepContext, Stopwatch
from ingest_pipeline.store import ledger
from ingest_pipeline.store.database import session_scope


def enumerate_partition(ctx: StepContext, source: Source) -> dict[str, Any]:
    """List the partition's items page by page; returns ``enumerated`` (listed), ``new``
    and ``changed`` (items whose provider version changed, imported again) counts.

    Dated streams list the partition's UTC day; snapshot streams (``part.day`` None) list
    everything the account holds. An interrupted listing resumes from its saved cursor. A
    listing that once completed is run again from the start (to catch late mail and
    changed cards) without rewriting its cursor. When a snapshot source says its listing
    was complete (``listing_complete``: every item the account holds, not only changes) and
    this run listed it from the start, the partition's items it no longer holds are opened
    again as removed (``removed_items``): a card gone from the file, a contact deleted while
    a sync token was expired.
    """
    watch = Stopwatch()
    with session_scope(ctx.database_url) as session:
        saved = ledger.get_cursor(session, ctx.part)
        resume_from = saved.cursor if saved is not None and not saved.complete else None
        relisting = saved is not None and saved.complete
    listed = new = changed = 0
    window = Window.for_day(ctx.part.day) if ctx.part.day is not None else None
    seen: set[str] = set()
    for page in source.enumerate(window, resume_from):
        if window is None:
            seen.update(ref.external_id for ref in page.items)
        with session_scope(ctx.database_url) as session:
            recorded = ledger.record_enumerated(session, ctx.part, page.items, run_id=ctx.run_id)
            new += recorded.new
            changed += recorded.changed
            if not relisting:
                ledger.save_cursor(session, ctx.part, cursor=page.cursor, complete=False)
        listed += len(page.items)
    removed = 0
    with session_scope(ctx.database_url) as session:
        ledger.save_cursor(session, ctx.part, cursor=None, complete=True)
        if window is None and resume_from is None and getattr(source, "listing_complete", False):
            removed = ledger.mark_removed(session, ctx.part, seen)
    summary: dict[str, Any] = {
        "enumerated": listed,
        "new_items": new,
        "changed_items": changed,
        "removed_items": removed,
        "sync_state_saved": save_sync_state(ctx, source),
        "enumerate_seconds": watch.seconds(),
    }
    notes = getattr(source, "notes", None)
    if notes:
        summary["enumerate_notes"] = "; ".join(notes)
    return summary
