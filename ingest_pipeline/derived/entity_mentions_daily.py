"""Mentions per entity × model × day of a prompt set, for the UI to plot.

Computed per partition (prompt set × batch day) from ``entity_mentions`` and rewritten to
match them: an entity no answer of the day mentions any more loses its row.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.store.models import Integration
from ingest_pipeline.store.prompt_models import EntityMention, EntityMentionsDaily, PromptAnswer
from ingest_pipeline.store.upsert import table_of, upsert

KEYS = ("integration_id", "batch_day", "model", "entity")
EXAMPLES = 10


def daily_rows(session: Session, integration_id: int, day: dt.date) -> list[dict[str, Any]]:
    """The aggregate rows the day's mentions make: per (model, entity) the mentions, the
    answers and prompts they come from, and the most common written name (ties: the first
    in alphabetical order)."""
    mentions = session.execute(
        sa.select(
            EntityMention.model,
            EntityMention.entity,
            EntityMention.name,
            EntityMention.answer_id,
            EntityMention.prompt_id,
        ).where(EntityMention.integration_id == integration_id, EntityMention.batch_day == day)
    ).all()
    names: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    answers: dict[tuple[str, str], set[int]] = defaultdict(set)
    prompts: dict[tuple[str, str], set[int]] = defaultdict(set)
    for model, entity, name, answer_id, prompt_id in mentions:
        names[(model, entity)][name] += 1
        answers[(model, entity)].add(answer_id)
        prompts[(model, entity)].add(prompt_id)
    return [
        {
            "integration_id": integration_id,
            "batch_day": day,
            "model": model,
            "entity": entity,
            "display_name": min(written, key=lambda n: (-written[n], n)),
            "mentions": sum(written.values()),
            "answers": len(answers[(model, entity)]),
            "prompts": len(prompts[(model, entity)]),
        }
        for (model, entity), written in sorted(names.items())
    ]


def derive_entity_mentions_daily(inputs: DeriveInputs) -> Counter[str]:
    """Rewrite the partition's aggregate rows; counts inserted, updated and deleted."""
    session, integration_id, day = inputs.session, inputs.integration.id, inputs.day
    rows = daily_rows(session, integration_id, day)
    stored = upsert(session, table_of(EntityMentionsDaily), rows, keys=KEYS, id_column=None)
    keep = {(r["model"], r["entity"]) for r in rows}
    stale = [
        (model, entity)
        for model, entity in session.execute(
            sa.select(EntityMentionsDaily.model, EntityMentionsDaily.entity).where(
                EntityMentionsDaily.integration_id == integration_id,
                EntityMentionsDaily.batch_day == day,
            )
        ).tuples()
        if (model, entity) not in keep
    ]
    for model, entity in stale:
        session.execute(
            sa.delete(EntityMentionsDaily).where(
                EntityMentionsDaily.integration_id == integration_id,
                EntityMentionsDaily.batch_day == day,
                EntityMentionsDaily.model == model,
                EntityMentionsDaily.entity == entity,
            )
        )
    return Counter(
        entity_mentions_daily_inserted=stored.inserted,
        entity_mentions_daily_updated=stored.updated,
        entity_mentions_daily_deleted=len(stale),
    )


def aggregate_matches_mentions(inputs: DeriveInputs) -> list[str]:
    """Every (model, entity) the day's mentions hold has its row with the right counts,
    and no row counts what no mention holds."""
    session, integration_id, day = inputs.session, inputs.integration.id, inputs.day
    expected = {(r["model"], r["entity"]): r for r in daily_rows(session, integration_id, day)}
    actual = {
        (row.model, row.entity): row
        for row in session.scalars(
            sa.select(EntityMentionsDaily).where(
                EntityMentionsDaily.integration_id == integration_id,
                EntityMentionsDaily.batch_day == day,
            )
        )
    }
    problems = [
        f"{entity} on {model}: no daily row for {row['mentions']} mention(s)"
        for (model, entity), row in expected.items()
        if (model, entity) not in actual
    ]
    problems += [
        f"{entity} on {model}: a daily row but no mention on {day}"
        for (model, entity) in actual
        if (model, entity) not in expected
    ]
    for key, row in expected.items():
        got = actual.get(key)
        if got is None:
            continue
        counts = (got.mentions, got.answers, got.prompts)
        wanted = (row["mentions"], row["answers"], row["prompts"])
        if counts != wanted:
            problems.append(
                f"{key[1]} on {key[0]}: mentions/answers/prompts {counts} stored, {wanted} counted"
            )
    return problems[:EXAMPLES]


@dataclass(frozen=True)
class EntityTotal:
    """One entity's mentions by one model over some days, and who answered (the model, or
    ``offline-rules-1`` when no LLM was asked)."""

    display_name: str
    model: str
    mentions: int
    answers: int
    answered_by: str


def top_entities(
    session: Session, prompt_set: str, days: Sequence[dt.date], *, limit: int = 8
) -> list[EntityTotal]:
    """The set's most mentioned entities over ``days``, per model, from the daily rows."""
    rows = session.execute(
        sa.select(
            EntityMentionsDaily.entity,
            EntityMentionsDaily.model,
            sa.func.max(EntityMentionsDaily.display_name),
            sa.func.sum(EntityMentionsDaily.mentions),
            sa.func.sum(EntityMentionsDaily.answers),
        )
        .join(Integration, Integration.id == EntityMentionsDaily.integration_id)
        .where(Integration.name == prompt_set, EntityMentionsDaily.batch_day.in_(days))
        .group_by(EntityMentionsDaily.entity, EntityMentionsDaily.model)
        .order_by(sa.func.sum(EntityMentionsDaily.mentions).desc(), EntityMentionsDaily.entity)
        .limit(limit)
    ).all()
    answered = {
        model: by
        for model, by in session.execute(
            sa.select(PromptAnswer.model, sa.func.max(PromptAnswer.answered_by))
            .join(Integration, Integration.id == PromptAnswer.integration_id)
            .where(Integration.name == prompt_set, PromptAnswer.batch_day.in_(days))
            .group_by(PromptAnswer.model)
        )
    }
    return [
        EntityTotal(name, model, int(mentions), int(answers), answered.get(model, model))
        for _entity, model, name, mentions, answers in rows
    ]
