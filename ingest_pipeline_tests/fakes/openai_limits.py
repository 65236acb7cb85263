"""OpenAI's per-key rate limits for the fake: requests and tokens per minute as token buckets.

OpenAI measures both limits continuously rather than per calendar minute: a key's capacity
refills at ``limit / 60`` per second, up to the limit (a key unused for a minute is full).
A chat completion costs one request and its prompt tokens plus ``max_tokens`` (or
``max_completion_tokens``) when the request sets one, since OpenAI charges the maximum up front.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ingest_pipeline_tests.fakes.openai_chat import ChatRequest, prompt_tokens
from ingest_pipeline_tests.fakes.openai_limits_wire import SLACK, Refusal, openai_duration

Clock = Callable[[], float]
"""Seconds on a monotonic scale; ``time.monotonic`` unless a test injects a `ManualClock`."""

ANY_KEY = "*"
"""The `RateLimit` key that applies to every API key without a limit of its own."""

_PERIOD_SECONDS = 60.0


@dataclass(frozen=True)
class RateLimit:
    """One API key's ceilings per minute; None means that axis is not limited."""

    rpm: int | None = None
    tpm: int | None = None

    def __post_init__(self) -> None:
        for name, value in (("rpm", self.rpm), ("tpm", self.tpm)):
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ValueError(f"{name} must be a positive int or None, got {value!r}")


class ManualClock:
    """A clock that moves only when the test calls `advance` (starts at ``start`` seconds)."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TokenBucket:
    """``capacity`` units that refill continuously at ``capacity / period`` per second; full at
    first. Not thread-safe on its own (`RateLimiter` holds a lock around it)."""

    def __init__(self, capacity: int, *, now: float, period: float = _PERIOD_SECONDS) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self._level = float(capacity)
        self._at = now

    def level(self, now: float) -> float:
        """Units available at ``now``."""
        if now > self._at:
            self._level = min(float(self.capacity), self._level + (now - self._at) * self.rate)
            self._at = now
        return self._level

    def wait(self, amount: int, now: float) -> float:
        """Seconds until ``amount`` units are available (0.0: now; inf: more than capacity)."""
        if amount > self.capacity:
            return math.inf
        short = amount - self.level(now)
        return 0.0 if short <= SLACK else short / self.rate

    def take(self, amount: int, now: float) -> None:
        """Spend ``amount`` units (the caller checked `wait` is 0)."""
        self._level = max(0.0, self.level(now) - amount)

    def used(self, now: float) -> int:
        """Units spent and not yet refilled, as OpenAI's "Used" counts them."""
        return math.ceil(self.capacity - self.level(now) - SLACK)

    def until_full(self, now: float) -> float:
        """Seconds until the bucket is full again (OpenAI's ``x-ratelimit-reset-*``)."""
        return max(0.0, (self.capacity - self.level(now)) / self.rate)


@dataclass(frozen=True)
class Admission:
    """The limiter's decision on one request: ``refusal`` is None when it was accepted (and
    charged); ``headers`` are the ``x-ratelimit-*`` headers after the decision (empty when the
    key has no limit)."""

    refusal: Refusal | None
    headers: tuple[tuple[str, str], ...]


