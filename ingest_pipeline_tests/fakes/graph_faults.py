"""Injected faults, Outlook's per-mailbox limits and the counters of the fake Graph.

Outlook's documented limits (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits),
per app and mailbox: 4 concurrent requests (``429 ApplicationThrottled``, "Application is over
its MailboxConcurrency limit.") and 10,000 requests per 10 minutes. A $batch holds one
concurrency slot per mailbox it touches and spends one request per part.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from dataclasses import dataclass, field

from ingest_pipeline_tests.fakes.graph_wire import GraphError

CONCURRENCY_MESSAGE = "Application is over its MailboxConcurrency limit."


@dataclass(frozen=True)
class GraphFaults:
    """What the fake gets wrong, drawn from ``random.Random(seed)`` (assigning a new
    `GraphFaults` to ``FakeGraph.faults`` restarts the draws).

    Per Graph call (a plain request, or each part of a $batch): ``throttle_rate`` answers 429
    ``TooManyRequests``, ``unavailable_rate`` 503 ``ServiceUnavailable``, ``concurrency_rate``
    429 ``ApplicationThrottled`` (MailboxConcurrency), each with ``Retry-After:
    retry_after_seconds``. Per HTTP request to Graph (not per part): ``drop_rate`` closes the
    connection without an answer, ``slow_rate`` sleeps ``slow_seconds`` first. The identity
    endpoints get none of these.
    """

    seed: int = 0
    throttle_rate: float = 0.0
    unavailable_rate: float = 0.0
    concurrency_rate: float = 0.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    retry_after_seconds: int = 1


class FaultDice:
    """The seeded draws for one `GraphFaults` (callers hold the server lock)."""

    def __init__(self, faults: GraphFaults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def call_fault(self) -> GraphError | None:
        """The injected answer for one Graph call, if it draws one."""
        faults, wait = self.faults, self.faults.retry_after_seconds
        if self.roll(faults.throttle_rate):
            return GraphError(
                429,
                "TooManyRequests",
                "Too many requests. Retry after the time given in the Retry-After header.",
                retry_after=wait,
                throttle_reason="TooManyRequests",
            )
        if self.roll(faults.unavailable_rate):
            return GraphError(
                503,
                "ServiceUnavailable",
                "The service is temporarily unavailable. Retry after the time given in the "
                "Retry-After header.",
                retry_after=wait,
                throttle_reason="ServiceUnavailable",
            )
        if self.roll(faults.concurrency_rate):
            return concurrency_error(wait)
        return None


def concurrency_error(retry_after: int) -> GraphError:
    return GraphError(
        429,
        "ApplicationThrottled",
        CONCURRENCY_MESSAGE,
        retry_after=retry_after,
        throttle_reason="MailboxConcurrency",
    )


@dataclass
class GraphStats:
    """What the fake saw. ``requests`` counts by route name, top-level requests and $batch
    parts alike ("batch" for the envelope, "token"/"openid" for identity, "unknown" for
    unroutable paths); ``requests_per_mailbox`` counts Graph calls (parts individually) by
    the mailbox's user principal name; ``throttled`` counts 429/503 answers by reason
    ("TooManyRequests", "MailboxConcurrency", "MailboxQuota", "ServiceUnavailable");
    ``statuses`` counts answers (parts individually) by HTTP status."""

    requests: Counter[str] = field(default_factory=Counter)
    batch_parts: int = 0
    value_served: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    requests_per_mailbox: Counter[str] = field(default_factory=Counter)
    token_grants: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    dropped: int = 0
    slowed: int = 0


class MailboxLimits:
    """In-flight requests and a sliding request window per mailbox (callers hold the lock).
    The limits are plain attributes, changeable while the server runs."""

    def __init__(self, *, concurrency: int, requests_per_window: int, window_seconds: float):
        self.concurrency = concurrency
        self.requests_per_window = requests_per_window
        self.window_seconds = window_seconds
        self.in_flight: Counter[str] = Counter()
        self._windows: dict[str, deque[float]] = {}

    def try_enter(self, mailbox: str) -> bool:
        if self.in_flight[mailbox] >= self.concurrency:
            return False
        self.in_flight[mailbox] += 1
        return True

    def leave(self, mailbox: str) -> None:
        self.in_flight[mailbox] -= 1

    def try_spend(self, mailbox: str, now: float) -> int | None:
        """Spend one request and return None, or return whole seconds until one is free."""
        window = self._windows.setdefault(mailbox, deque())
        while window and window[0] <= now - self.window_seconds:
            window.popleft()
        if len(window) < self.requests_per_window:
            window.append(now)
            return None
        if not window:  # a limit of zero
            return max(1, math.ceil(self.window_seconds))
        return max(1, math.ceil(window[0] + self.window_seconds - now))


def quota_error(retry_after: int, limits: MailboxLimits) -> GraphError:
    return GraphError(
        429,
        "ApplicationThrottled",
        f"Application is over its MailboxRequests limit: {limits.requests_per_window} requests "
        f"per {limits.window_seconds:g} seconds.",
        retry_after=retry_after,
        throttle_reason="MailboxQuota",
    )
