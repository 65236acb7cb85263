"""Partition leases: one run holds a partition until its lease expires or it lets go.

Time is injected through ``now``: every expiry below is a timestamp, never a wait.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.integrations import add_integration
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.partition_leases import LeaseHolder, holder, release, renew, try_acquire

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
TTL = 60.0
RACE_ROUNDS = 40


def at(seconds: float) -> dt.datetime:
    """``seconds`` after T0."""
    return T0 + dt.timedelta(seconds=seconds)


def new_partition(url: str) -> PartitionKey:
    """A mail partition of a newly registered integration."""
    with session_scope(url) as session:
        integration = add_integration(
            session, provider="mailbox", account="/mail/in.mbox", task="job_posting"
        )
        return PartitionKey(integration_id=integration.id, day=dt.date(2026, 11, 2), stream="mail")


@pytest.fixture
def part(db_url: str) -> PartitionKey:
    return new_partition(db_url)


def acquire(url: str, part: PartitionKey, run_id: str, now: dt.datetime) -> LeaseHolder | None:
    """`try_acquire` in its own committed transaction, as a run's step does."""
    with session_scope(url) as session:
        return try_acquire(session, part, run_id=run_id, now=now, ttl_seconds=TTL)


def renew_as(url: str, part: PartitionKey, run_id: str, now: dt.datetime) -> bool:
    with session_scope(url) as session:
        return renew(session, part, run_id=run_id, now=now, ttl_seconds=TTL)


def release_as(url: str, part: PartitionKey, run_id: str) -> None:
    with session_scope(url) as session:
        release(session, part, run_id=run_id)


def current(url: str, part: PartitionKey) -> LeaseHolder | None:
    with session_scope(url) as session:
        return holder(session, part)


def lease_rows(url: str) -> int:
    with get_engine(url).connect() as c:
        return int(c.execute(sa.text("select count(*) from partition_leases")).scalar_one())


def test_a_free_partition_is_acquired(db_url: str, part: PartitionKey) -> None:
    assert current(db_url, part) is None

    assert acquire(db_url, part, "run-a", T0) is None

    assert current(db_url, part) == LeaseHolder(run_id="run-a", expires_at=at(TTL))


def test_a_live_lease_refuses_another_run_and_names_the_holder(
    db_url: str, part: PartitionKey
) -> None:
    assert acquire(db_url, part, "run-a", T0) is None

    assert acquire(db_url, part, "run-b", at(30)) == LeaseHolder("run-a", at(TTL))
    assert acquire(db_url, part, "run-b", at(TTL)) == LeaseHolder("run-a", at(TTL))

    assert current(db_url, part) == LeaseHolder("run-a", at(TTL))
    assert lease_rows(db_url) == 1


def test_the_holder_acquiring_again_renews(db_url: str, part: PartitionKey) -> None:
    assert acquire(db_url, part, "run-a", T0) is None

    assert acquire(db_url, part, "run-a", at(50)) is None

    assert current(db_url, part) == LeaseHolder("run-a", at(50 + TTL))


def test_renew_extends_the_lease_past_its_first_expiry(db_url: str, part: PartitionKey) -> None:
    assert acquire(db_url, part, "run-a", T0) is None

    assert renew_as(db_url, part, "run-a", at(40)) is True

    assert current(db_url, part) == LeaseHolder("run-a", at(40 + TTL))
    # Without the renewal the lease would have expired at T0 + 60 s.
    assert acquire(db_url, part, "run-b", at(TTL + 20)) == LeaseHolder("run-a", at(40 + TTL))


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_renew(
    db_url: str, part: PartitionKey
) -> None:
    assert acquire(db_url, part, "run-a", T0) is None

    assert acquire(db_url, part, "run-b", at(TTL + 1)) is None

    assert current(db_url, part) == LeaseHolder("run-b", at(2 * TTL + 1))
    assert renew_as(db_url, part, "run-a", at(TTL + 2)) is False
    assert current(db_url, part) == LeaseHolder("run-b", at(2 * TTL + 1))
    assert acquire(db_url, part, "run-a", at(TTL + 3)) == LeaseHolder("run-b", at(2 * TTL + 1))


def test_renew_of_a_partition_nobody_holds_is_false(db_url: str, part: PartitionKey) -> None:
    assert renew_as(db_url, part, "run-a", T0) is False
    assert current(db_url, part) is None


