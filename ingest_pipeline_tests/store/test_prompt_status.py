"""The status of prompt-set batches: run counts per set and day, narrowed to one day, one
prompt or one status, and the runs themselves with why they failed or were skipped."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from ingest_pipeline.domain import ItemRef
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import add_integration
from ingest_pipeline.store.ledger import (
    PartitionKey,
    claim,
    finish,
    in_partition,
    mark,
    record_enumerated,
)
from ingest_pipeline.store.models import IngestItem
from ingest_pipeline.store.prompt_status import (
    RunStatus,
    StatusFilter,
    batch_statuses,
    run_statuses,
)
from ingest_pipeline.store.prompts import prompt_set
from ingest_pipeline.streams.prompt_runs.prompt_run import PromptRunKey

DEC6 = dt.date(2026, 12, 6)
DEC7 = dt.date(2026, 12, 7)
MODEL = "gpt-4o-mini"
REFUSED = "gpt: the model refused to answer"
DISABLED = "prompt 'pricing' was disabled on 2026-12-06 08:00 UTC before this run asked it"


def run_id(day: dt.date, prompt: int, run: int) -> str:
    return PromptRunKey(day, prompt, run, MODEL).external_id


def enumerate_day(url: str, part: PartitionKey, *runs: tuple[int, int]) -> dict[str, int]:
    """Record the day's runs (prompt, run index) as enumerate does; their ledger ids."""
    assert part.day is not None
    received = dt.datetime.combine(part.day, dt.time(0), tzinfo=dt.UTC)
    refs = [ItemRef(run_id(part.day, p, r), received_at=received) for p, r in runs]
    with session_scope(url) as session:
        record_enumerated(session, part, refs, run_id="enumerate")
        listed = session.execute(
            sa.select(IngestItem.external_id, IngestItem.id).where(in_partition(part))
        )
        return dict(listed.tuples().all())


def end(url: str, *updates: dict[str, object]) -> None:
    with session_scope(url) as session:
        mark(session, list(updates))


@pytest.fixture
def batches(db_url: str) -> dict[str, int]:
    """Two days of the set "brand-watch" (prompts 1 and 12), a one-run day of the set
    "competitors", and a mailbox's ledger rows that are no prompt runs; returns the set ids
    and the ledger ids of the runs by external id."""
    with session_scope(db_url) as session:
        watch = prompt_set(session, "brand-watch", create=True).id
        rivals = prompt_set(session, "competitors", create=True).id
        mailbox = add_integration(
            session, provider="mailbox", account="/mail/in.mbox", task="job_posting"
        ).id
    runs = ((1, 1), (1, 2), (1, 3), (12, 1), (12, 2))
    first = enumerate_day(db_url, PartitionKey(watch, DEC6, "prompt_runs"), *runs)
    second = enumerate_day(db_url, PartitionKey(watch, DEC7, "prompt_runs"), *runs)
    theirs = enumerate_day(db_url, PartitionKey(rivals, DEC7, "prompt_runs"), (7, 1))
    with session_scope(db_url) as session:
        mail = PartitionKey(mailbox, DEC6, "mail")
        record_enumerated(session, mail, [ItemRef("<a@example.org>")], run_id="mail")
    with session_scope(db_url) as session:
        claim(session, PartitionKey(watch, DEC6, "prompt_runs"), step="none", run_id="r", limit=9)
    end(
        db_url,
        finish(first[run_id(DEC6, 1, 1)], "done", step="persisted"),
        finish(first[run_id(DEC6, 1, 2)], "failed", step="extracted", reason=REFUSED),
        finish(first[run_id(DEC6, 1, 3)], "skipped", step="fetched", reason=DISABLED),
        finish(first[run_id(DEC6, 12, 1)], "done", step="persisted"),
        finish(second[run_id(DEC7, 12, 1)], "done", step="persisted"),
        finish(theirs[run_id(DEC7, 7, 1)], "done", step="persisted"),
    )
    return {"brand-watch": watch, "competitors": rivals, **first, **second, **theirs}


