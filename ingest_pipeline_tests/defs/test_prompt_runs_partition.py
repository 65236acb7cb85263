"""A prompt set's daily batch through Dagster against two local OpenAI-compatible
providers: one with strict structured outputs, one JSON-only.

What a user notices: every prompt × model × run answered exactly once per day, a re-run
asks nothing, one model failing for one prompt fails only that run (after the runs that
ask it again), the JSON-mode fallback taken and labelled, mentions stored and aggregated,
the batch's status counts as the materialization's metadata, and the midnight schedule.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.defs.code_location import build_definitions
from ingest_pipeline.defs.ingest_assets import stream_defs
from ingest_pipeline.defs.ingest_schedules import ingest_midnight_schedule
from ingest_pipeline.defs.local_launch import RunOutcome, derive_days, materialize_days
from ingest_pipeline.defs.resources import (
    AppDatabaseResource,
    EmbedderResource,
    extractor_from,
    limits_from,
)
from ingest_pipeline.extraction.llm_pacing_stores import pacing_url_for
from ingest_pipeline.settings import get_settings
from ingest_pipeline.store import prompts as prompts_repo
from ingest_pipeline.store.database import session_scope
from ingest_pipeline_tests.fakes.openai_server import ChatRequest, FakeOpenAI
from ingest_pipeline_tests.pipeline_runner import HISTORY_START, count_rows, ledger_rows
from ingest_pipeline_tests.schedule_ticks import tick

DAY = dt.date(2026, 12, 1)
BROKEN = "Which espresso machine"  # the prompt the JSON-only model answers badly


def answer_for(request: ChatRequest) -> dict[str, Any]:
    """A stand-in model: names the brands the prompt names, with a legal suffix on one."""
    prompt = str(request.messages[-1]["content"])
    if "CRM" in prompt:
        answer = "For a small team, **HubSpot** is easiest; Salesforce, Inc. scales furthest."
        names = [("HubSpot", "product"), ("Salesforce, Inc.", "company")]
    else:
        answer = "The Breville Barista Express and the Gaggia Classic are good first machines."
        names = [("Breville Barista Express", "product"), ("Gaggia Classic", "product")]
    entities = [
        {"name": n, "type": t, "normalized": n, "position": answer.find(n) + 1}  # off by one
        for n, t in names
    ]
    return {"answer": answer, "entities": entities}


def json_only_answer(request: ChatRequest) -> dict[str, Any]:
    """The JSON-only provider's model: for one prompt its answer misses a required field."""
    if BROKEN in str(request.messages[-1]["content"]):
        return {"answer": "Any machine will do."}
    return answer_for(request)


@dataclass
class Providers:
    strict: FakeOpenAI
    json_only: FakeOpenAI
    models_json: str


@pytest.fixture
def providers() -> Iterator[Providers]:
    with (
        FakeOpenAI(responder=answer_for, api_keys={"strict-key"}) as strict,
        FakeOpenAI(
            responder=json_only_answer, api_keys={"router-key"}, structured_outputs=False
        ) as json_only,
    ):
        models = {
            "strict-model": {
                "provider": "compatible",
                "base_url": strict.base_url,
                "api_model": "gpt-4o-mini",
                "input_price_per_million": 0.15,
                "output_price_per_million": 0.60,
                "rpm": 600,
                "tpm": 1_000_000,
            },
            "json-model": {
                "provider": "openrouter",
                "base_url": json_only.base_url,
                "api_model": "meta-llama/llama-3.1-8b-instruct",
                "structured_outputs": False,
                "input_price_per_million": 0.05,
                "output_price_per_million": 0.05,
            },
            # Said to take strict schemas, but its provider refuses them: the fallback.
            "claims-strict": {
                "provider": "openrouter",
                "base_url": json_only.base_url,
                "api_model": "mistralai/mistral-small",
            },
        }
        yield Providers(strict, json_only, json.dumps(models))


def prompt_job(db_url: str, providers: Providers, *, stream_job: str) -> dg.JobDefinition:
    extractor = extractor_from(
        get_settings(),
        kind="openai",
        models_json=providers.models_json,
        compatible_api_key="strict-key",
        openrouter_api_key="router-key",
        concurrency=4,
        pacing_url=pacing_url_for(db_url),
        openai_max_retries=0,
    )
    defs = build_definitions(
        {
            "app_db": AppDatabaseResource(url=db_url),
            "extractor": extractor,
            "limits": limits_from(get_settings()),
            "embedder": EmbedderResource(kind="offline"),
        },
        history_start=HISTORY_START,
    )
    return defs.resolve_job_def(stream_job)