def test_release_lets_the_next_run_in_at_once(db_url: str, part: PartitionKey) -> None:
    assert acquire(db_url, part, "run-a", T0) is None

    release_as(db_url, part, "run-a")

    assert current(db_url, part) is None
    assert acquire(db_url, part, "run-b", at(1)) is None
    assert current(db_url, part) == LeaseHolder("run-b", at(1 + TTL))


def test_release_leaves_another_runs_lease_alone(db_url: str, part: PartitionKey) -> None:
    assert acquire(db_url, part, "run-a", T0) is None
    assert acquire(db_url, part, "run-b", at(TTL + 1)) is None  # took the expired lease over

    release_as(db_url, part, "run-a")  # the old holder finishing late

    assert current(db_url, part) == LeaseHolder("run-b", at(2 * TTL + 1))
    assert acquire(db_url, part, "run-c", at(TTL + 2)) == LeaseHolder("run-b", at(2 * TTL + 1))


def test_leases_are_per_partition(db_url: str, part: PartitionKey) -> None:
    next_day = PartitionKey(part.integration_id, part.stored_day + dt.timedelta(days=1), "mail")
    other_stream = PartitionKey(part.integration_id, part.day, "calendar_events")
    assert acquire(db_url, part, "run-a", T0) is None

    assert acquire(db_url, next_day, "run-b", at(1)) is None
    assert acquire(db_url, other_stream, "run-c", at(1)) is None

    assert [current(db_url, p) for p in (part, next_day, other_stream)] == [
        LeaseHolder("run-a", at(TTL)),
        LeaseHolder("run-b", at(1 + TTL)),
        LeaseHolder("run-c", at(1 + TTL)),
    ]


def race(url: str, part: PartitionKey, now: dt.datetime) -> dict[str, LeaseHolder | None]:
    """Two threads, each with its own session, call `try_acquire` for ``part`` at once;
    returns what each was told (None: it holds the lease)."""
    barrier = threading.Barrier(2)
    answers: dict[str, LeaseHolder | None] = {}
    errors: list[BaseException] = []

    def contender(run_id: str) -> None:
        try:
            barrier.wait(timeout=10)
            answers[run_id] = acquire(url, part, run_id, now)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=contender, args=(r,)) for r in ("run-x", "run-y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert set(answers) == {"run-x", "run-y"}
    return answers


def exactly_one_winner(
    url: str, part: PartitionKey, answers: dict[str, LeaseHolder | None]
) -> None:
    """One contender acquired; the other was told that contender holds the lease, and the
    table agrees."""
    winners = [run for run, answer in answers.items() if answer is None]
    assert len(winners) == 1, answers
    [loser_answer] = [answer for answer in answers.values() if answer is not None]
    assert loser_answer.run_id == winners[0]
    held = current(url, part)
    assert held is not None and held.run_id == winners[0]


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda url, part: None, id="free partition"),
        pytest.param(
            lambda url, part: acquire(url, part, "run-dead", T0 - dt.timedelta(hours=1)),
            id="expired lease",
        ),
    ],
)
def test_two_runs_racing_for_a_partition_never_both_win(
    db_url: str, part: PartitionKey, setup: Callable[[str, PartitionKey], object]
) -> None:
    for round_ in range(RACE_ROUNDS):
        day = PartitionKey(part.integration_id, part.stored_day + dt.timedelta(days=round_), "mail")
        setup(db_url, day)

        answers = race(db_url, day, at(round_))

        exactly_one_winner(db_url, day, answers)
    assert lease_rows(db_url) == RACE_ROUNDS


@pytest.mark.postgres
def test_a_release_during_a_refused_acquire_is_not_taken_for_a_win(postgres_url: str) -> None:
    """Postgres, READ COMMITTED: run B's UPDATE finds run A's live lease, B's INSERT ... ON
    CONFLICT DO NOTHING skips (it does not lock A's row), A releases and commits, and B's
    lookup of the holder finds no row. B then tries again and holds a real lease, or is told
    who holds it: it never believes it holds the partition without a row saying so."""
    part = new_partition(postgres_url)
    assert acquire(postgres_url, part, "run-a", T0) is None
    engine = get_engine(postgres_url)
    released: list[bool] = []

    def release_after_insert(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("INSERT INTO partition_leases") and not released:
            released.append(True)
            release_as(postgres_url, part, "run-a")  # another connection, committed

    sa.event.listen(engine, "after_cursor_execute", release_after_insert)
    try:
        answer = acquire(postgres_url, part, "run-b", at(1))
    finally:
        sa.event.remove(engine, "after_cursor_execute", release_after_insert)

    assert released == [True]
    assert answer is not None or current(postgres_url, part) == LeaseHolder("run-b", at(1 + TTL))
