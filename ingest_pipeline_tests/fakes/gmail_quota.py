"""Fault plan, counters and Gmail's per-user quota window for the fake Gmail server."""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field

# Gmail's documented quota units per method (https://developers.google.com/gmail/api/reference/quota).
METHOD_UNITS: dict[str, int] = {
    "getProfile": 1,
    "labels.list": 1,
    "messages.list": 5,
    "messages.get": 5,
    "messages.attachments.get": 5,
    "history.list": 2,
}

DEFAULT_FAULT_KINDS: tuple[str, ...] = (
    "429",
    "403-rateLimitExceeded",
    "403-userRateLimitExceeded",
    "500",
    "503",
)


@dataclass
class FaultPlan:
    """What the server should get wrong; every field may be changed while it runs.

    - ``share``: probability (seeded RNG) that an API call - each batch sub-request and each
      plain request - is answered with a fault drawn from ``kinds`` instead of its result;
    - ``kinds``: ``"429"`` (with ``Retry-After: 1``), ``"403-<reason>"`` (Gmail's usageLimits
      error), ``"500"``/``"503"`` (backendError) or any ``"<status>[-<reason>]"``;
    - ``slow_share``/``slow_seconds``: extra delay for that share of HTTP requests;
    - ``drop_share``: share of HTTP requests (not sub-requests) whose connection is closed
      without a response;
    - ``next_statuses``: the next HTTP API requests (plain or a whole batch) are answered with
      these statuses, in order, before anything else is checked.

    None of them applies to the token endpoint.
    """

    share: float = 0.0
    kinds: tuple[str, ...] = DEFAULT_FAULT_KINDS
    slow_share: float = 0.0
    slow_seconds: float = 2.0
    drop_share: float = 0.0
    next_statuses: list[int] = field(default_factory=list)


@dataclass
class ServerStats:
    """What the server saw; replace with ``ServerStats()`` to reset.

    ``status_counts`` has one entry per API call answered (each batch sub-request, each plain
    request, and a batch answered as a whole by ``next_statuses`` or for being malformed).
    ``rate_limited`` counts calls refused by the real quota window, ``faults_injected`` the
    calls answered by ``FaultPlan.share``; ``dropped`` and ``slowed`` count HTTP requests.
    ``people_calls_by_user``/``calendar_calls_by_user`` count each user's authenticated calls
    to those APIs (what their per-user quotas see, refused calls included).
    """

    requests: int = 0
    api_calls: int = 0
    batch_requests: int = 0
    max_batch_size: int = 0
    status_counts: Counter[int] = field(default_factory=Counter)
    units_used: int = 0
    token_refreshes: int = 0
    token_errors: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    faults_injected: int = 0
    dropped: int = 0
    slowed: int = 0
    people_calls_by_user: Counter[str] = field(default_factory=Counter)
    calendar_calls_by_user: Counter[str] = field(default_factory=Counter)


class QuotaWindow:
    """Units charged to one user over a sliding window (Gmail: per user per 60 seconds)."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        self.window_seconds = window_seconds
        self._charges: deque[tuple[float, int]] = deque()
        self._used = 0

    def used(self, now: float) -> int:
        """Units spent within the window ending at ``now``."""
        self._expire(now)
        return self._used

    def try_charge(self, now: float, units: int, limit: int) -> int | None:
        """Charge ``units`` and return None, or return whole seconds until they would fit."""
        self._expire(now)
        if self._used + units <= limit:
            self._charges.append((now, units))
            self._used += units
            return None
        if units > limit:
            return max(1, math.ceil(self.window_seconds))
        remaining = self._used
        for at, spent in self._charges:
            remaining -= spent
            if remaining + units <= limit:
                # Rounded first: at + 60 - now with at == now can be 60.00000000000001.
                return max(1, math.ceil(round(at + self.window_seconds - now, 6)))
        return max(1, math.ceil(self.window_seconds))  # pragma: no cover - loop always returns

    def _expire(self, now: float) -> None:
        while self._charges and self._charges[0][0] <= now - self.window_seconds:
            self._used -= self._charges.popleft()[1]
