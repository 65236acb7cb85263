"""The shared LLM pacer on SQLite, Postgres and Redis: budgets with injected time, and two real
processes spending one budget."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from ingest_pipeline.extraction.llm_pacing import (
    LlmPacer,
    LlmPacingTimeout,
    ModelLimits,
    pacing_url_for,
)
from ingest_pipeline.extraction.llm_pacing_budget import BudgetState, booked, refilled
from ingest_pipeline.extraction.llm_pacing_headers import cool_down_seconds

REDIS_URL = os.environ.get("INGEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

SHARED_LIMITS = ModelLimits(rpm=300, tpm=3000, burst_seconds=1.0)
"""For the two-process test: 5 requests and 50 tokens a second, at most that much at once."""


class FakeTime:
    """A clock that moves only when the pacer sleeps; records every sleep, and runs
    ``during_next_sleep`` (once) as a sleep begins, for what other processes do meanwhile."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.during_next_sleep: Callable[[], None] | None = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        meanwhile, self.during_next_sleep = self.during_next_sleep, None
        if meanwhile is not None:
            meanwhile()
        self.now += seconds


def _redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis at {REDIS_URL} is needed in CI: {error}")
        pytest.skip(f"Redis tests need a server at {REDIS_URL}: {error}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def model() -> str:
    """A model name of this test's own, so tests sharing a Redis server never meet."""
    return f"gpt-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "redis"],
)
def budget_url(request: pytest.FixtureRequest, tmp_path: Path, model: str) -> Iterator[str]:
    """Where the shared budgets live: beside a SQLite app database, in a Postgres one, or in
    Redis (where the test's key is deleted afterwards)."""
    if request.param == "sqlite":
        yield pacing_url_for(f"sqlite:///{tmp_path / 'app.db'}")
    elif request.param == "postgres":
        yield str(request.getfixturevalue("postgres_url"))
    else:
        yield _redis_url()
        with redis.Redis.from_url(REDIS_URL) as client:
            client.delete(f"llm_pacing:{model}")


def _pacer(url: str, model: str, limits: ModelLimits, fake: FakeTime) -> LlmPacer:
    return LlmPacer.open(url, {model: limits}, clock=fake.clock, sleep=fake.sleep)


def test_requests_within_rpm_pass_at_once_and_the_next_waits_for_the_refill(
    budget_url: str, model: str
) -> None:
    fake = FakeTime()
    with _pacer(budget_url, model, ModelLimits(rpm=60, tpm=1_000_000), fake) as pacer:
        grants = [pacer.acquire(model, tokens=10) for _ in range(60)]
        assert fake.sleeps == []
        assert {grant.granted_at for grant in grants} == {1000.0}

        late = pacer.acquire(model, tokens=10)

    assert fake.sleeps == [pytest.approx(1.0)]
    assert late.granted_at == pytest.approx(1001.0)
    assert late.waited_seconds == pytest.approx(1.0)


def test_tokens_are_weighed_against_tpm(budget_url: str, model: str) -> None:
    fake = FakeTime()
    with _pacer(budget_url, model, ModelLimits(rpm=1000, tpm=600), fake) as pacer:
        pacer.acquire(model, tokens=400)
        pacer.acquire(model, tokens=200)
        assert fake.sleeps == []
        assert pacer.usage(model).tokens_available == pytest.approx(0.0)

        pacer.acquire(model, tokens=100)

    # 600 tokens a minute refill 10 a second: 100 more take 10 s.
    assert fake.sleeps == [pytest.approx(10.0)]


def test_settle_charges_tokens_beyond_the_estimate(budget_url: str, model: str) -> None:
    fake = FakeTime()
    with _pacer(budget_url, model, ModelLimits(rpm=1000, tpm=600), fake) as pacer:
        grant = pacer.acquire(model, tokens=100)
        pacer.settle(grant, actual_tokens=400)
        assert pacer.usage(model).tokens_available == pytest.approx(200.0)

        pacer.settle(grant, actual_tokens=50)
        assert pacer.usage(model).tokens_available == pytest.approx(200.0)

        pacer.acquire(model, tokens=300)

    assert fake.sleeps == [pytest.approx(10.0)]


def test_settle_can_put_the_budget_into_debt_that_later_calls_wait_out(
    budget_url: str, model: str
) -> None:
    fake = FakeTime()
    with _pacer(budget_url, model, ModelLimits(rpm=1000, tpm=600), fake) as pacer:
        grant = pacer.acquire(model, tokens=500)
        pacer.settle(grant, actual_tokens=800)
        assert pacer.usage(model).tokens_available == pytest.approx(-200.0)

        pacer.acquire(model, tokens=100)

    assert fake.sleeps == [pytest.approx(30.0)]


