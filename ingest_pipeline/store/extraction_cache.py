"""The extraction cache (``llm_extractions``): a result per content hash, task, model and
prompt version, so a re-run or a duplicate message never pays twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import ExtractionOutcome
from ingest_pipeline.store.models import LlmExtraction
from ingest_pipeline.store.upsert import table_of, upsert


def lookup(
    session: Session, content_hashes: Sequence[str], *, task: str, model: str, prompt_version: str
) -> dict[str, int]:
    """The cached extraction id of each content hash that has one for this task/model/prompt."""
    if not content_hashes:
        return {}
    rows = session.execute(
        sa.select(LlmExtraction.content_hash, LlmExtraction.id).where(
            LlmExtraction.content_hash.in_(set(content_hashes)),
            LlmExtraction.task == task,
            LlmExtraction.model == model,
            LlmExtraction.prompt_version == prompt_version,
        )
    )
    return {key: value for key, value in rows}


def save(
    session: Session,
    *,
    content_hash: str,
    task: str,
    outcome: ExtractionOutcome,
    integration_id: int | None = None,
) -> int:
    """Store one outcome (kept if the same key is already stored) and return its id;
    ``integration_id`` is the integration whose run paid for it."""
    row = {
        "integration_id": integration_id,
        "content_hash": content_hash,
        "task": task,
        "model": outcome.model,
        "prompt_version": outcome.prompt_version,
        "result": outcome.result,
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        "cost_usd": outcome.cost_usd,
        "request_id": outcome.request_id,
        "extra": outcome.extra,
    }
    keys = ("content_hash", "task", "model", "prompt_version")
    result = upsert(session, table_of(LlmExtraction), [row], keys=keys, update=())
    assert result.ids is not None
    return int(result.ids[tuple(row[k] for k in keys)])


def load_results(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The stored result JSON of each extraction id."""
    if not ids:
        return {}
    rows = session.execute(
        sa.select(LlmExtraction.id, LlmExtraction.result).where(LlmExtraction.id.in_(set(ids)))
    )
    return {key: value for key, value in rows}
