"""persist: upsert messages, attachments and the task's domain records; end each ledger item.

Each batch's records and its ledger updates commit in one transaction, so an interrupted
run never leaves a record without its item marked, nor an item marked without its record.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from ingest_pipeline.domain import ParsedMessage
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.steps.job_records import JobRecords, add_records, skip_reason
from ingest_pipeline.steps.parse_step import PARSER_VERSION
from ingest_pipeline.steps.step_context import StepContext, Stopwatch, claimed_batches
from ingest_pipeline.store import ledger, mail_records
from ingest_pipeline.store.blobs import load_parsed
from ingest_pipeline.store.extraction_cache import load_results
from ingest_pipeline.store.models import IngestItem
from ingest_pipeline.store.upsert import UpsertResult


def persist_partition(ctx: StepContext, *, task: TaskSpec, min_confidence: float) -> dict[str, Any]:
    """Persist every extracted item; returns rows inserted/updated per table and item outcomes."""
    watch = Stopwatch()
    counts: Counter[str] = Counter()
    for session, items in claimed_batches(ctx, "extracted"):
        _persist_batch(session, ctx, items, task=task, min_confidence=min_confidence, counts=counts)
    inserted = sum(v for k, v in counts.items() if k.endswith("_inserted"))
    updated = sum(v for k, v in counts.items() if k.endswith("_updated"))
    return {
        **dict(sorted(counts.items())),
        "inserted": inserted,
        "updated": updated,
        "persist_seconds": watch.seconds(),
    }


def _add(counts: Counter[str], table: str, result: UpsertResult) -> None:
    counts[f"{table}_inserted"] += result.inserted
    counts[f"{table}_updated"] += result.updated


def _persist_batch(
    session: Session,
    ctx: StepContext,
    items: list[IngestItem],
    *,
    task: TaskSpec,
    min_confidence: float,
    counts: Counter[str],
) -> None:
    integration = ctx.integration
    parsed = load_parsed(
        session, [i.content_hash for i in items if i.content_hash], parser_version=PARSER_VERSION
    )
    results = load_results(session, [i.extraction_id for i in items if i.extraction_id])
    updates: list[dict[str, Any]] = []
    messages: dict[int, tuple[str, ParsedMessage]] = {}
    for item in items:
        data = parsed.get(item.content_hash or "")
        if data is None or item.extraction_id not in results:
            updates.append(
                ledger.finish(
                    item.id,
                    "failed",
                    step="persisted",
                    reason="persist: parse or extraction result missing",
                )
            )
            counts["items_failed"] += 1
            continue
        message = ParsedMessage.from_json(data)
        messages[item.id] = (mail_records.message_key(message, item.content_hash or ""), message)

    owners = mail_records.message_owners(session, integration.id, [k for k, _ in messages.values()])
    message_rows = []
    own_items: list[IngestItem] = []
    for item in items:
        if item.id not in messages:
            continue
        key, message = messages[item.id]
        owner_id, owner_external_id = owners.setdefault(key, (item.id, item.external_id))
        if owner_id != item.id:
            reason = (
                f"duplicate delivery of message {key}; already stored from item {owner_external_id}"
            )
            updates.append(ledger.finish(item.id, "skipped", step="persisted", reason=reason))
            counts["items_duplicate"] += 1
            continue
        own_items.append(item)
        message_rows.append(
            mail_records.message_row(
                integration_id=integration.id,
                item_id=item.id,
                key=key,
                message=message,
                content_hash=item.content_hash or "",
                received_at=item.received_at,
            )
        )
    stored = mail_records.upsert_messages(session, message_rows)
    _add(counts, "messages", stored)
    assert stored.ids is not None
    message_ids = {
        item.id: stored.ids[(integration.id, messages[item.id][0])] for item in own_items
    }

    attachment_rows = [
        row
        for item in own_items
        for row in mail_records.attachment_rows(message_ids[item.id], messages[item.id][1])
    ]
    _add(counts, "attachments", mail_records.upsert_attachments(session, attachment_rows))

    job_id = integration.options.get("job_id")
    records = JobRecords()
    for item in own_items:
        result = results[item.extraction_id or 0]
        skip = skip_reason(task, result, min_confidence=min_confidence)
        if skip is not None:
            updates.append(ledger.finish(item.id, "skipped", step="persisted", reason=skip))
            counts["items_skipped"] += 1
            continue
        updates.append(ledger.finish(item.id, "done", step="persisted"))
        counts["items_done"] += 1
        add_records(
            records,
            task=task,
            result=result,
            integration_id=integration.id,
            tenant_id=integration.tenant_id,
            job_id=int(job_id) if isinstance(job_id, int | str) else None,
            message_id=message_ids[item.id],
            extraction_id=item.extraction_id or 0,
        )
    _store_records(session, records, tenant_id=integration.tenant_id, counts=counts)
    ledger.mark(session, updates)


def _store_records(
    session: Session, records: JobRecords, *, tenant_id: str, counts: Counter[str]
) -> None:
    _add(counts, "job_postings", mail_records.upsert_job_postings(session, records.postings))
    candidates = mail_records.upsert_candidates(session, list(records.candidates.values()))
    _add(counts, "candidates", candidates)
    assert candidates.ids is not None
    applications = {}
    for key, row in records.applications:
        candidate_id = candidates.ids[(tenant_id, key)]
        applications[candidate_id] = {**row, "candidate_id": candidate_id}
    _add(
        counts,
        "job_applications",
        mail_records.upsert_applications(session, list(applications.values())),
    )