def test_cool_down_pauses_every_pacer_on_the_store(budget_url: str, model: str) -> None:
    fake = FakeTime()
    limits = ModelLimits(rpm=60, tpm=6000)
    with (
        _pacer(budget_url, model, limits, fake) as got_429,
        _pacer(budget_url, model, limits, fake) as other,
    ):
        got_429.acquire(model, tokens=10)
        got_429.cool_down(model, 5.0)

        usage = other.usage(model)
        assert usage.paused_seconds == pytest.approx(5.0)
        assert usage.requests_available == pytest.approx(0.0)
        assert usage.tokens_available == pytest.approx(0.0)

        grant = other.acquire(model, tokens=100)
        assert grant.granted_at == pytest.approx(1005.0)
        assert grant.waited_seconds == pytest.approx(5.0)

        # The pause emptied both budgets: 5 s refilled 5 requests, one is spent.
        assert other.usage(model).requests_available == pytest.approx(4.0)
        assert got_429.usage(model).paused_seconds == 0.0


def test_a_cool_down_during_a_wait_moves_the_turn_past_the_pause(
    budget_url: str, model: str
) -> None:
    fake = FakeTime()
    limits = ModelLimits(rpm=60, tpm=6000, burst_seconds=1)
    with (
        _pacer(budget_url, model, limits, fake) as waiter,
        _pacer(budget_url, model, limits, fake) as got_429,
    ):
        waiter.acquire(model, tokens=10)
        fake.during_next_sleep = lambda: got_429.cool_down(model, 5.0)

        grant = waiter.acquire(model, tokens=10)

    assert fake.sleeps == [pytest.approx(1.0), pytest.approx(4.0)]
    assert grant.granted_at == pytest.approx(1005.0)


def test_cool_down_of_zero_empties_the_budget_without_a_pause(budget_url: str, model: str) -> None:
    fake = FakeTime()
    with _pacer(budget_url, model, ModelLimits(rpm=60, tpm=6000), fake) as pacer:
        pacer.cool_down(model, 0.0)
        assert pacer.usage(model).paused_seconds == 0.0

        pacer.acquire(model, tokens=200)

    # One request refills in 1 s, 200 tokens in 2 s.
    assert fake.sleeps == [pytest.approx(2.0)]


def test_acquire_gives_up_at_once_when_the_budget_is_further_away_than_the_timeout(
    budget_url: str, model: str
) -> None:
    fake = FakeTime()
    with _pacer(budget_url, model, ModelLimits(rpm=60, tpm=6000, burst_seconds=1), fake) as pacer:
        pacer.acquire(model, tokens=10)

        with pytest.raises(LlmPacingTimeout, match=r"the next is 1\.000s away"):
            pacer.acquire(model, tokens=10, timeout=0.5)
        assert fake.sleeps == []

        grant = pacer.acquire(model, tokens=10, timeout=1.0)

    assert grant.granted_at == pytest.approx(1001.0)


def test_estimates_no_budget_can_hold_and_unknown_models_are_refused(tmp_path: Path) -> None:
    fake = FakeTime()
    url = f"sqlite:///{tmp_path / 'pacing.db'}"
    with _pacer(url, "gpt-small", ModelLimits(rpm=60, tpm=600, burst_seconds=30), fake) as pacer:
        with pytest.raises(ValueError, match="301 tokens can never fit a budget of 300"):
            pacer.acquire("gpt-small", tokens=301)
        with pytest.raises(ValueError, match="no rate limits configured for model 'gpt-big'"):
            pacer.acquire("gpt-big", tokens=1)
        assert pacer.acquire("gpt-small", tokens=300).tokens == 300


def test_turns_come_in_the_order_calls_asked_whatever_their_size() -> None:
    limits = ModelLimits(rpm=600, tpm=600)
    state = BudgetState(requests=10.0, tokens=5.0, as_of=1000.0)

    state, big = booked(state, limits, 1000.0, 400)
    state, small = booked(state, limits, 1000.0, 1)

    # 600 tokens a minute refill 10 a second: 395 short, then 1 more.
    assert big == pytest.approx(1039.5)
    assert small == pytest.approx(1039.6)
    assert state.tokens == pytest.approx(-396.0)


def test_a_clock_behind_the_stored_time_refills_nothing() -> None:
    limits = ModelLimits(rpm=60, tpm=600)
    state = BudgetState(requests=0.0, tokens=0.0, as_of=2000.0)

    behind = refilled(state, limits, 1990.0)

    assert (behind.requests, behind.tokens, behind.as_of) == (0.0, 0.0, 2000.0)
    assert refilled(state, limits, 2001.0).requests == pytest.approx(1.0)


