"""Prompt sets and their prompts: what `ingest-pipeline prompts add|list|disable` store and
refuse, and how a prompt is found again by id or name."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import add_integration
from ingest_pipeline.store.models import Integration
from ingest_pipeline.store.prompt_models import Prompt
from ingest_pipeline.store.prompts import (
    DAILY_MINUTES,
    PromptError,
    PromptSpec,
    add_prompt,
    disable_prompt,
    find_prompt,
    list_prompts,
    prompt_set,
)

CRM = "Which CRM should a five-person agency use: HubSpot or Pipedrive?"
WIKI = "Compare Notion vs Confluence for an engineering wiki."


def new_set(url: str, name: str = "brand-watch") -> int:
    with session_scope(url) as session:
        return prompt_set(session, name, create=True).id


def add(url: str, set_id: int, spec: PromptSpec) -> Prompt:
    with session_scope(url) as session:
        row = session.get(Integration, set_id)
        assert row is not None
        return add_prompt(session, row, spec)


def stored_prompts(url: str) -> list[Prompt]:
    with session_scope(url) as session:
        return list_prompts(session)


def test_a_new_prompt_set_is_a_daily_prompts_integration_found_again_by_name(db_url: str) -> None:
    set_id = new_set(db_url)
    with session_scope(db_url) as session:
        found = prompt_set(session, "brand-watch")
        assert found.id == set_id
        assert (found.provider, found.stream, found.account) == (
            "prompts",
            "prompt_runs",
            "brand-watch",
        )
        assert found.task == "prompt_answer"
        assert found.sync_frequency_minutes == DAILY_MINUTES
        again = prompt_set(session, "brand-watch", create=True)
        assert again.id == set_id
        assert session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 1


def test_an_unknown_set_is_an_error_that_says_how_to_create_it(db_url: str) -> None:
    with session_scope(db_url) as session:
        with pytest.raises(PromptError, match=r"no prompt set named 'launch-week'.*prompts add"):
            prompt_set(session, "launch-week")
        assert session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 0


def test_the_name_of_another_kind_of_integration_is_not_a_prompt_set(db_url: str) -> None:
    with session_scope(db_url) as session:
        add_integration(
            session, provider="mailbox", account="/mail/in.mbox", task="job_posting", name="inbox"
        )
    with (
        session_scope(db_url) as session,
        pytest.raises(PromptError, match="'inbox' is a mailbox integration"),
    ):
        prompt_set(session, "inbox", create=True)
    with session_scope(db_url) as session:
        [only] = session.scalars(sa.select(Integration))
        assert (only.provider, only.stream) == ("mailbox", "mail")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (PromptSpec(text="   \n", models=("gpt-4o-mini",)), "text is empty"),
        (PromptSpec(text=CRM, models=()), "at least one model"),
        (PromptSpec(text=CRM, models=(" ", "")), "at least one model"),
        (PromptSpec(text=CRM, models=("gpt-4o-mini",), runs_per_day=0), "1 to 100, not 0"),
        (PromptSpec(text=CRM, models=("gpt-4o-mini",), runs_per_day=101), "1 to 100, not 101"),
    ],
    ids=["blank-text", "no-model", "blank-models", "no-runs", "too-many-runs"],
)
def test_a_prompt_that_cannot_run_is_refused_and_not_stored(
    db_url: str, spec: PromptSpec, says: str
) -> None:
    set_id = new_set(db_url)
    with pytest.raises(PromptError, match=says):
        add(db_url, set_id, spec)
    assert stored_prompts(db_url) == []


def test_the_run_count_limits_themselves_are_accepted(db_url: str) -> None:
    set_id = new_set(db_url)
    add(db_url, set_id, PromptSpec(text=CRM, models=("gpt-4o-mini",), runs_per_day=1))
    add(db_url, set_id, PromptSpec(text=WIKI, models=("gpt-4o-mini",), runs_per_day=100))
    assert [p.runs_per_day for p in stored_prompts(db_url)] == [1, 100]


def test_text_and_models_are_stored_trimmed_and_models_once_each(db_url: str) -> None:
    set_id = new_set(db_url)
    add(
        db_url,
        set_id,
        PromptSpec(
            text=f"  {CRM}\n", models=("gpt-4o-mini", " gpt-4o ", "gpt-4o-mini"), owner="ana"
        ),
    )
    [prompt] = stored_prompts(db_url)
    assert prompt.text == CRM
    assert prompt.models == ["gpt-4o-mini", "gpt-4o"]
    assert (prompt.owner, prompt.tenant_id, prompt.active) == ("ana", "default", True)


def test_a_name_the_set_already_has_is_refused_but_another_set_may_use_it(db_url: str) -> None:
    first, second = new_set(db_url, "brand-watch"), new_set(db_url, "competitors")
    add(db_url, first, PromptSpec(text=CRM, models=("gpt-4o-mini",), name="crm"))
    with pytest.raises(PromptError, match="'brand-watch' already has a prompt named 'crm'"):
        add(db_url, first, PromptSpec(text=WIKI, models=("gpt-4o-mini",), name="crm"))
    add(db_url, second, PromptSpec(text=WIKI, models=("gpt-4o-mini",), name="crm"))
    assert [(p.integration_id, p.name) for p in stored_prompts(db_url)] == [
        (first, "crm"),
        (second, "crm"),
    ]


def test_an_unnamed_prompt_is_named_after_its_id(db_url: str) -> None:
    set_id = new_set(db_url)
    one = add(db_url, set_id, PromptSpec(text=CRM, models=("gpt-4o-mini",)))
    two = add(db_url, set_id, PromptSpec(text=WIKI, models=("gpt-4o-mini",)))
    assert [p.name for p in stored_prompts(db_url)] == [f"p{one.id}", f"p{two.id}"]


def test_an_unnamed_prompt_whose_default_name_is_taken_is_still_stored(db_url: str) -> None:
    set_id = new_set(db_url)
    named = add(db_url, set_id, PromptSpec(text=CRM, models=("gpt-4o-mini",), name="p2"))
    assert named.id == 1
    unnamed = add(db_url, set_id, PromptSpec(text=WIKI, models=("gpt-4o-mini",)))
    names = [p.name for p in stored_prompts(db_url)]
    assert len(set(names)) == 2
    assert unnamed.name in names


def test_a_prompt_is_found_by_id_or_by_name(db_url: str) -> None:
    set_id = new_set(db_url)
    crm = add(db_url, set_id, PromptSpec(text=CRM, models=("gpt-4o-mini",), name="crm"))
    wiki = add(db_url, set_id, PromptSpec(text=WIKI, models=("gpt-4o-mini",)))
    with session_scope(db_url) as session:
        assert find_prompt(session, str(crm.id)).text == CRM
        assert find_prompt(session, "crm").id == crm.id
        assert find_prompt(session, wiki.name).id == wiki.id
        with pytest.raises(PromptError, match=r"no prompt 'pricing'.*prompts list"):
            find_prompt(session, "pricing")
        with pytest.raises(PromptError, match="no prompt '999'"):
            find_prompt(session, "999")


def test_a_name_two_sets_use_needs_the_set_or_the_id(db_url: str) -> None:
    first, second = new_set(db_url, "brand-watch"), new_set(db_url, "competitors")
    add(db_url, first, PromptSpec(text=CRM, models=("gpt-4o-mini",), name="crm"))
    theirs = add(db_url, second, PromptSpec(text=WIKI, models=("gpt-4o-mini",), name="crm"))
    with session_scope(db_url) as session:
        with pytest.raises(PromptError, match="2 prompts are named 'crm': give --set"):
            find_prompt(session, "crm")
        assert find_prompt(session, "crm", integration_id=second).text == WIKI
        assert find_prompt(session, str(theirs.id)).integration_id == second
        with pytest.raises(PromptError, match="no prompt"):
            find_prompt(session, str(theirs.id), integration_id=first)


def test_disabling_keeps_the_prompt_and_says_when_and_twice_is_a_no_op(db_url: str) -> None:
    set_id = new_set(db_url)
    prompt = add(db_url, set_id, PromptSpec(text=CRM, models=("gpt-4o-mini",), name="crm"))
    first_time = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
    with session_scope(db_url) as session:
        assert disable_prompt(session, find_prompt(session, "crm"), now=first_time) is True
    with session_scope(db_url) as session:
        found = find_prompt(session, str(prompt.id))
        assert (found.active, found.disabled_at, found.text) == (False, first_time, CRM)
        later = first_time + dt.timedelta(hours=3)
        assert disable_prompt(session, found, now=later) is False
    with session_scope(db_url) as session:
        assert find_prompt(session, "crm").disabled_at == first_time


def test_listing_active_prompts_leaves_out_disabled_ones_and_other_sets(db_url: str) -> None:
    first, second = new_set(db_url, "brand-watch"), new_set(db_url, "competitors")
    crm = add(db_url, first, PromptSpec(text=CRM, models=("gpt-4o-mini",), name="crm"))
    wiki = add(db_url, first, PromptSpec(text=WIKI, models=("gpt-4o-mini",), name="wiki"))
    paused = add(
        db_url, first, PromptSpec(text="Pricing?", models=("gpt-4o",), name="paused", active=False)
    )
    other = add(db_url, second, PromptSpec(text=CRM, models=("gpt-4o",), name="crm"))
    with session_scope(db_url) as session:
        disable_prompt(session, find_prompt(session, "wiki"))

    def ids(integration_id: int | None = None, *, active_only: bool = False) -> list[int]:
        with session_scope(db_url) as session:
            listed = list_prompts(session, integration_id=integration_id, active_only=active_only)
            return [p.id for p in listed]

    assert ids() == [crm.id, wiki.id, paused.id, other.id]
    assert ids(first) == [crm.id, wiki.id, paused.id]
    assert ids(first, active_only=True) == [crm.id]
    assert ids(active_only=True) == [crm.id, other.id]
