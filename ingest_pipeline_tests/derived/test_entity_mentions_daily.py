"""Mentions per entity × model × day of a prompt set: what the UI plots, rewritten to match
the day's mentions, and the check that catches an aggregate that no longer does."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.derived.entity_mentions_daily import (
    aggregate_matches_mentions,
    derive_entity_mentions_daily,
)
from ingest_pipeline.domain import ExtractionOutcome, ItemRef
from ingest_pipeline.store import extraction_cache
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.ledger import PartitionKey, in_partition, record_enumerated
from ingest_pipeline.store.models import IngestItem, Integration
from ingest_pipeline.store.prompt_models import EntityMention, EntityMentionsDaily, PromptAnswer
from ingest_pipeline.store.prompts import PromptSpec, add_prompt, prompt_set
from ingest_pipeline.streams.prompt_runs.entity_names import normalize_entity
from ingest_pipeline.streams.prompt_runs.prompt_run import PromptRun, PromptRunKey
from ingest_pipeline_tests.pipeline_runner import corrupt_with

DEC6 = dt.date(2026, 12, 6)
DEC7 = dt.date(2026, 12, 7)
MINI, FULL = "gpt-4o-mini", "gpt-4o"
CRM = "Which CRM should a five-person agency use?"
WIKI = "Which wiki should an engineering team use?"


@dataclass(frozen=True)
class Answered:
    """One run's answer as a test writes it: the set, the run, the names it mentions."""

    prompt_set: str
    day: dt.date
    prompt: str
    model: str
    run: int
    names: tuple[str, ...]


@dataclass
class PromptSets:
    url: str
    sets: dict[str, int] = field(default_factory=dict)
    prompts: dict[tuple[str, str], int] = field(default_factory=dict)

    def answer(self, answered: Answered) -> None:
        """Store one answer and its mentions as persist does: ledger item, cached
        extraction, answer row, one mention row per name."""
        set_id = self.sets[answered.prompt_set]
        prompt_id = self.prompts[(answered.prompt_set, answered.prompt)]
        key = PromptRunKey(answered.day, prompt_id, answered.run, answered.model)
        text = f"{answered.prompt}?"
        run = PromptRun(key=key, prompt_name=answered.prompt, text=text)
        reply = "Consider " + ", ".join(answered.names) + "."
        part = PartitionKey(set_id, answered.day, "prompt_runs")
        with session_scope(self.url) as session:
            record_enumerated(session, part, [ItemRef(key.external_id)], run_id="enumerate")
            item_id = session.scalar(
                sa.select(IngestItem.id).where(
                    in_partition(part), IngestItem.external_id == key.external_id
                )
            )
            assert item_id is not None
            outcome = ExtractionOutcome(
                result={"answer": reply, "entities": []}, model=answered.model, prompt_version="v1"
            )
            extraction_id = extraction_cache.save(
                session, content_hash=run.input_hash, task="prompt_answer", outcome=outcome
            )
            row = PromptAnswer(
                integration_id=set_id,
                external_id=key.external_id,
                source_item_id=item_id,
                batch_day=answered.day,
                prompt_id=prompt_id,
                model=answered.model,
                run_index=answered.run,
                answered_by=answered.model,
                path="structured",
                answer=reply,
                extraction_id=extraction_id,
            )
            session.add(row)
            session.flush()
            session.add_all(
                EntityMention(
                    answer_id=row.id,
                    integration_id=set_id,
                    batch_day=answered.day,
                    prompt_id=prompt_id,
                    model=answered.model,
                    ordinal=ordinal,
                    name=name,
                    entity_type="company",
                    entity=normalize_entity(name),
                    position=reply.index(name),
                )
                for ordinal, name in enumerate(answered.names)
            )

    def derive(self, day: dt.date = DEC6, name: str = "brand-watch") -> Counter[str]:
        with session_scope(self.url) as session:
            return derive_entity_mentions_daily(self._inputs(session, day, name))

    def problems(self, day: dt.date = DEC6, name: str = "brand-watch") -> list[str]:
        with session_scope(self.url) as session:
            return aggregate_matches_mentions(self._inputs(session, day, name))

    def daily(self, day: dt.date = DEC6, name: str = "brand-watch") -> list[tuple[Any, ...]]:
        """The partition's rows: model, entity, display name, mentions, answers, prompts."""
        with session_scope(self.url) as session:
            rows = session.scalars(
                sa.select(EntityMentionsDaily)
                .where(
                    EntityMentionsDaily.integration_id == self.sets[name],
                    EntityMentionsDaily.batch_day == day,
                )
                .order_by(EntityMentionsDaily.model, EntityMentionsDaily.entity)
            )
            return [
                (r.model, r.entity, r.display_name, r.mentions, r.answers, r.prompts) for r in rows
            ]

    def _inputs(self, session: Session, day: dt.date, name: str) -> DeriveInputs:
        integration = session.get(Integration, self.sets[name])
        assert integration is not None
        return DeriveInputs(session=session, integration=integration, day=day)