def test_pacing_url_sits_beside_a_sqlite_app_database_and_inside_postgres() -> None:
    assert pacing_url_for("sqlite:////data/app.db") == "sqlite:////data/app.llm_pacing.db"
    postgres = "postgresql+psycopg2://app@db:5432/app"
    assert pacing_url_for(postgres) == postgres
    with pytest.raises(ValueError, match="in-memory"):
        pacing_url_for("sqlite://")


def test_cool_down_seconds_read_from_openai_answers() -> None:
    def answer(requests: int, tokens: int) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": "500",
            "x-ratelimit-remaining-requests": str(requests),
            "x-ratelimit-reset-requests": "120ms",
            "x-ratelimit-limit-tokens": "200000",
            "x-ratelimit-remaining-tokens": str(tokens),
            "x-ratelimit-reset-tokens": "6m0s",
        }

    assert cool_down_seconds(200, answer(requests=3, tokens=1200)) is None
    assert cool_down_seconds(200, answer(requests=0, tokens=1200)) == 0.0
    assert cool_down_seconds(200, answer(requests=3, tokens=0)) == 0.0
    assert cool_down_seconds(429, {"retry-after": "2.5", "retry-after-ms": "2450"}) == 2.45
    assert cool_down_seconds(429, {"Retry-After": "7"}) == 7.0
    assert cool_down_seconds(429, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 1.0
    assert cool_down_seconds(429, {"retry-after": "inf"}) == 1.0


def _spend_for(
    url: str, model: str, tokens: int, seconds: float, barrier: Any, results: Any
) -> None:
    """One run process with two threads: each spends ``tokens`` a call on ``model`` for
    ``seconds`` once the other process is ready too. Reports every grant's time and tokens,
    or the error that stopped it."""
    try:
        with LlmPacer.open(url, {model: SHARED_LIMITS}) as pacer:
            pacer.usage(model)
            barrier.wait(timeout=60)
            stop_at = time.time() + seconds
            with ThreadPoolExecutor(max_workers=2) as threads:
                runs = [threads.submit(_spend_until, pacer, model, tokens, stop_at) for _ in "ab"]
                results.put([grant for run in runs for grant in run.result()])
    except BaseException as error:
        results.put(f"{type(error).__name__}: {error}")
        raise


def _spend_until(
    pacer: LlmPacer, model: str, tokens: int, stop_at: float
) -> list[tuple[float, int]]:
    grants: list[tuple[float, int]] = []
    while (left := stop_at - time.time()) > 0:
        try:
            grant = pacer.acquire(model, tokens=tokens, timeout=left)
        except LlmPacingTimeout:
            break
        grants.append((grant.granted_at, grant.tokens))
    return grants


def _assert_no_span_exceeds_the_buckets(grants: list[tuple[float, int]]) -> None:
    """Exact for a token bucket that starts full: the calls granted from time a to time b
    (both included) spend at most the capacity plus what refills in ``b - a``."""
    limits = SHARED_LIMITS
    ordered = sorted(grants)
    for first in range(len(ordered)):
        spent_tokens = 0
        for last in range(first, len(ordered)):
            spent_tokens += ordered[last][1]
            span = ordered[last][0] - ordered[first][0]
            requests = last - first + 1
            assert requests <= limits.request_capacity + span * limits.requests_per_second + 1e-3
            assert spent_tokens <= limits.token_capacity + span * limits.tokens_per_second + 1e-3


def test_the_span_check_fails_on_more_than_the_budget_allows() -> None:
    _assert_no_span_exceeds_the_buckets([(0.0, 1)] * 5 + [(1.0, 1)] * 5)
    with pytest.raises(AssertionError):
        _assert_no_span_exceeds_the_buckets([(0.0, 1)] * 5 + [(0.9, 1)] * 5)
    with pytest.raises(AssertionError):
        _assert_no_span_exceeds_the_buckets([(0.0, 30), (0.1, 30)])


@pytest.mark.slow
def test_two_processes_share_one_budget(budget_url: str, model: str) -> None:
    seconds = 2.0
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(
            target=_spend_for, args=(budget_url, model, tokens, seconds, barrier, results)
        )
        for tokens in (7, 13)
    ]
    for process in processes:
        process.start()
    per_process = [results.get(timeout=90) for _ in processes]
    for reported in per_process:
        assert isinstance(reported, list), f"a run process failed: {reported}"
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    grants = [grant for process_grants in per_process for grant in process_grants]
    _assert_no_span_exceeds_the_buckets(grants)
    assert all(len(process_grants) >= 3 for process_grants in per_process)
    # Near the ceiling too: 5 at once plus 5 a second, or 50 tokens plus 50 a second.
    assert len(grants) >= 0.6 * (5 + 5 * seconds)
