"""One model's request and token budget as a pair of token buckets, and how it changes.

The arithmetic is pure (state in, state out) so every store runs the very same rules inside
its own lock. It mirrors how OpenAI meters a key: each budget refills continuously at
``limit / 60`` per second up to its capacity, and a call costs one request plus its tokens
when it starts. A call that does not fit yet books its turn: it spends now, driving the
budget below zero, and starts when the refill has paid that debt back. Turns therefore come
in the order calls asked, and the turns booked never start more than a token bucket allows.
Times are seconds on the pacer's clock (``time.time`` unless a test injects one), the same
clock in every process that shares the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

_UNIT_SLACK = 1e-6
"""Float refill arithmetic: a level this close to what is needed counts as enough."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class ModelLimits:
    """A model's ceilings: ``rpm`` requests and ``tpm`` tokens per minute.

    ``burst_seconds`` is how many seconds' worth of each budget can be spent at once after an
    idle spell: 60 (the default) is a full minute, as the provider's own bucket holds; lower
    it to spread calls out evenly at the price of never bursting.
    """

    rpm: int
    tpm: int
    burst_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.rpm <= 0 or self.tpm <= 0:
            raise ValueError(f"rpm and tpm must be positive, got rpm={self.rpm} tpm={self.tpm}")
        if not 0 < self.burst_seconds <= 60:
            raise ValueError(f"burst_seconds must be in (0, 60], got {self.burst_seconds}")
        if self.request_capacity < 1:
            raise ValueError(f"rpm={self.rpm} leaves no whole request in {self.burst_seconds}s")

    @property
    def requests_per_second(self) -> float:
        return self.rpm / 60.0

    @property
    def tokens_per_second(self) -> float:
        return self.tpm / 60.0

    @property
    def request_capacity(self) -> float:
        """Most requests that can start at once."""
        return self.requests_per_second * self.burst_seconds

    @property
    def token_capacity(self) -> float:
        """Most tokens that can start at once; a call estimated above this never fits."""
        return self.tokens_per_second * self.burst_seconds


@dataclass(frozen=True)
class BudgetState:
    """One model's shared budget as stored.

    ``requests`` and ``tokens`` are what was left at clock time ``as_of``: never above the
    capacities, below zero while booked calls wait for their turn or after a call used more
    tokens than estimated, and at most zero right after a cool-down. ``paused_until`` is the
    clock time before which no call may start (0.0: no pause).
    """

    requests: float
    tokens: float
    as_of: float
    paused_until: float = 0.0

    @classmethod
    def full(cls, limits: ModelLimits) -> BudgetState:
        """A model nobody has called yet: both budgets full (a refill from ``as_of`` 0.0 adds
        nothing to a full budget, whatever the clock reads)."""
        return cls(limits.request_capacity, limits.token_capacity, as_of=0.0)


class BudgetStore(Protocol):
    """Where every process of the deployment keeps the models' `BudgetState`.

    ``update`` runs ``change`` on the stored state of ``model`` (``fresh`` when none is
    stored yet) while holding a lock that every other process's ``update`` of that model
    waits for, stores the state ``change`` returns and hands back its result. ``change`` reads
    the clock itself, inside the lock, and may be called more than once (optimistic stores
    retry), so it has no other effects.
    """

    def update(
        self,
        model: str,
        fresh: BudgetState,
        change: Callable[[BudgetState], tuple[BudgetState, _T]],
    ) -> _T: ...

    def read(self, model: str) -> BudgetState | None:
        """The stored state, for reporting only (no lock; None: never used)."""
        ...

    def close(self) -> None: ...


def refilled(state: BudgetState, limits: ModelLimits, now: float) -> BudgetState:
    """``state`` brought up to ``now``. Time never runs backwards for the budget: a clock
    reading behind ``as_of`` (another host's clock, a step back) adds nothing."""
    elapsed = max(0.0, now - state.as_of)
    return replace(
        state,
        requests=min(
            limits.request_capacity, state.requests + elapsed * limits.requests_per_second
        ),
        tokens=min(limits.token_capacity, state.tokens + elapsed * limits.tokens_per_second),
        as_of=max(state.as_of, now),
    )


def seconds_until_fits(state: BudgetState, limits: ModelLimits, now: float, tokens: int) -> float:
    """Seconds from ``now`` until one request of ``tokens`` fits a `refilled` ``state`` after
    everything booked before it (0.0: it fits now)."""
    short_requests = 1.0 - state.requests
    short_tokens = tokens - state.tokens
    waits = [state.paused_until - now, 0.0]
    if short_requests > _UNIT_SLACK:
        waits.append(short_requests / limits.requests_per_second)
    if short_tokens > _UNIT_SLACK:
        waits.append(short_tokens / limits.tokens_per_second)
    return max(waits)


def booked(
    state: BudgetState, limits: ModelLimits, now: float, tokens: int
) -> tuple[BudgetState, float]:
    """One request and ``tokens`` spent for the earliest turn after every call booked
    before: the new state and the clock time the call may start (``now`` if it fits now)."""
    current = refilled(state, limits, now)
    start = now + seconds_until_fits(current, limits, now, tokens)
    return replace(current, requests=current.requests - 1, tokens=current.tokens - tokens), start


def released(state: BudgetState, limits: ModelLimits, now: float, tokens: int) -> BudgetState:
    """A booked turn of one request and ``tokens`` given back unused."""
    current = refilled(state, limits, now)
    return replace(
        current,
        requests=min(limits.request_capacity, current.requests + 1),
        tokens=min(limits.token_capacity, current.tokens + tokens),
    )


def charged(state: BudgetState, limits: ModelLimits, now: float, tokens: int) -> BudgetState:
    """``tokens`` more spent at ``now`` whether or not they fit (a call used more than its
    estimate): the budget may go into debt, which later calls wait out."""
    current = refilled(state, limits, now)
    return replace(current, tokens=current.tokens - tokens)


def paused(state: BudgetState, limits: ModelLimits, now: float, seconds: float) -> BudgetState:
    """No call starts before ``now + seconds``, and both budgets are empty at ``now`` (less
    what is booked): the provider just said they are, so they refill from zero during the
    pause, as its own do."""
    current = refilled(state, limits, now)
    return replace(
        current,
        requests=min(current.requests, 0.0),
        tokens=min(current.tokens, 0.0),
        paused_until=max(current.paused_until, now + seconds),
    )
