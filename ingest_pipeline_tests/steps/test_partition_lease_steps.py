"""Steps holding a partition's lease: waiting for a live holder, taking over an expired one,
giving up with the holder's name, noticing a takeover, and finishing a killed run's items.

Waiting is driven by an injected clock whose ``sleep`` advances it; only the heartbeat
(a real thread) runs on wall-clock time, and it is awaited with a generous deadline.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from ingest_pipeline.extraction.offline_extractor import OfflineExtractor
from ingest_pipeline.steps.enumerate_step import enumerate_partition
from ingest_pipeline.steps.fetch_step import fetch_partition
from ingest_pipeline.steps.integration_source import open_source
from ingest_pipeline.steps.parse_step import parse_partition
from ingest_pipeline.steps.partition_lease import (
    PartitionBusy,
    acquire_partition,
    ensure_still_held,
    hold_partition,
    release_partition,
)
from ingest_pipeline.steps.partition_runner import run_partition
from ingest_pipeline.steps.step_context import IntegrationInfo, LeaseLost, LeaseTerms, StepContext
from ingest_pipeline.store import ledger, partition_leases
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.partition_leases import LeaseHolder
from ingest_pipeline.streams.registry import get_stream
from ingest_pipeline.streams.stream_kind import ParseOptions
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.pipeline_runner import ledger_rows, register_mailbox, snapshot

DAY = dt.date(2026, 11, 2)
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
HEARTBEAT_DEADLINE = 15.0


class FakeClock:
    """A clock that moves only when the code under test sleeps; records every sleep."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[dt.datetime], None] = lambda _: None

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += dt.timedelta(seconds=seconds)
        self.on_sleep(self.now)


def step_ctx(
    db_url: str, key: str, *, run_id: str | None = None, ttl: float = 60.0, wait: float = 30.0
) -> StepContext:
    """A step's context for the sample mailbox's 2026-11-02 partition; run ids are unique
    because the lost-lease registry is process-wide."""
    with session_scope(db_url) as session:
        info = IntegrationInfo.of(find_integration(session, key))
    return StepContext(
        database_url=db_url,
        integration=info,
        part=PartitionKey(integration_id=info.id, day=DAY, stream="mail"),
        run_id=run_id or f"run-{uuid.uuid4().hex[:12]}",
        lease=LeaseTerms(ttl_seconds=ttl, wait_seconds=wait),
    )


def take_lease(ctx: StepContext, now: dt.datetime) -> None:
    """``ctx``'s run takes the lease at ``now`` (fails if another live run holds it)."""
    with session_scope(ctx.database_url) as session:
        held_by = partition_leases.try_acquire(
            session, ctx.part, run_id=ctx.run_id, now=now, ttl_seconds=ctx.lease.ttl_seconds
        )
    assert held_by is None, held_by


def lease_holder(ctx: StepContext) -> LeaseHolder | None:
    with session_scope(ctx.database_url) as session:
        return partition_leases.holder(session, ctx.part)


@pytest.fixture
def key(db_url: str) -> str:
    return register_mailbox(db_url, SAMPLE_MBOX)


def test_acquire_waits_for_a_live_holder_and_takes_over_when_it_expires(
    db_url: str, key: str
) -> None:
    holder_ctx = step_ctx(db_url, key, ttl=60)
    waiter = step_ctx(db_url, key, ttl=60, wait=600)
    take_lease(holder_ctx, T0)
    clock = FakeClock(T0)

    acquire_partition(waiter, clock=clock, sleep=clock.sleep, poll_seconds=5)

    # Refused at T0 .. T0+60 s (13 polls, the lease is still live at exactly its expiry),
    # taken over at T0+65 s.
    assert clock.sleeps == [5.0] * 13
    assert lease_holder(waiter) == LeaseHolder(waiter.run_id, T0 + dt.timedelta(seconds=125))


def test_acquire_gets_in_at_the_next_poll_once_the_holder_releases(db_url: str, key: str) -> None:
    holder_ctx = step_ctx(db_url, key, ttl=60)
    waiter = step_ctx(db_url, key, ttl=60, wait=600)
    take_lease(holder_ctx, T0)
    clock = FakeClock(T0)

    def holder_finishes(now: dt.datetime) -> None:
        if now == T0 + dt.timedelta(seconds=3):
            release_partition(holder_ctx)

    clock.on_sleep = holder_finishes

    acquire_partition(waiter, clock=clock, sleep=clock.sleep, poll_seconds=1)

    assert clock.sleeps == [1.0] * 3
    assert lease_holder(waiter) == LeaseHolder(waiter.run_id, T0 + dt.timedelta(seconds=63))


def test_acquire_gives_up_after_the_wait_naming_the_holder(db_url: str, key: str) -> None:
    holder_ctx = step_ctx(db_url, key, ttl=60)
    waiter = step_ctx(db_url, key, ttl=60, wait=10)
    take_lease(holder_ctx, T0)
    clock = FakeClock(T0)

    with pytest.raises(PartitionBusy) as raised:
        acquire_partition(waiter, clock=clock, sleep=clock.sleep, poll_seconds=2)

    assert sum(clock.sleeps) == 10
    message = str(raised.value)
    assert f"run {holder_ctx.run_id}" in message
    assert "2026-11-02" in message and key in message
    assert lease_holder(waiter) == LeaseHolder(holder_ctx.run_id, T0 + dt.timedelta(seconds=60))