def add_set(db_url: str, prompts: list[prompts_repo.PromptSpec]) -> str:
    with session_scope(db_url) as session:
        row = prompts_repo.prompt_set(session, "brand-watch", create=True)
        for spec in prompts:
            prompts_repo.add_prompt(session, row, spec)
        return row.partition_key or ""


def run(
    db_url: str, instance: dg.DagsterInstance, providers: Providers, key: str, day: dt.date
) -> RunOutcome:
    job = prompt_job(db_url, providers, stream_job="ingest_prompt_runs_job")
    [outcome] = materialize_days(instance, key, [day], stream="prompt_runs", job=job)
    return outcome


CRM = prompts_repo.PromptSpec(
    text="Which CRM should a ten-person startup pick?",
    models=("strict-model", "json-model"),
    runs_per_day=2,
    name="crm",
)
ESPRESSO = prompts_repo.PromptSpec(
    text=f"{BROKEN} is best for a beginner?", models=("strict-model", "json-model"), name="coffee"
)


def test_a_day_is_asked_once_per_run_and_answers_and_mentions_are_stored(
    db_url: str, dagster_instance: dg.DagsterInstance, providers: Providers
) -> None:
    key = add_set(db_url, [CRM])

    first = run(db_url, dagster_instance, providers, key, DAY)

    assert first.success, first.error
    assert first.metrics["batch_succeeded"] == 4 and first.metrics["batch_failed"] == 0
    assert first.metrics["answers_structured"] == 2 and first.metrics["answers_json_mode"] == 2
    assert [r.response_format["type"] for r in providers.strict.requests] == ["json_schema"] * 2
    assert [r.response_format["type"] for r in providers.json_only.requests] == ["json_object"] * 2
    assert all("temperature" not in r.body for r in providers.strict.requests)
    assert providers.strict.requests[0].messages[-1]["content"] == CRM.text
    answers = _rows(
        db_url,
        "SELECT model, run_index, answered_by, path, cost_usd, latency_ms, input_tokens "
        "FROM prompt_answers ORDER BY model, run_index",
    )
    assert [(a[0], a[1], a[2], a[3]) for a in answers] == [
        ("json-model", 1, "json-model", "json_mode"),
        ("json-model", 2, "json-model", "json_mode"),
        ("strict-model", 1, "strict-model", "structured"),
        ("strict-model", 2, "strict-model", "structured"),
    ]
    assert all(a[4] > 0 and a[5] is not None and a[6] > 0 for a in answers)
    mentions = _rows(
        db_url,
        "SELECT DISTINCT name, entity, position FROM entity_mentions ORDER BY entity",
    )
    answer = "For a small team, **HubSpot** is easiest; Salesforce, Inc. scales furthest."
    assert mentions == [
        ("HubSpot", "hubspot", answer.find("HubSpot")),
        ("Salesforce, Inc.", "salesforce", answer.find("Salesforce")),
    ]

    again = run(db_url, dagster_instance, providers, key, DAY)

    assert again.success and again.metrics["extraction_calls"] == 0
    assert len(providers.strict.requests) + len(providers.json_only.requests) == 4
    assert count_rows(db_url, "SELECT count(*) FROM prompt_answers") == 4

    next_day = run(db_url, dagster_instance, providers, key, DAY + dt.timedelta(days=1))
    assert next_day.metrics["batch_succeeded"] == 4
    ids = [row["external_id"] for row in ledger_rows(db_url)]
    assert len(ids) == len(set(ids)) == 8, "each run is one item per day"

    job = prompt_job(db_url, providers, stream_job="derive_prompt_runs_job")
    [derived] = derive_days(dagster_instance, key, [DAY], stream="prompt_runs", job=job)
    assert derived.success, derived.error
    daily = _rows(
        db_url,
        "SELECT model, entity, display_name, mentions, answers, prompts "
        "FROM entity_mentions_daily ORDER BY model, entity",
    )
    assert daily == [
        ("json-model", "hubspot", "HubSpot", 2, 2, 1),
        ("json-model", "salesforce", "Salesforce, Inc.", 2, 2, 1),
        ("strict-model", "hubspot", "HubSpot", 2, 2, 1),
        ("strict-model", "salesforce", "Salesforce, Inc.", 2, 2, 1),
    ]


