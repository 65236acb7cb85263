"""The item ledger: recording enumerated items, claiming them, marking what happened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from ingest_pipeline.domain import ItemRef
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.integrations import add_integration
from ingest_pipeline.store.ledger import (
    PartitionKey,
    claim,
    finish,
    get_cursor,
    mark,
    record_enumerated,
    save_cursor,
    status_counts,
    unaccounted_items,
)
from ingest_pipeline.store.models import IngestItem

NOV2 = dt.date(2026, 11, 2)


@pytest.fixture
def part(db_url: str) -> PartitionKey:
    with session_scope(db_url) as session:
        integration = add_integration(
            session, provider="mailbox", account="/mail/in.mbox", task="job_posting"
        )
        return PartitionKey(integration_id=integration.id, day=NOV2, stream="mail")


def refs(*names: str) -> list[ItemRef]:
    return [
        ItemRef(external_id=n, received_at=dt.datetime(2026, 11, 2, 8, i, tzinfo=dt.UTC))
        for i, n in enumerate(names)
    ]


def record(url: str, part: PartitionKey, *names: str, run_id: str | None = "enum") -> list[int]:
    """Record the items and return the ids of those named, in the order named."""
    with session_scope(url) as session:
        record_enumerated(session, part, refs(*names), run_id=run_id)
    by_name = {i.external_id: i.id for i in items(url, part)}
    return [by_name[n] for n in names]


def items(url: str, part: PartitionKey) -> list[IngestItem]:
    with session_scope(url) as session:
        return list(
            session.scalars(
                sa.select(IngestItem)
                .where(
                    IngestItem.integration_id == part.integration_id,
                    IngestItem.partition_day == part.day,
                )
                .order_by(IngestItem.id)
            )
        )


def take(url: str, part: PartitionKey, **kwargs: Any) -> list[IngestItem]:
    kwargs.setdefault("step", "none")
    kwargs.setdefault("limit", 100)
    with session_scope(url) as session:
        return claim(session, part, **kwargs)


def apply(url: str, *updates: dict[str, Any]) -> None:
    with session_scope(url) as session:
        mark(session, list(updates))


@contextmanager
def writes(url: str) -> Iterator[list[str]]:
    engine = get_engine(url)
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def test_record_enumerated_adds_pending_items_once(db_url: str, part: PartitionKey) -> None:
    with session_scope(db_url) as session:
        assert record_enumerated(session, part, refs("a", "b", "a", "c"), run_id="r1").new == 3
    a, b, c = items(db_url, part)
    assert [(i.external_id, i.status, i.step, i.attempts) for i in (a, b, c)] == [
        ("a", "pending", "none", 0),
        ("b", "pending", "none", 0),
        ("c", "pending", "none", 0),
    ]
    assert b.received_at == dt.datetime(2026, 11, 2, 8, 1, tzinfo=dt.UTC)
    assert (b.partition_day, b.stream, b.run_id) == (NOV2, "mail", "r1")
    take(db_url, part, run_id="r1")
    apply(db_url, finish(a.id, "done", step="persisted"), {"id": b.id, "step": "fetched"})
    with session_scope(db_url) as session:
        assert record_enumerated(session, part, refs("a", "b", "c", "d"), run_id="r2").new == 1
    after = {i.external_id: i for i in items(db_url, part)}
    assert (after["a"].status, after["a"].step, after["a"].run_id) == ("done", "persisted", "r1")
    assert (after["b"].status, after["b"].step, after["b"].attempts) == ("processing", "fetched", 1)
    assert (after["d"].status, after["d"].run_id) == ("pending", "r2")
    assert len(after) == 4


def test_claim_in_id_order_with_limit_and_after_id(db_url: str, part: PartitionKey) -> None:
    ids = sorted(record(db_url, part, "e", "d", "c", "b", "a"))
    other_day = PartitionKey(part.integration_id, NOV2 + dt.timedelta(days=1), "mail")
    record(db_url, other_day, "tomorrow")
    first = take(db_url, part, run_id="run-1", limit=2)
    assert [i.id for i in first] == ids[:2]
    rest = take(db_url, part, run_id="run-1", limit=10, after_id=first[-1].id)
    assert [i.id for i in rest] == ids[2:]
    stored = items(db_url, part)
    assert {(i.status, i.run_id, i.attempts) for i in stored} == {("processing", "run-1", 1)}
    assert [i.status for i in items(db_url, other_day)] == ["pending"]


def test_claim_counts_an_attempt_only_at_step_none(db_url: str, part: PartitionKey) -> None:
    first, second = record(db_url, part, "x", "y")
    take(db_url, part, run_id="run-1")
    apply(db_url, {"id": first, "step": "fetched"})
    assert [i.id for i in take(db_url, part, run_id="run-1")] == [second]
    assert [i.id for i in take(db_url, part, step="fetched", run_id="run-2")] == [first]
    by_id = {i.id: i for i in items(db_url, part)}
    assert (by_id[first].attempts, by_id[first].run_id) == (1, "run-2")
    assert by_id[second].attempts == 1  # the same run claiming again is not a new attempt


def test_items_left_processing_by_another_run_are_reclaimed(
    db_url: str, part: PartitionKey
) -> None:
    ids = sorted(record(db_url, part, "p", "q"))
    take(db_url, part, run_id="killed-run")
    reclaimed = take(db_url, part, run_id="new-run")
    assert [i.id for i in reclaimed] == ids
    stored = items(db_url, part)
    assert {(i.status, i.run_id, i.attempts) for i in stored} == {("processing", "new-run", 2)}


def test_mark_and_finish_set_the_terminal_status_and_reason(
    db_url: str, part: PartitionKey
) -> None:
    done, failed, skipped, open_ = record(db_url, part, "ok", "bad", "spam", "later")
    take(db_url, part, run_id="r")
    apply(
        db_url,
        finish(done, "done", step="persisted"),
        finish(failed, "failed", reason="attachment is an encrypted PDF"),
        finish(skipped, "skipped", step="parsed", reason="not a job email"),
    )
    by_id = {i.id: i for i in items(db_url, part)}
    assert (by_id[done].status, by_id[done].step, by_id[done].last_error) == (
        "done",
        "persisted",
        None,
    )
    assert (by_id[failed].status, by_id[failed].step, by_id[failed].last_error) == (
        "failed",
        "none",
        "attachment is an encrypted PDF",
    )
    assert (by_id[skipped].status, by_id[skipped].step) == ("skipped", "parsed")
    assert by_id[skipped].last_error == "not a job email"
    assert by_id[open_].status == "processing"
    assert [i.id for i in take(db_url, part, run_id="next")] == [open_]
    with session_scope(db_url) as session:
        assert status_counts(session, part) == {
            "done": 1,
            "failed": 1,
            "skipped": 1,
            "processing": 1,
        }


def test_status_counts_only_count_the_partition(db_url: str, part: PartitionKey) -> None:
    record(db_url, part, "a", "b", "c")
    record(db_url, PartitionKey(part.integration_id, NOV2, stream="contacts"), "a")
    record(db_url, PartitionKey(part.integration_id, NOV2 - dt.timedelta(days=1), "mail"), "z")
    take(db_url, part, run_id="r", limit=1)
    with session_scope(db_url) as session:
        assert status_counts(session, part) == {"processing": 1, "pending": 2}
        empty = PartitionKey(part.integration_id, dt.date(2000, 1, 1), "mail")
        assert status_counts(session, empty) == {}


def test_unaccounted_items(db_url: str, part: PartitionKey) -> None:
    names = ["pending", "processing", "done", "failed-why", "failed-no-why", "skipped-empty"]
    ids = dict(zip(names, record(db_url, part, *names), strict=True))
    take(db_url, part, run_id="r")
    apply(
        db_url,
        {"id": ids["pending"], "status": "pending"},
        finish(ids["done"], "done", step="persisted"),
        finish(ids["failed-why"], "failed", reason="provider said 404"),
        finish(ids["failed-no-why"], "failed"),
        finish(ids["skipped-empty"], "skipped", reason=""),
    )
    with session_scope(db_url) as session:
        found = unaccounted_items(session, part)
        assert [i.external_id for i in found] == [
            "pending",
            "processing",
            "failed-no-why",
            "skipped-empty",
        ]
        assert len(unaccounted_items(session, part, limit=2)) == 2


def test_save_cursor_writes_only_changes(db_url: str, part: PartitionKey) -> None:
    with session_scope(db_url) as session:
        assert get_cursor(session, part) is None
        save_cursor(session, part, cursor="page-2", complete=False)
    with writes(db_url) as statements, session_scope(db_url) as session:
        save_cursor(session, part, cursor="page-2", complete=False)
    assert statements == []
    with writes(db_url) as statements, session_scope(db_url) as session:
        save_cursor(session, part, cursor=None, complete=True)
    assert len(statements) == 1
    with session_scope(db_url) as session:
        row = get_cursor(session, part)
        assert row is not None and (row.cursor, row.complete) == (None, True)
