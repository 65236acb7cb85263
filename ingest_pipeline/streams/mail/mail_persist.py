"""Persist for the mail stream: messages, attachments and the task's job records.

A message delivered twice (the same Message-ID under two provider ids) is stored once; the
later item is skipped as a duplicate of the item it was stored from.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from ingest_pipeline.domain import ParsedMessage
from ingest_pipeline.store import ledger, mail_records
from ingest_pipeline.store.models import IngestItem
from ingest_pipeline.store.upsert import UpsertResult
from ingest_pipeline.streams.mail.job_records import JobRecords, add_records, skip_reason
from ingest_pipeline.streams.stream_kind import PersistBatch, PersistOutcome


def add_counts(counts: Counter[str], table: str, result: UpsertResult) -> None:
    counts[f"{table}_inserted"] += result.inserted
    counts[f"{table}_updated"] += result.updated


def persist_mail(session: Session, batch: PersistBatch) -> PersistOutcome:
    """Store each message once, its attachments, and the posting or application it holds."""
    out = PersistOutcome()
    messages: dict[int, tuple[str, ParsedMessage]] = {}
    for item in batch.items:
        data = batch.parsed.get(item.content_hash or "")
        needs_result = batch.task is not None
        if data is None or (needs_result and item.extraction_id not in batch.results):
            out.updates.append(
                ledger.finish(
                    item.id,
                    "failed",
                    step="persisted",
                    reason="persist: parse or extraction result missing",
                )
            )
            out.counts["items_failed"] += 1
            continue
        message = ParsedMessage.from_json(data)
        messages[item.id] = (mail_records.message_key(message, item.content_hash or ""), message)

    owners = mail_records.message_owners(
        session, batch.integration_id, [k for k, _ in messages.values()]
    )
    message_rows = []
    own_items: list[IngestItem] = []
    for item in batch.items:
        if item.id not in messages:
            continue
        key, message = messages[item.id]
        owner_id, owner_external_id = owners.setdefault(key, (item.id, item.external_id))
        if owner_id != item.id:
            reason = (
                f"duplicate delivery of message {key}; already stored from item {owner_external_id}"
            )
            out.updates.append(
                ledger.finish(
                    item.id, "skipped", step="persisted", reason=reason, duplicate_of=owner_id
                )
            )
            out.counts["items_duplicate"] += 1
            continue
        own_items.append(item)
        message_rows.append(
            mail_records.message_row(
                integration_id=batch.integration_id,
                item_id=item.id,
                key=key,
                message=message,
                content_hash=item.content_hash or "",
                received_at=item.received_at,
            )
        )
    stored = mail_records.upsert_messages(session, message_rows)
    add_counts(out.counts, "messages", stored)
    assert stored.ids is not None
    message_ids = {
        item.id: stored.ids[(batch.integration_id, messages[item.id][0])] for item in own_items
    }
    attachment_rows = [
        row
        for item in own_items
        for row in mail_records.attachment_rows(message_ids[item.id], messages[item.id][1])
    ]
    add_counts(out.counts, "attachments", mail_records.upsert_attachments(session, attachment_rows))
    _job_records(session, batch, own_items, message_ids, out)
    return out


def _job_records(
    session: Session,
    batch: PersistBatch,
    own_items: list[IngestItem],
    message_ids: dict[int, int],
    out: PersistOutcome,
) -> None:
    """End each stored message's item: done with its job record, or skipped with why."""
    task = batch.task
    if task is None:
        for item in own_items:
            out.updates.append(ledger.finish(item.id, "done", step="persisted"))
            out.counts["items_done"] += 1
        return
    job_id = batch.options.get("job_id")
    records = JobRecords()
    for item in own_items:
        result = batch.results[item.extraction_id or 0]
        skip = skip_reason(task, result, min_confidence=batch.min_confidence)
        if skip is not None:
            out.updates.append(ledger.finish(item.id, "skipped", step="persisted", reason=skip))
            out.counts["items_skipped"] += 1
            continue
        out.updates.append(ledger.finish(item.id, "done", step="persisted"))
        out.counts["items_done"] += 1
        add_records(
            records,
            task=task,
            result=result,
            integration_id=batch.integration_id,
            tenant_id=batch.tenant_id,
            job_id=int(job_id) if isinstance(job_id, int | str) else None,
            message_id=message_ids[item.id],
            extraction_id=item.extraction_id or 0,
        )
    add_counts(
        out.counts, "job_postings", mail_records.upsert_job_postings(session, records.postings)
    )
    candidates = mail_records.upsert_candidates(session, list(records.candidates.values()))
    add_counts(out.counts, "candidates", candidates)
    assert candidates.ids is not None
    applications = {}
    for key, row in records.applications:
        candidate_id = candidates.ids[(batch.tenant_id, key)]
        applications[candidate_id] = {**row, "candidate_id": candidate_id}
    add_counts(
        out.counts,
        "job_applications",
        mail_records.upsert_applications(session, list(applications.values())),
    )