def test_a_model_failing_for_one_prompt_fails_only_that_run_after_three_runs(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, providers: Providers
) -> None:
    key = add_set(sqlite_url, [CRM, ESPRESSO])

    outcomes = [run(sqlite_url, dagster_instance, providers, key, DAY) for _ in range(3)]

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    first, second, third = (o.metrics for o in outcomes)
    assert (first["batch_succeeded"], first["batch_queued"], first["batch_failed"]) == (5, 1, 0)
    assert (second["batch_queued"], second["batch_failed"]) == (1, 0)
    assert (third["batch_succeeded"], third["batch_queued"], third["batch_failed"]) == (5, 0, 1)
    broken = [r for r in ledger_rows(sqlite_url) if r["status"] != "done"]
    assert [(r["external_id"], r["status"]) for r in broken] == [
        (f"{DAY}:p2:r1:json-model", "failed")
    ]
    assert "does not fit the schema" in broken[0]["last_error"]
    assert "entities" in broken[0]["last_error"]
    espresso_calls = [
        r for r in providers.json_only.requests if BROKEN in str(r.messages[-1]["content"])
    ]
    assert len(espresso_calls) == 3, "asked once per run, three runs, then left failed"
    assert len(providers.strict.requests) == 3, "the strict model's answers were never re-asked"


def test_a_provider_refusing_strict_schemas_gets_json_mode_and_the_answer_says_so(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, providers: Providers
) -> None:
    spec = prompts_repo.PromptSpec(
        text="Which CRM do agencies use?", models=("claims-strict",), runs_per_day=3
    )
    key = add_set(sqlite_url, [spec])

    outcome = run(sqlite_url, dagster_instance, providers, key, DAY)

    assert outcome.success and outcome.metrics["answers_json_mode"] == 3
    kinds = [r.response_format["type"] for r in providers.json_only.requests]
    assert kinds.count("json_schema") >= 1 and kinds.count("json_object") == 3
    extras = [
        json.loads(e) if isinstance(e, str) else e
        for (e,) in _rows(sqlite_url, "SELECT extra FROM llm_extractions")
    ]
    assert all("strict schema refused" in e["fallback"] for e in extras)
    paths = _rows(sqlite_url, "SELECT DISTINCT path, answered_by FROM prompt_answers")
    assert paths == [("json_mode", "claims-strict")]


def test_midnight_runs_every_active_set_and_yesterday_where_runs_wait(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, providers: Providers
) -> None:
    waiting = add_set(sqlite_url, [CRM, ESPRESSO])
    with session_scope(sqlite_url) as session:
        done = prompts_repo.prompt_set(session, "done-set", create=True)
        prompts_repo.add_prompt(session, done, CRM)
        done_key = done.partition_key or ""
        paused = prompts_repo.prompt_set(session, "paused-set", create=True)
        paused.status = "disabled"
    yesterday = DAY - dt.timedelta(days=1)
    run(sqlite_url, dagster_instance, providers, waiting, yesterday)  # one run left queued
    run(sqlite_url, dagster_instance, providers, done_key, yesterday)
    schedule = ingest_midnight_schedule(
        stream_defs("prompt_runs", history_start=dt.date(2020, 1, 1))
    )
    requests = tick(
        schedule,
        dt.datetime.combine(DAY, dt.time(0), tzinfo=dt.UTC),
        {"app_db": AppDatabaseResource(url=sqlite_url)},
    )
    assert not isinstance(requests, dg.SkipReason)

    assert sorted(r.partition_key for r in requests) == sorted(
        [f"{DAY}|{waiting}", f"{DAY}|{done_key}", f"{yesterday}|{waiting}"]
    )
    assert schedule.cron_schedule == "0 0 * * *"
    assert len({r.run_key for r in requests}) == 3


def _rows(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    with session_scope(db_url) as session:
        return [tuple(row) for row in session.execute(sa.text(sql))]
