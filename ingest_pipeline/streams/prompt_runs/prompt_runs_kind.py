"""The prompt-runs stream kind: each active prompt of a prompt set, asked of each of its
models, ``runs_per_day`` times, on one UTC batch day."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.store.prompt_models import EntityMention, PromptAnswer
from ingest_pipeline.streams.prompt_runs.prompt_run import BadPromptRun, PromptRun
from ingest_pipeline.streams.prompt_runs.prompt_runs_persist import persist_prompt_runs
from ingest_pipeline.streams.stream_kind import (
    ParseOptions,
    PersistBatch,
    PersistOutcome,
    UnparseableItem,
    records_per_day,
)

EXAMPLES = 5


class PromptRunsKind:
    """A prompt set's daily batch: prompt × model × run index, answered through the models
    registry, with the entities each answer mentions."""

    name = "prompt_runs"
    dated = True
    looks_ahead = False
    parser_version = "prompt-run-1"
    default_task: str | None = "prompt_answer"
    llm_attempts = 3
    per_item_model = True
    schedule = "midnight"
    description = (
        "One prompt set's batch for one UTC day: every active prompt asked of each of its "
        "models runs_per_day times, each run an item (prompt × model × run index) answered "
        "through the models registry with a strict schema (JSON mode plus validation where "
        "a model has no structured outputs), stored with tokens, cost, latency and the "
        "entity mentions normalised. A failed answer is asked again by the next run, up to "
        "3 times. Its metadata are the run's metrics and the batch's status counts."
    )

    def parse(self, data: bytes, options: ParseOptions) -> dict[str, Any]:
        try:
            return PromptRun.from_json(json.loads(data)).to_json()
        except (ValueError, TypeError) as exc:
            raise UnparseableItem(f"not a prompt run: {exc}") from exc

    def task_input(self, parsed: dict[str, Any], task: TaskSpec) -> ExtractionInput:
        try:
            run = PromptRun.from_json(parsed)
        except BadPromptRun as exc:
            raise UnparseableItem(str(exc)) from exc
        return ExtractionInput.of(
            task=task.name, text=run.text, model=run.key.model, key=run.input_hash
        )

    def persist(self, session: Session, batch: PersistBatch) -> PersistOutcome:
        return persist_prompt_runs(session, batch)

    def stored_item_ids(self) -> sa.Select[tuple[int]]:
        return sa.select(PromptAnswer.source_item_id)

    def hidden_duplicates(self, session: Session, integration_id: int) -> dict[str, list[str]]:
        """One run (day, prompt, model, run index) answered twice, or an answer with two
        mentions at one place in its list."""
        found: dict[str, list[str]] = {}
        runs = session.execute(
            sa.select(
                PromptAnswer.batch_day,
                PromptAnswer.prompt_id,
                PromptAnswer.model,
                PromptAnswer.run_index,
                sa.func.count(),
            )
            .where(PromptAnswer.integration_id == integration_id)
            .group_by(
                PromptAnswer.batch_day,
                PromptAnswer.prompt_id,
                PromptAnswer.model,
                PromptAnswer.run_index,
            )
            .having(sa.func.count() > 1)
            .limit(EXAMPLES)
        ).all()
        if runs:
            found["prompt_answers"] = [
                f"{day} prompt {prompt} on {model} run {run} answered {n} times"
                for day, prompt, model, run, n in runs
            ]
        return found

    def produced_per_day(
        self, session: Session, integration_id: int, days: Sequence[dt.date]
    ) -> dict[str, dict[dt.date, int]]:
        return {
            "prompt_answers": records_per_day(
                session, PromptAnswer.id, PromptAnswer.source_item_id, integration_id, days
            ),
            "entity_mentions": {
                day: count
                for day, count in session.execute(
                    sa.select(EntityMention.batch_day, sa.func.count())
                    .where(
                        EntityMention.integration_id == integration_id,
                        EntityMention.batch_day.in_(days),
                    )
                    .group_by(EntityMention.batch_day)
                )
            },
        }