@dataclass
class _KeyBuckets:
    """The buckets of one API key (None on an axis its `RateLimit` leaves open)."""

    requests: TokenBucket | None
    tokens: TokenBucket | None

    def refusal(self, tokens: int, now: float) -> Refusal | None:
        """None when one request of ``tokens`` fits now; else the first limit it breaks."""
        wait_requests = self.requests.wait(1, now) if self.requests else 0.0
        wait_tokens = self.tokens.wait(tokens, now) if self.tokens else 0.0
        if wait_requests == 0.0 and wait_tokens == 0.0:
            return None
        retry_after = max(wait_requests, wait_tokens)
        retry = None if math.isinf(retry_after) else retry_after
        if wait_requests > 0.0 and self.requests is not None:
            return Refusal("requests", self.requests.capacity, self.requests.used(now), 1, retry)
        assert self.tokens is not None
        return Refusal("tokens", self.tokens.capacity, self.tokens.used(now), tokens, retry)

    def take(self, tokens: int, now: float) -> None:
        if self.requests is not None:
            self.requests.take(1, now)
        if self.tokens is not None:
            self.tokens.take(tokens, now)

    def headers(self, now: float) -> tuple[tuple[str, str], ...]:
        """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` for the limited axes."""
        headers: list[tuple[str, str]] = []
        for axis, bucket in (("requests", self.requests), ("tokens", self.tokens)):
            if bucket is not None:
                headers += [
                    (f"x-ratelimit-limit-{axis}", str(bucket.capacity)),
                    (f"x-ratelimit-remaining-{axis}", str(math.floor(bucket.level(now) + SLACK))),
                    (f"x-ratelimit-reset-{axis}", openai_duration(bucket.until_full(now))),
                ]
        return tuple(headers)


class RateLimiter:
    """Per-API-key RPM and TPM buckets; thread-safe. ``limits`` maps an API key, or `ANY_KEY`
    for every other key, to its `RateLimit`; each key gets buckets of its own."""

    def __init__(
        self, limits: Mapping[str, RateLimit] | None = None, *, clock: Clock = time.monotonic
    ) -> None:
        self.clock = clock
        self._limits: dict[str, RateLimit] = dict(limits or {})
        self._buckets: dict[str, _KeyBuckets] = {}
        self._lock = threading.Lock()

    def set_limit(self, key: str, *, rpm: int | None = None, tpm: int | None = None) -> None:
        """Limit ``key`` (or `ANY_KEY`); both None lifts its limits. Affected buckets start
        full again."""
        limit = RateLimit(rpm=rpm, tpm=tpm)
        with self._lock:
            self._limits[key] = limit
            if key == ANY_KEY:
                self._buckets = {k: b for k, b in self._buckets.items() if k in self._limits}
            else:
                self._buckets.pop(key, None)

    def limit_for(self, key: str) -> RateLimit | None:
        """The limit that applies to ``key`` (None: unlimited)."""
        with self._lock:
            return self._limits.get(key, self._limits.get(ANY_KEY))

    def admit(self, key: str, tokens: int) -> Admission:
        """Charge one request of ``tokens`` to ``key`` if both buckets allow it, else refuse."""
        with self._lock:
            now = self.clock()
            buckets = self._buckets_for(key, now)
            if buckets is None:
                return Admission(None, ())
            refusal = buckets.refusal(tokens, now)
            if refusal is None:
                buckets.take(tokens, now)
            return Admission(refusal, buckets.headers(now))

    def headers(self, key: str) -> tuple[tuple[str, str], ...]:
        """``key``'s ``x-ratelimit-*`` headers now, charging nothing."""
        with self._lock:
            now = self.clock()
            buckets = self._buckets_for(key, now)
            return () if buckets is None else buckets.headers(now)

    def _buckets_for(self, key: str, now: float) -> _KeyBuckets | None:
        if (buckets := self._buckets.get(key)) is not None:
            return buckets
        limit = self._limits.get(key, self._limits.get(ANY_KEY))
        if limit is None or (limit.rpm is None and limit.tpm is None):
            return None
        buckets = _KeyBuckets(
            requests=None if limit.rpm is None else TokenBucket(limit.rpm, now=now),
            tokens=None if limit.tpm is None else TokenBucket(limit.tpm, now=now),
        )
        self._buckets[key] = buckets
        return buckets


def charged_tokens(request: ChatRequest) -> int:
    """What OpenAI's TPM limit charges for a chat completion: the prompt's tokens plus the
    requested maximum output (``max_completion_tokens``, else ``max_tokens``) when set."""
    cap = request.body.get("max_completion_tokens") or request.body.get("max_tokens")
    output = cap if isinstance(cap, int) and not isinstance(cap, bool) and cap > 0 else 0
    return prompt_tokens(request.messages) + output
