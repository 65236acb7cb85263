"""Open and finished OpenAI batch jobs, by partition."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.models import LlmBatch, utcnow

__all__ = ["LlmBatch", "finish", "open_batch", "open_batches", "record"]


def open_batch(session: Session, part: PartitionKey) -> LlmBatch | None:
    """The partition's batch still being worked on by the provider, if any."""
    return session.scalar(
        sa.select(LlmBatch).where(
            LlmBatch.integration_id == part.integration_id,
            LlmBatch.partition_day == part.stored_day,
            LlmBatch.status == "submitted",
        )
    )


def open_batches(session: Session) -> list[LlmBatch]:
    return list(session.scalars(sa.select(LlmBatch).where(LlmBatch.status == "submitted")))


def finish(session: Session, batch: LlmBatch, *, status: str, error: str | None = None) -> None:
    batch.status = status
    batch.error = error
    batch.finished_at = utcnow()
    session.flush()


def record(
    session: Session,
    *,
    part: PartitionKey,
    provider_batch_id: str,
    input_file_id: str,
    task: str,
    model: str,
    prompt_version: str,
    requests: dict[str, str],
) -> LlmBatch:
    row = LlmBatch(
        provider_batch_id=provider_batch_id,
        input_file_id=input_file_id,
        integration_id=part.integration_id,
        partition_day=part.stored_day,
        task=task,
        model=model,
        prompt_version=prompt_version,
        requests=requests,
        status="submitted",
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(row)
    session.flush()
    return row
