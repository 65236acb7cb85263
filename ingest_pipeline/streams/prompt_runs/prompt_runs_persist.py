"""Persist for the prompt-runs stream: one answer per run, and its entity mentions.

Idempotent: an answer is keyed by the run's ledger id (prompt, model, run index, day), so
a re-run updates nothing; its mentions are replaced with the answer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store import ledger
from ingest_pipeline.store.models import LlmExtraction
from ingest_pipeline.store.prompt_models import EntityMention, PromptAnswer
from ingest_pipeline.store.upsert import table_of, upsert
from ingest_pipeline.streams.prompt_runs.entity_mentions import located_mentions
from ingest_pipeline.streams.prompt_runs.prompt_run import BadPromptRun, PromptRun
from ingest_pipeline.streams.stream_kind import PersistBatch, PersistOutcome

_MENTION_COLUMNS = ("name", "entity_type", "entity", "position")


def persist_prompt_runs(session: Session, batch: PersistBatch) -> PersistOutcome:
    """Store each run's answer with what it cost and how it was enforced, and its mentions."""
    out = PersistOutcome()
    extractions = _extractions(session, [i.extraction_id for i in batch.items if i.extraction_id])
    answers: list[dict[str, Any]] = []
    mentions_of: dict[str, list[dict[str, Any]]] = {}
    for item in batch.items:
        data = batch.parsed.get(item.content_hash or "")
        extraction = extractions.get(item.extraction_id or 0)
        if data is None or extraction is None:
            out.updates.append(
                ledger.finish(
                    item.id,
                    "failed",
                    step="persisted",
                    reason="persist: the run's prompt or its answer is missing; run it again",
                )
            )
            out.counts["items_failed"] += 1
            continue
        try:
            run = PromptRun.from_json(data)
        except BadPromptRun as exc:
            out.updates.append(ledger.finish(item.id, "failed", step="persisted", reason=str(exc)))
            out.counts["items_failed"] += 1
            continue
        row = _answer_row(batch.integration_id, item.id, item.external_id, run, extraction)
        answers.append(row)
        mentions_of[item.external_id] = [
            {
                "integration_id": batch.integration_id,
                "batch_day": run.key.batch_day,
                "prompt_id": run.key.prompt_id,
                "model": run.key.model,
                "ordinal": m.ordinal,
                "name": m.name,
                "entity_type": m.entity_type,
                "entity": m.entity,
                "position": m.position,
            }
            for m in located_mentions(row["answer"], extraction.result.get("entities") or [])
        ]
        out.updates.append(ledger.finish(item.id, "done", step="persisted"))
        out.counts["items_done"] += 1
        out.counts[f"answers_{row['path']}"] += 1
    stored = upsert(
        session, table_of(PromptAnswer), answers, keys=("integration_id", "external_id")
    )
    out.counts["prompt_answers_inserted"] += stored.inserted
    out.counts["prompt_answers_updated"] += stored.updated
    assert stored.ids is not None
    rows = [
        {**mention, "answer_id": stored.ids[(batch.integration_id, external_id)]}
        for external_id, mentions in mentions_of.items()
        for mention in mentions
    ]
    answer_ids = [stored.ids[(batch.integration_id, e)] for e in mentions_of]
    kept = upsert(session, table_of(EntityMention), rows, keys=("answer_id", "ordinal"))
    out.counts["entity_mentions_inserted"] += kept.inserted
    out.counts["entity_mentions_updated"] += kept.updated
    out.counts["entity_mentions_deleted"] += _drop_stale(session, answer_ids, rows)
    return out


def _extractions(session: Session, ids: Sequence[int]) -> dict[int, LlmExtraction]:
    if not ids:
        return {}
    return {
        row.id: row
        for row in session.scalars(sa.select(LlmExtraction).where(LlmExtraction.id.in_(set(ids))))
    }


def _answer_row(
    integration_id: int, item_id: int, external_id: str, run: PromptRun, found: LlmExtraction
) -> dict[str, Any]:
    extra = found.extra or {}
    path = extra.get("path") or ("offline" if extra.get("extractor") == "offline" else "structured")
    latency = extra.get("latency_ms")
    return {
        "integration_id": integration_id,
        "external_id": external_id,
        "source_item_id": item_id,
        "batch_day": run.key.batch_day,
        "prompt_id": run.key.prompt_id,
        "model": run.key.model[:128],
        "run_index": run.key.run_index,
        "answered_by": found.model[:128],
        "path": str(path)[:16],
        "answer": str(found.result.get("answer") or ""),
        "extraction_id": found.id,
        "input_tokens": found.input_tokens,
        "output_tokens": found.output_tokens,
        "cost_usd": found.cost_usd,
        "latency_ms": int(latency) if isinstance(latency, (int, float)) else None,
    }


def _drop_stale(session: Session, answer_ids: Sequence[int], kept: Sequence[dict[str, Any]]) -> int:
    """Remove mentions of these answers past their current list (an answer re-asked with
    fewer entities)."""
    if not answer_ids:
        return 0
    counts: dict[int, int] = {}
    for row in kept:
        counts[row["answer_id"]] = counts.get(row["answer_id"], 0) + 1
    deleted = 0
    for answer_id in answer_ids:
        result = session.execute(
            sa.delete(EntityMention).where(
                EntityMention.answer_id == answer_id,
                EntityMention.ordinal >= counts.get(answer_id, 0),
            )
        )
        deleted += getattr(result, "rowcount", 0) or 0
    return deleted
