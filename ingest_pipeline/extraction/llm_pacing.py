"""Request and token budgets per model, shared by every process of the deployment.

Every run process that calls a model asks its `LlmPacer` first: `acquire` blocks until one
request and the call's estimated tokens fit the model's per-minute budgets and spends them;
`settle` charges what the answer's ``usage`` reported beyond the estimate; `cool_down` after a
429 pauses the model for everyone. The budgets live in a store all processes reach, chosen
by URL (`open_budget_store`): the app's Postgres, a SQLite file beside the app's SQLite
database (`pacing_url_for`), or Redis.

Why not pyrate-limiter (4.5, read from its source): its SQLite and Postgres buckets are
sliding-window logs that store one row per unit of weight, so a 20,000-token call inserts
20,000 rows and every check counts a minute's worth of them (its Postgres column for the
weight is a SMALLINT, and that bucket needs psycopg 3 and psycopg-pool besides our
psycopg2); its constant-size token buckets (GCRA) are shared only through Redis or a
``multiprocessing.Manager``. A bucket takes one weight for all its rates, so requests and
tokens would be two buckets acquired one after the other, not atomically; it has no way to
charge tokens after the fact (`settle`) and nothing for a pause that every process honours.
Its blocking loop calls ``time.sleep`` itself, so tests could not inject time. What is left is
small: the token-bucket arithmetic in `llm_pacing_budget` (where calls book turns, so they are
served in order), and a row (or hash) per model updated under a lock in `llm_pacing_sql` /
`llm_pacing_redis`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType

from ingest_pipeline.extraction.llm_pacing_budget import (
    BudgetState,
    BudgetStore,
    ModelLimits,
    booked,
    charged,
    paused,
    refilled,
    released,
)
from ingest_pipeline.extraction.llm_pacing_stores import open_budget_store, pacing_url_for

__all__ = [
    "BudgetStore",
    "Grant",
    "LlmPacer",
    "LlmPacingTimeout",
    "ModelLimits",
    "PacingUsage",
    "open_budget_store",
    "pacing_url_for",
]


class LlmPacingTimeout(TimeoutError):
    """The model's budget could not take the call before the caller's deadline."""


@dataclass(frozen=True)
class Grant:
    """Permission for one call to ``model``: one request and ``tokens`` (the estimate) were
    spent for the turn starting at clock time ``granted_at``, ``waited_seconds`` after the call
    asked (`LlmPacer.acquire` returns at that time or just after)."""

    model: str
    tokens: int
    granted_at: float
    waited_seconds: float


@dataclass(frozen=True)
class PacingUsage:
    """A model's budgets right now, for metrics: what is available against the capacity
    (below zero: calls are booked and waiting for their turn, or took more tokens than
    estimated), and how long the current cool-down still lasts (0.0: none)."""

    model: str
    requests_available: float
    tokens_available: float
    request_capacity: float
    token_capacity: float
    paused_seconds: float

    @property
    def requests_spent(self) -> float:
        """Requests started or booked that the budget has not refilled yet."""
        return self.request_capacity - self.requests_available

    @property
    def tokens_spent(self) -> float:
        """Tokens spent or booked that the budget has not refilled yet."""
        return self.token_capacity - self.tokens_available


class LlmPacer:
    """Paces calls to each model in ``limits`` through ``store``, which other processes'
    pacers share; one per process, safe to share between its threads.

    ``clock`` gives seconds, the same clock in every process (wall time: a host whose clock
    runs ``d`` seconds ahead of the others adds ``d`` seconds of refill once, so hosts
    sharing a store keep their clocks synchronised), and ``sleep`` waits; tests inject both.
    Calls get their turns in the order they asked, across processes, large or small.
    """

    def __init__(
        self,
        store: BudgetStore,
        limits: Mapping[str, ModelLimits],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._limits = dict(limits)
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def open(
        cls,
        url: str,
        limits: Mapping[str, ModelLimits],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LlmPacer:
        """A pacer on the store at ``url`` (see `open_budget_store`)."""
        return cls(open_budget_store(url), limits, clock=clock, sleep=sleep)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self._limits)

    def acquire(self, model: str, *, tokens: int, timeout: float | None = None) -> Grant:
        """Block until one request and ``tokens`` fit ``model``'s budgets after every call
        that asked before, having spent them.

        Raises `LlmPacingTimeout` at once, spending nothing, when that turn is more than
        ``timeout`` seconds away (None: wait as long as it takes), and ValueError for an
        unknown model or an estimate that no budget of this model could ever hold. A wait
        that a `cool_down` overtakes books a new turn after the pause.
        """
        limits = self._limits_for(model)
        _check_fits(model, limits, tokens)
        asked = self._clock()
        deadline = None if timeout is None else asked + timeout
        start = self._book(model, limits, tokens, deadline, give_back=False)
        while (wait := start - self._clock()) > 0:
            self._sleep(wait)
            if self._paused_past(model, start):
                start = self._book(model, limits, tokens, deadline, give_back=True)
        return Grant(model, tokens, granted_at=start, waited_seconds=max(0.0, start - asked))

    def settle(self, grant: Grant, *, actual_tokens: int) -> None:
        """Charge the tokens the answer's ``usage`` reported beyond ``grant``'s estimate.

        Nothing is given back when the call used fewer: providers count the estimate (prompt
        plus ``max_tokens``) against the limit when the request arrives, so returning it
        would run ahead of their meter.
        """
        extra = actual_tokens - grant.tokens
        if extra <= 0:
            return
        limits = self._limits_for(grant.model)

        def charge(state: BudgetState) -> tuple[BudgetState, None]:
            return charged(state, limits, self._clock(), extra), None

        self._store.update(grant.model, BudgetState.full(limits), charge)

    def cool_down(self, model: str, seconds: float) -> None:
        """Start no call to ``model`` in any process for ``seconds`` (a 429's Retry-After),
        and count its budgets as empty now, as the provider just reported them.

        Calls already waiting for a turn inside the pause give it back and book a new one
        after it. ``seconds`` 0 only empties the budgets: right for an answer whose
        ``x-ratelimit-remaining-*`` reads 0, where the budget's own refill is the wait.
        """
        limits = self._limits_for(model)
        pause = max(0.0, seconds)

        def pause_model(state: BudgetState) -> tuple[BudgetState, None]:
            return paused(state, limits, self._clock(), pause), None

        self._store.update(model, BudgetState.full(limits), pause_model)

    def usage(self, model: str) -> PacingUsage:
        """``model``'s budgets as every process sees them now (reads, spends nothing)."""
        limits = self._limits_for(model)
        now = self._clock()
        state = refilled(self._store.read(model) or BudgetState.full(limits), limits, now)
        return PacingUsage(
            model=model,
            requests_available=state.requests,
            tokens_available=state.tokens,
            request_capacity=limits.request_capacity,
            token_capacity=limits.token_capacity,
            paused_seconds=max(0.0, state.paused_until - now),
        )

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> LlmPacer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _book(
        self,
        model: str,
        limits: ModelLimits,
        tokens: int,
        deadline: float | None,
        *,
        give_back: bool,
    ) -> float:
        """Book the next turn (giving back the one held first, when ``give_back``) and return
        its start; book nothing and raise `LlmPacingTimeout` when it starts after
        ``deadline``."""

        def book(state: BudgetState) -> tuple[BudgetState, tuple[float, float, bool]]:
            now = self._clock()
            before = released(state, limits, now, tokens) if give_back else state
            after, start = booked(before, limits, now, tokens)
            if deadline is not None and start > deadline:
                return before, (now, start, False)
            return after, (now, start, True)

        now, start, kept = self._store.update(model, BudgetState.full(limits), book)
        if not kept:
            raise LlmPacingTimeout(
                f"{model}: no turn for 1 request and {tokens} tokens before the deadline "
                f"(the next is {start - now:.3f}s away)"
            )
        return start

    def _paused_past(self, model: str, start: float) -> bool:
        """Whether a cool-down declared while waiting covers the turn starting at ``start``."""
        state = self._store.read(model)
        return state is not None and state.paused_until > start

    def _limits_for(self, model: str) -> ModelLimits:
        limits = self._limits.get(model)
        if limits is None:
            known = ", ".join(sorted(self._limits)) or "none"
            raise ValueError(f"no rate limits configured for model {model!r} (known: {known})")
        return limits


def _check_fits(model: str, limits: ModelLimits, tokens: int) -> None:
    if tokens < 0:
        raise ValueError(f"tokens must not be negative, got {tokens}")
    if tokens > limits.token_capacity:
        raise ValueError(
            f"{model}: {tokens} tokens can never fit a budget of {limits.token_capacity:g} "
            f"(tpm={limits.tpm}, burst_seconds={limits.burst_seconds:g})"
        )