def counts(**nonzero: int) -> dict[str, int]:
    return {"queued": 0, "processing": 0, "succeeded": 0, "failed": 0, "skipped": 0} | nonzero


def statuses(url: str, narrowed: StatusFilter) -> list[tuple[str, dt.date, dict[str, int]]]:
    with session_scope(url) as session:
        return [(b.prompt_set, b.day, b.counts) for b in batch_statuses(session, narrowed)]


def test_each_batch_counts_its_runs_by_status_newest_day_first(
    db_url: str, batches: dict[str, int]
) -> None:
    assert statuses(db_url, StatusFilter()) == [
        ("brand-watch", DEC7, counts(queued=4, succeeded=1)),
        ("competitors", DEC7, counts(succeeded=1)),
        ("brand-watch", DEC6, counts(processing=1, succeeded=2, failed=1, skipped=1)),
    ]
    with session_scope(db_url) as session:
        totals = [b.total for b in batch_statuses(session, StatusFilter())]
    assert totals == [5, 1, 5]


def test_a_batch_narrowed_to_one_set_and_one_day(db_url: str, batches: dict[str, int]) -> None:
    watch = batches["brand-watch"]
    assert statuses(db_url, StatusFilter(day=DEC6)) == [
        ("brand-watch", DEC6, counts(processing=1, succeeded=2, failed=1, skipped=1)),
    ]
    assert statuses(db_url, StatusFilter(integration_id=watch, day=DEC7)) == [
        ("brand-watch", DEC7, counts(queued=4, succeeded=1)),
    ]
    assert statuses(db_url, StatusFilter(day=dt.date(2026, 12, 8))) == []


def test_a_prompt_filter_counts_only_that_prompts_runs(
    db_url: str, batches: dict[str, int]
) -> None:
    """Prompt 1 is not prompt 12 (nor 12 prompt 1), though one id starts the other."""
    assert statuses(db_url, StatusFilter(prompt_id=1)) == [
        ("brand-watch", DEC7, counts(queued=3)),
        ("brand-watch", DEC6, counts(succeeded=1, failed=1, skipped=1)),
    ]
    assert statuses(db_url, StatusFilter(prompt_id=12)) == [
        ("brand-watch", DEC7, counts(queued=1, succeeded=1)),
        ("brand-watch", DEC6, counts(processing=1, succeeded=1)),
    ]
    assert statuses(db_url, StatusFilter(prompt_id=2)) == []


def test_a_status_filter_shows_only_the_batches_holding_it(
    db_url: str, batches: dict[str, int]
) -> None:
    assert statuses(db_url, StatusFilter(status="failed")) == [
        ("brand-watch", DEC6, counts(failed=1)),
    ]
    assert statuses(db_url, StatusFilter(status="queued", prompt_id=12)) == [
        ("brand-watch", DEC7, counts(queued=1)),
    ]


def test_the_runs_say_why_they_failed_or_were_skipped(db_url: str, batches: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        runs = run_statuses(session, StatusFilter(day=DEC6, prompt_id=1))
        not_done = run_statuses(session, StatusFilter(status="skipped"))
        newest = run_statuses(session, StatusFilter(prompt_id=12), limit=2)
    assert runs == [
        RunStatus("brand-watch", run_id(DEC6, 1, 1), "succeeded", 1, None),
        RunStatus("brand-watch", run_id(DEC6, 1, 2), "failed", 1, REFUSED),
        RunStatus("brand-watch", run_id(DEC6, 1, 3), "skipped", 1, DISABLED),
    ]
    assert not_done == [RunStatus("brand-watch", run_id(DEC6, 1, 3), "skipped", 1, DISABLED)]
    assert [r.external_id for r in newest] == [run_id(DEC7, 12, 1), run_id(DEC7, 12, 2)]


def test_an_unknown_status_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown status 'done'; one of: queued, processing"):
        StatusFilter(status="done")
