"""The extraction cache: one stored result per (content hash, task, model, prompt version)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ingest_pipeline.domain import ExtractionOutcome, sha256_hex
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.extraction_cache import load_results, lookup, save
from ingest_pipeline.store.models import LlmExtraction

HASH = sha256_hex(b"Senior Python engineer, remote, 6 months")
TASK = "job_posting"


def outcome(result: dict[str, Any] | None = None, **changes: Any) -> ExtractionOutcome:
    fields: dict[str, Any] = {
        "result": result if result is not None else {"title": "Python engineer", "remote": True},
        "model": "gpt-4o-mini",
        "prompt_version": "v1",
        "input_tokens": 812,
        "output_tokens": 64,
        "cost_usd": 0.00016,
        "request_id": "req_123",
        "extra": {"finish_reason": "stop"},
    }
    fields.update(changes)
    return ExtractionOutcome(**fields)


def store(url: str, content_hash: str, result: ExtractionOutcome) -> int:
    with session_scope(url) as session:
        return save(session, content_hash=content_hash, task=TASK, outcome=result)


def find(
    url: str, *hashes: str, task: str = TASK, model: str = "gpt-4o-mini", prompt: str = "v1"
) -> dict[str, int]:
    with session_scope(url) as session:
        return lookup(session, list(hashes), task=task, model=model, prompt_version=prompt)


def test_a_saved_result_is_found_by_its_full_key(db_url: str) -> None:
    saved = outcome()
    extraction_id = store(db_url, HASH, saved)
    other = sha256_hex(b"another message")
    assert find(db_url, HASH, other) == {HASH: extraction_id}
    with session_scope(db_url) as session:
        assert load_results(session, [extraction_id]) == {extraction_id: saved.result}
        row = session.get(LlmExtraction, extraction_id)
        assert row is not None
        assert (row.input_tokens, row.output_tokens, row.request_id, row.extra) == (
            812,
            64,
            "req_123",
            {"finish_reason": "stop"},
        )
        assert row.cost_usd == 0.00016


def test_another_prompt_version_model_or_task_is_a_miss(db_url: str) -> None:
    store(db_url, HASH, outcome())
    assert find(db_url, HASH, prompt="v2") == {}
    assert find(db_url, HASH, model="gpt-4o") == {}
    assert find(db_url, HASH, task="job_application") == {}
    assert find(db_url, sha256_hex(b"other text")) == {}


def test_each_key_part_makes_its_own_entry(db_url: str) -> None:
    base = store(db_url, HASH, outcome())
    newer_prompt = store(db_url, HASH, outcome({"title": "v2 title"}, prompt_version="v2"))
    bigger_model = store(db_url, HASH, outcome({"title": "4o title"}, model="gpt-4o"))
    assert len({base, newer_prompt, bigger_model}) == 3
    assert find(db_url, HASH, prompt="v2") == {HASH: newer_prompt}
    assert find(db_url, HASH, model="gpt-4o") == {HASH: bigger_model}
    with session_scope(db_url) as session:
        results = load_results(session, [base, newer_prompt, bigger_model])
    assert results[newer_prompt] == {"title": "v2 title"}
    assert results[bigger_model] == {"title": "4o title"}


def test_saving_the_same_key_twice_keeps_one_row(db_url: str) -> None:
    first = store(db_url, HASH, outcome())
    second = store(db_url, HASH, outcome({"title": "a different answer"}, request_id="req_456"))
    assert second == first
    with session_scope(db_url) as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(LlmExtraction))
        assert count == 1
        assert load_results(session, [first]) == {first: outcome().result}


def test_lookup_and_load_of_nothing(db_url: str) -> None:
    assert find(db_url) == {}
    with session_scope(db_url) as session:
        assert load_results(session, []) == {}