ANSWERS = (
    Answered("brand-watch", DEC6, "crm", MINI, 1, ("HubSpot", "Pipedrive")),
    Answered("brand-watch", DEC6, "crm", MINI, 2, ("Hubspot", "HubSpot")),
    Answered("brand-watch", DEC6, "wiki", MINI, 1, ("Notion", "HubSpot")),
    Answered("brand-watch", DEC6, "crm", FULL, 1, ("HubSpot, Inc.",)),
    Answered("brand-watch", DEC7, "crm", MINI, 1, ("Zoho",)),
    Answered("competitors", DEC6, "crm", MINI, 1, ("HubSpot", "Salesforce")),
)
EXPECTED = [
    (FULL, "hubspot", "HubSpot, Inc.", 1, 1, 1),
    (MINI, "hubspot", "HubSpot", 4, 3, 2),
    (MINI, "notion", "Notion", 1, 1, 1),
    (MINI, "pipedrive", "Pipedrive", 1, 1, 1),
]


@pytest.fixture
def answered(db_url: str) -> PromptSets:
    """Two prompt sets with a crm and a wiki prompt each, and the `ANSWERS` stored."""
    state = PromptSets(db_url)
    with session_scope(db_url) as session:
        for name in ("brand-watch", "competitors"):
            row = prompt_set(session, name, create=True)
            state.sets[name] = row.id
            for prompt, text in (("crm", CRM), ("wiki", WIKI)):
                spec = PromptSpec(text=text, models=(MINI, FULL), runs_per_day=2, name=prompt)
                state.prompts[(name, prompt)] = add_prompt(session, row, spec).id
    for answer in ANSWERS:
        state.answer(answer)
    return state


def test_the_day_is_counted_per_entity_and_model_under_its_most_common_name(
    answered: PromptSets,
) -> None:
    assert answered.derive() == Counter(entity_mentions_daily_inserted=4)
    assert answered.daily() == EXPECTED
    assert answered.problems() == []


def test_each_day_and_each_set_is_its_own_partition(answered: PromptSets) -> None:
    answered.derive()
    answered.derive(DEC7)
    answered.derive(name="competitors")
    assert answered.daily() == EXPECTED
    assert answered.daily(DEC7) == [(MINI, "zoho", "Zoho", 1, 1, 1)]
    assert answered.daily(name="competitors") == [
        (MINI, "hubspot", "HubSpot", 1, 1, 1),
        (MINI, "salesforce", "Salesforce", 1, 1, 1),
    ]


def test_a_tie_between_written_forms_shows_the_first_alphabetically(answered: PromptSets) -> None:
    answered.answer(Answered("brand-watch", DEC7, "wiki", MINI, 1, ("zoho", "Zoho Corp")))
    answered.derive(DEC7)
    assert answered.daily(DEC7) == [(MINI, "zoho", "Zoho", 3, 2, 2)]
    answered.answer(Answered("brand-watch", DEC7, "wiki", MINI, 2, ("Zoho Corp", "Zoho Corp")))
    answered.derive(DEC7)
    assert answered.daily(DEC7) == [(MINI, "zoho", "Zoho Corp", 5, 3, 2)]


def test_deriving_again_changes_nothing(answered: PromptSets) -> None:
    answered.derive()
    assert answered.derive() == Counter()
    assert answered.daily() == EXPECTED


def test_a_mention_taken_back_updates_or_removes_its_row(answered: PromptSets) -> None:
    answered.derive()
    corrupt_with(
        "delete from entity_mentions where name in ('Pipedrive', 'Hubspot')",
    )(answered.url)
    assert answered.problems() != []
    assert answered.derive() == Counter(
        entity_mentions_daily_updated=1, entity_mentions_daily_deleted=1
    )
    assert answered.daily() == [
        (FULL, "hubspot", "HubSpot, Inc.", 1, 1, 1),
        (MINI, "hubspot", "HubSpot", 3, 3, 2),
        (MINI, "notion", "Notion", 1, 1, 1),
    ]
    assert answered.problems() == []


def test_a_day_without_mentions_has_no_rows(answered: PromptSets) -> None:
    assert answered.derive(dt.date(2026, 12, 8)) == Counter()
    assert answered.daily(dt.date(2026, 12, 8)) == []
    assert answered.problems(dt.date(2026, 12, 8)) == []


CORRUPTIONS: dict[str, tuple[Callable[[str], None], str]] = {
    "wrong-count": (
        corrupt_with(
            "update entity_mentions_daily set mentions = mentions + 1 where entity = 'notion'"
        ),
        "notion on gpt-4o-mini: mentions/answers/prompts (2, 1, 1) stored, (1, 1, 1) counted",
    ),
    "row-missing": (
        corrupt_with("delete from entity_mentions_daily where entity = 'pipedrive'"),
        "pipedrive on gpt-4o-mini: no daily row for 1 mention(s)",
    ),
    "row-without-mentions": (
        corrupt_with(
            "update entity_mentions_daily set entity = 'monday' where entity = 'pipedrive'"
        ),
        "monday on gpt-4o-mini: a daily row but no mention on 2026-12-06",
    ),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_the_check_fails_on_an_aggregate_that_no_longer_matches(
    answered: PromptSets, corruption: str
) -> None:
    answered.derive()
    corrupt, says = CORRUPTIONS[corruption]
    corrupt(answered.url)
    assert says in answered.problems()
    answered.derive()
    assert answered.problems() == []
