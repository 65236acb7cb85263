"""Embeddings downstream of ingest/mail through Dagster, against the local OpenAI-compatible
server with the real openai client: every message, posting and candidate gets a vector, a
text seen before costs nothing, a re-run calls nothing and changes nothing, search and
matching read them, and each check fails on the corruption it guards against."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.defs.resources import EmbedderResource
from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.derived.matching import match_posting
from ingest_pipeline.derived.registry import DERIVED
from ingest_pipeline.derived.vector_search import search
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    corrupt_with,
    count_rows,
    derive,
    register_mailbox,
    run_days,
    snapshot,
)

DAYS = [dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
MODEL = "text-embedding-3-small"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _embedder(fake: FakeOpenAI, **overrides: Any) -> EmbedderResource:
    fields: dict[str, Any] = {
        "kind": "openai",
        "model": MODEL,
        "base_url": fake.base_url,
        "api_key": "test-key",
        "dimensions": 64,
        "batch_size": 16,
        "concurrency": 2,
        "max_retries": 3,
    }
    return EmbedderResource(**{**fields, **overrides})


def _import(db_url: str, instance: dg.DagsterInstance, embedder: EmbedderResource) -> list[str]:
    """The sample mailbox twice (postings, then applications), ingested and derived."""
    keys = [
        register_mailbox(db_url, SAMPLE_MBOX),
        register_mailbox(db_url, SAMPLE_MBOX, task="job_application", job_id=1),
    ]
    for key in keys:
        assert all(o.success for o in run_days(db_url, instance, key, DAYS))
        outcomes = derive(db_url, instance, key, DAYS, embedder=embedder)
        assert all(o.success for o in outcomes), [o.error for o in outcomes]
    return keys


def _records(db_url: str) -> int:
    return sum(
        count_rows(db_url, f"select count(*) from {table}")  # noqa: S608
        for table in ("messages", "job_postings", "candidates")
    )


def test_every_message_posting_and_candidate_is_embedded_once_per_text(
    db_url: str, dagster_instance: dg.DagsterInstance, fake: FakeOpenAI
) -> None:
    _import(db_url, dagster_instance, _embedder(fake))

    model = f"{MODEL}@64"
    assert count_rows(db_url, "select count(*) from embeddings") == _records(db_url)
    distinct_texts = count_rows(db_url, "select count(*) from embedding_vectors")
    # The second mailbox holds the same messages: their texts were paid for once.
    assert fake.embedding_stats.inputs == distinct_texts < _records(db_url)
    assert {r.dimensions for r in fake.embedding_requests} == {64}
    assert count_rows(db_url, "select count(*) from embeddings where model <> :m", m=model) == 0
    runs = [r for r in dagster_instance.get_runs() if r.job_name == "derive_mail_job"]
    assert runs and all(
        check_results(dagster_instance, r.run_id)
        == {
            "every_record_has_an_embedding": True,
            "vectors_are_well_formed": True,
            "interactions_match_messages": True,
            "one_interaction_per_person": True,
            "every_person_has_a_contact": True,
            "mail_relationships_on_the_timeline": True,
            "mail_contacts_have_insights": True,
        }
        for r in runs
    )


def test_a_rerun_with_nothing_new_calls_nothing_and_changes_nothing(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, fake: FakeOpenAI
) -> None:
    embedder = _embedder(fake)
    keys = _import(sqlite_url, dagster_instance, embedder)
    calls, before = fake.embedding_stats.calls, snapshot(sqlite_url)

    for key in keys:
        assert all(o.success for o in run_days(sqlite_url, dagster_instance, key, DAYS))
        [*outcomes] = derive(sqlite_url, dagster_instance, key, DAYS, embedder=embedder)
        assert all(o.metrics.get("embeddings.embedded", 0) == 0 for o in outcomes)

    assert fake.embedding_stats.calls == calls
    assert snapshot(sqlite_url) == before


def test_rate_limits_are_retried_and_a_failed_run_keeps_what_it_paid_for(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, fake: FakeOpenAI
) -> None:
    key = register_mailbox(sqlite_url, SAMPLE_MBOX)
    assert all(o.success for o in run_days(sqlite_url, dagster_instance, key, DAYS))
    fake.faults.next.extend(["429", "500"])

    outcomes = derive(sqlite_url, dagster_instance, key, DAYS[:1], embedder=_embedder(fake))

    assert all(o.success for o in outcomes)
    assert fake.embedding_stats.ok == fake.embedding_stats.calls - 2

    # Four texts per request, no retries: the first request is answered ("refusal" is a
    # chat-only fault, a pass for embeddings), the second fails the run with its reason.
    one_at_a_time = _embedder(fake, batch_size=4, concurrency=1, max_retries=0)
    fake.faults.next.extend(["refusal", "500"])
    [failed] = derive(sqlite_url, dagster_instance, key, DAYS[1:], embedder=one_at_a_time)
    assert not failed.success and "Error code: 500" in (failed.error or "")
    paid = fake.embedding_stats.inputs
    kept = count_rows(sqlite_url, "select count(*) from embedding_vectors")

    [again] = derive(sqlite_url, dagster_instance, key, DAYS[1:], embedder=one_at_a_time)

    assert again.success, again.error
    # What the failed run paid for was kept and not asked for again.
    assert again.metrics["embeddings.cache_hits"] >= 4
    total = count_rows(sqlite_url, "select count(*) from embedding_vectors")
    assert fake.embedding_stats.inputs - paid == total - kept


def test_search_and_matching_read_the_stored_vectors(
    sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    offline = EmbedderResource(kind="offline")
    _import(sqlite_url, dagster_instance, offline)
    embedder = offline.build()
    [query] = embedder.embed(["Senior Java developer Spring Boot Kafka microservices"])

    with session_scope(sqlite_url) as session:
        hits = search(session, "default", embedder.label, query, kinds=["job_posting"], k=3)
        [posting_id] = session.execute(
            sa.text("select id from job_postings where title like '%Java%' order by id limit 1")
        ).scalars()
        matches = match_posting(session, posting_id, embedder.label, top=3)

    assert hits and "Java" in hits[0].label
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert matches and matches[0].shared_skills
    assert matches[0].score >= matches[-1].score


CORRUPTIONS = {
    "a posting lost its embedding": (
        "every_record_has_an_embedding",
        corrupt_with("delete from embeddings where kind = 'job_posting'"),
    ),
    "a vector went missing": (
        "every_record_has_an_embedding",
        corrupt_with(
            "delete from embedding_vectors where content_hash = "
            "(select min(content_hash) from embeddings where kind = 'message')"
        ),
    ),
    "a vector was truncated": (
        "vectors_are_well_formed",
        corrupt_with("update embedding_vectors set dims = dims + 1"),
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_each_embeddings_check_fails_on_the_corruption_it_guards_against(
    case: str, sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    name, corrupt = CORRUPTIONS[case]
    offline = EmbedderResource(kind="offline")
    key = register_mailbox(sqlite_url, SAMPLE_MBOX)
    assert all(o.success for o in run_days(sqlite_url, dagster_instance, key, DAYS[:1]))
    assert all(o.success for o in derive(sqlite_url, dagster_instance, key, DAYS[:1]))
    [check] = [c for d in DERIVED for c in d.checks if c.name == name]

    def problems() -> list[str]:
        with session_scope(sqlite_url) as session:
            integration = find_integration(session, key)
            return check.find(DeriveInputs(session, integration, DAYS[0], offline.build))

    assert problems() == []
    corrupt(sqlite_url)
    assert problems()