def test_acquire_without_a_wait_fails_at_once(db_url: str, key: str) -> None:
    holder_ctx = step_ctx(db_url, key, ttl=60)
    waiter = step_ctx(db_url, key, ttl=60, wait=0)
    take_lease(holder_ctx, T0)
    clock = FakeClock(T0)

    with pytest.raises(PartitionBusy, match=holder_ctx.run_id):
        acquire_partition(waiter, clock=clock, sleep=clock.sleep, poll_seconds=2)

    assert clock.sleeps == []


def wait_until(what: str, probe: Callable[[], bool], *, timeout: float) -> None:
    """Poll ``probe`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)


def lease_lost(ctx: StepContext) -> bool:
    try:
        ensure_still_held(ctx)
    except LeaseLost:
        return True
    return False


def test_a_run_whose_lease_was_taken_over_stops_with_lease_lost(db_url: str, key: str) -> None:
    """The heartbeat renews the lease while it is ours, and marks it lost after a takeover."""
    owner = step_ctx(db_url, key, ttl=0.3)
    successor = step_ctx(db_url, key, ttl=60)

    with hold_partition(owner):
        first = lease_holder(owner)
        assert first is not None and first.run_id == owner.run_id
        wait_until(
            "the heartbeat to renew the lease",
            lambda: (h := lease_holder(owner)) is not None and h.expires_at > first.expires_at,
            timeout=HEARTBEAT_DEADLINE,
        )
        ensure_still_held(owner)

        # The successor's clock is past the owner's expiry: as if the owner had stalled.
        take_lease(successor, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        wait_until("the heartbeat to notice", lambda: lease_lost(owner), timeout=HEARTBEAT_DEADLINE)

        with pytest.raises(LeaseLost, match=owner.run_id):
            ensure_still_held(owner)
    holder_now = lease_holder(owner)
    assert holder_now is not None and holder_now.run_id == successor.run_id


def test_acquiring_again_clears_a_lost_lease(db_url: str, key: str) -> None:
    """A run that lost the lease and later gets it back (a retried step) may work again."""
    owner = step_ctx(db_url, key, ttl=0.3)
    successor = step_ctx(db_url, key, ttl=60)
    with hold_partition(owner):
        take_lease(successor, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        wait_until("the heartbeat to notice", lambda: lease_lost(owner), timeout=HEARTBEAT_DEADLINE)
    release_partition(successor)

    acquire_partition(owner)

    ensure_still_held(owner)
    release_partition(owner)


def item_states(db_url: str) -> list[tuple[str, str | None]]:
    with get_engine(db_url).connect() as c:
        return [
            (r[0], r[1])
            for r in c.execute(sa.text("select status, run_id from ingest_items order by id"))
        ]


def test_the_next_run_takes_over_a_killed_runs_items_after_its_lease_expired(
    db_url: str, key: str, make_db: Callable[[str], str]
) -> None:
    dialect = "sqlite" if db_url.startswith("sqlite") else "postgres"
    reference_url = make_db(dialect)
    reference_key = register_mailbox(reference_url, SAMPLE_MBOX)
    assert reference_key == key
    reference_ctx = step_ctx(reference_url, key)
    run_partition(
        reference_ctx,
        open_source(reference_ctx, credentials_key=None),
        extractor=OfflineExtractor(),
    )

    # Run A took the lease an hour ago, listed, fetched and parsed, claimed a gpt batch and
    # died: no renewals, no release, its items left `processing`.
    killed = step_ctx(db_url, key, ttl=60)
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    acquire_partition(killed, clock=lambda: an_hour_ago)
    source = open_source(killed, credentials_key=None)
    enumerate_partition(killed, source)
    fetch_partition(killed, source)
    parse_partition(killed, kind=get_stream("mail"), options=ParseOptions())
    with session_scope(db_url) as session:
        claimed = ledger.claim(session, killed.part, step="parsed", run_id=killed.run_id, limit=3)
        assert len(claimed) == 3
    assert {status for status, _ in item_states(db_url)} == {"processing"}
    assert {run for _, run in item_states(db_url)} == {killed.run_id}

    successor = step_ctx(db_url, key, ttl=60)
    metrics = run_partition(
        successor, open_source(successor, credentials_key=None), extractor=OfflineExtractor()
    )

    assert metrics["enumerated"] == 10 and metrics["new_items"] == 0
    rows = ledger_rows(db_url)
    assert len(rows) == 10
    assert all(r["status"] in {"done", "skipped", "failed"} for r in rows), rows
    assert {run for _, run in item_states(db_url)} == {successor.run_id}
    assert lease_holder(successor) is None
    assert snapshot(db_url, natural=True) == snapshot(reference_url, natural=True)
