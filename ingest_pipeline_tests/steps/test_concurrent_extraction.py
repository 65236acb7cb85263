"""The gpt step keeps many calls in flight, stores every paid result as it arrives, and stops
paying at the day's LLM budget, against the local OpenAI-compatible server."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import openai as openai_errors
import pytest
import sqlalchemy as sa

from ingest_pipeline.extraction.openai_extractor import OpenAIConfig, OpenAIExtractor
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline.sources.registry import build_source
from ingest_pipeline.steps.enumerate_step import enumerate_partition
from ingest_pipeline.steps.extract_step import extract_partition
from ingest_pipeline.steps.fetch_step import fetch_partition
from ingest_pipeline.steps.parse_step import parse_partition
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext
from ingest_pipeline.store import ledger
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.integrations import find_integration, set_llm_budget
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.streams.registry import get_stream
from ingest_pipeline.streams.stream_kind import ParseOptions
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI
from ingest_pipeline_tests.llm_answers import POSTING
from ingest_pipeline_tests.pipeline_runner import count_rows, register_mailbox

DAY = dt.date(2026, 11, 4)  # 10 messages, 10 distinct inputs
TODAY = dt.date(2026, 11, 29)
MAIL = get_stream("mail")
TASK = get_task("job_posting")


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=lambda request: dict(POSTING), latency_seconds=0.4) as fake:
        yield fake


def copy_of_sample(folder: Path) -> Path:
    copy = folder / "copy.mbox"
    shutil.copyfile(SAMPLE_MBOX, copy)
    return copy


def parsed_partition(db_url: str, mailbox: Path = SAMPLE_MBOX) -> StepContext:
    """The mailbox's DAY listed, fetched and parsed, ready for the gpt step."""
    key = register_mailbox(db_url, mailbox)
    with session_scope(db_url) as session:
        info = IntegrationInfo.of(find_integration(session, key))
    ctx = StepContext(db_url, info, PartitionKey(info.id, DAY, "mail"), uuid.uuid4().hex)
    source = build_source(provider="mailbox", account=str(mailbox))
    enumerate_partition(ctx, source)
    fetch_partition(ctx, source)
    parse_partition(ctx, kind=MAIL, options=ParseOptions())
    return ctx


def openai(server: FakeOpenAI) -> OpenAIExtractor:
    return OpenAIExtractor(OpenAIConfig(api_key="test", base_url=server.base_url, max_retries=0))


def extract(ctx: StepContext, server: FakeOpenAI, **options: Any) -> dict[str, Any]:
    return extract_partition(ctx, kind=MAIL, task=TASK, extractor=openai(server), **options)


def test_calls_overlap_and_every_result_is_stored(sqlite_url: str, server: FakeOpenAI) -> None:
    ctx = parsed_partition(sqlite_url)

    metrics = extract(ctx, server, concurrency=8)

    assert metrics["extraction_calls"] == server.stats.chat_ok == 10
    assert server.stats.max_in_flight >= 4, "calls were made one at a time"
    assert count_rows(sqlite_url, "select count(*) from llm_extractions") == 10
    assert (
        count_rows(sqlite_url, "select count(*) from ingest_items where step = 'extracted'") == 10
    )


def test_the_daily_budget_stops_paying_and_the_next_day_continues(
    sqlite_url: str, server: FakeOpenAI
) -> None:
    ctx = parsed_partition(sqlite_url)
    one_call = 0.0006  # the step reserves its estimate of each call before making it

    first = extract(ctx, server, concurrency=2, daily_budget_usd=3 * one_call, today=TODAY)

    paid = first["extraction_calls"]
    assert 1 <= paid < 10
    assert first["waiting_for_llm_budget"] == 10 - paid
    assert first["llm_spent_today_usd"] <= 3 * one_call
    waiting = sa.text("select last_error from ingest_items where step = 'parsed'")
    with get_engine(sqlite_url).connect() as c:
        reasons = {row[0] for row in c.execute(waiting)}
    assert reasons == {
        f"LLM budget for {TODAY.isoformat()} reached: ${first['llm_spent_today_usd']:.4f} "
        f"of ${3 * one_call:.2f} spent; the next day's runs continue"
    }
    with session_scope(sqlite_url) as session:
        loose = ledger.unaccounted_items(session, ctx.part)
        assert [i.step for i in loose if i.step == "parsed"] == []  # waiting, with a reason

    # Results are stored with today's wall-clock time, so "tomorrow" has spent nothing yet.
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    second = extract(ctx, server, concurrency=2, daily_budget_usd=3 * one_call * 10, today=tomorrow)

    assert second["extraction_calls"] == 10 - paid and second["waiting_for_llm_budget"] == 0
    assert server.stats.chat_ok == 10  # every input paid for once


def test_an_integrations_own_budget_stops_only_its_runs(
    sqlite_url: str, server: FakeOpenAI, tmp_path: Path
) -> None:
    one_call = 0.0006
    limited = parsed_partition(sqlite_url)
    with session_scope(sqlite_url) as session:
        row = find_integration(session, limited.integration.partition_key)
        set_llm_budget(session, row, 2 * one_call)
        limited = replace(limited, integration=IntegrationInfo.of(row))
    other = parsed_partition(sqlite_url, mailbox=copy_of_sample(tmp_path))

    first = extract(limited, server, concurrency=2, today=TODAY)
    second = extract(other, server, concurrency=2, today=TODAY)

    paid = first["extraction_calls"]
    assert 1 <= paid < 10 and first["waiting_for_llm_budget"] == 10 - paid
    assert first["llm_integration_daily_budget_usd"] == 2 * one_call
    assert first["llm_integration_spent_today_usd"] <= 2 * one_call
    with get_engine(sqlite_url).connect() as c:
        reasons = {
            row[0]
            for row in c.execute(
                sa.text("select last_error from ingest_items where step = 'parsed'")
            )
        }
    assert len(reasons) == 1
    [reason] = reasons
    assert reason.startswith(f"LLM budget of {limited.integration.partition_key} for {TODAY}")
    # The other integration has no budget of its own: it pays for what the first did not.
    assert second["waiting_for_llm_budget"] == 0
    assert second["extraction_calls"] == 10 - paid
    spent = sa.text("select integration_id, count(*) from llm_extractions group by 1")
    with get_engine(sqlite_url).connect() as c:
        assert dict(c.execute(spent).all()) == {
            limited.integration.id: paid,
            other.integration.id: 10 - paid,
        }


def test_a_run_stopped_by_an_error_keeps_every_result_it_paid_for(
    sqlite_url: str, server: FakeOpenAI
) -> None:
    ctx = parsed_partition(sqlite_url)
    calls = {"n": 0}

    def answer_then_break(request: Any) -> dict:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("the provider broke mid-run")  # a 500 the client won't retry
        return dict(POSTING)

    server.responder = answer_then_break

    with pytest.raises(openai_errors.InternalServerError):
        extract(ctx, server, concurrency=4)

    assert server.stats.chat_ok >= 4
    assert count_rows(sqlite_url, "select count(*) from llm_extractions") == server.stats.chat_ok
