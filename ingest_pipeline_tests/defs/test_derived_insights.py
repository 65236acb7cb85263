"""Relationship insights downstream of mail (and meetings) through Dagster: offline by
default and labelled so; through the local OpenAI-compatible server with the real client,
paid once per recent history (a re-run calls nothing), held by the daily spend limit
without failing the run, and brought up to date when a meeting arrives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.extraction.relationship_insight_rules import extract_relationship_insight
from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.defs.test_derived_mail import DAY, MEETING, _import_and_derive
from ingest_pipeline_tests.fakes.openai_chat import ChatRequest
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    count_rows,
    derive,
    register_source,
    run_days,
    snapshot,
)

INSIGHTS = "select summary, next_step, model from contact_insights order by contact_id"


def _rows(db_url: str, sql: str) -> list[tuple[object, ...]]:
    with get_engine(db_url).connect() as c:
        return [tuple(r) for r in c.execute(sa.text(sql))]


def insight_model(request: ChatRequest) -> dict[str, object]:
    """A model that answers the relationship-insight task from the interaction lines."""
    text = request.messages[-1]["content"]
    lines = text[text.index("Person:") : text.rindex("EMAIL>>>")].strip()
    return extract_relationship_insight(lines) | {"summary": "LLM: " + lines.splitlines()[0]}


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=insight_model) as server:
        monkeypatch.setenv("INGEST_OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("INGEST_OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("INGEST_OPENAI_MAX_RETRIES", "2")
        yield server


def test_offline_insights_summarise_each_person_and_say_what_wrote_them(
    db_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    _key, metrics = _import_and_derive(db_url, dagster_instance, tmp_path)

    insights = {row[0].split(" <")[0]: row for row in _rows(db_url, INSIGHTS)}  # type: ignore[union-attr]
    # Priya, Sam and the second Alex: the people of the mail, not the automated senders.
    assert set(insights) == {"Priya Raman", "Sam Ortiz", "Alex Kim"}
    summary, next_step, model = insights["Priya Raman"]
    assert model == "offline-rules-1"
    assert "1 email from them, 1 email to them on 2026-11-16" in str(summary)
    assert next_step is None  # the last word was the account's
    assert str(insights["Alex Kim"][1]).startswith('Reply to their email "Coffee?"')
    assert metrics["contact_insights.insights_inserted"] == 3


def test_llm_insights_are_paid_once_and_a_rerun_calls_nothing(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
    openai_server: FakeOpenAI,
) -> None:
    key, _ = _import_and_derive(sqlite_url, dagster_instance, tmp_path)
    openai_server.faults.next.append("429")

    [first] = derive(sqlite_url, dagster_instance, key, [DAY], extractor="openai")

    assert first.success, first.error
    assert first.metrics["contact_insights.llm_calls"] == 3
    assert {row[2] for row in _rows(sqlite_url, INSIGHTS)} == {"gpt-4o-mini"}
    assert all(str(row[0]).startswith("LLM: Person:") for row in _rows(sqlite_url, INSIGHTS))
    assert check_results(dagster_instance, first.run_id)["mail_contacts_have_insights"] is True
    calls, before = openai_server.stats.chat_calls, snapshot(sqlite_url)

    [again] = derive(sqlite_url, dagster_instance, key, [DAY], extractor="openai")

    assert again.success and again.metrics.get("contact_insights.llm_calls", 0) == 0
    assert openai_server.stats.chat_calls == calls
    assert snapshot(sqlite_url) == before
    cost = count_rows(sqlite_url, "select count(*) from llm_extractions where cost_usd > 0")
    assert cost == 3


def test_the_spend_limit_holds_insights_back_without_failing_the_run(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
    openai_server: FakeOpenAI,
) -> None:
    key, _ = _import_and_derive(sqlite_url, dagster_instance, tmp_path)

    [held] = derive(
        sqlite_url, dagster_instance, key, [DAY], extractor="openai", llm_budget_usd=0.0
    )

    assert held.success, held.error
    assert held.metrics["contact_insights.insights_waiting_for_llm_budget"] == 3
    assert openai_server.stats.chat_calls == 0
    # The check names who is waiting; the offline insights stay until the LLM's arrive.
    assert check_results(dagster_instance, held.run_id)["mail_contacts_have_insights"] is False
    assert {row[2] for row in _rows(sqlite_url, INSIGHTS)} == {"offline-rules-1"}


def test_a_meeting_brings_the_persons_insight_up_to_date(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    _import_and_derive(sqlite_url, dagster_instance, tmp_path)
    calendar = tmp_path / "calendar.ics"
    calendar.write_text(MEETING)
    key = register_source(sqlite_url, calendar, provider="ics", stream="calendar_events")
    assert all(
        o.success
        for o in run_days(sqlite_url, dagster_instance, key, [DAY], stream="calendar_events")
    )

    [derived] = derive(sqlite_url, dagster_instance, key, [DAY], stream="calendar_events")

    assert derived.success, derived.error
    assert derived.metrics["meeting_contact_insights.insights_updated"] == 1
    [priya] = [r for r in _rows(sqlite_url, INSIGHTS) if str(r[0]).startswith("Priya")]
    assert "1 meeting" in str(priya[0])
    assert str(priya[1]).startswith('Follow up on the meeting "Platform role: first call"')
