"""A client-side budget that keeps one account under a provider's quota per time window:
Gmail's units per user per minute, Outlook's 10,000 requests per mailbox per 10 minutes.

A token bucket refilled at ``(limit - capacity) / window`` units a second with room for one
batch (``capacity``): no window can then see more than ``limit`` units, so the source runs
just under the ceiling instead of bouncing off it with 429s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class QuotaBudget:
    """Blocks `acquire` until the units can be spent without passing the limit of
    ``limit`` units per ``window_seconds`` (60 unless told otherwise)."""

    def __init__(
        self,
        *,
        limit: int,
        capacity: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < capacity < limit:
            raise ValueError("capacity must be positive and below the per-window limit")
        self.capacity = capacity
        self.rate = (limit - capacity) / window_seconds
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._last = clock()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self, units: int) -> None:
        """Spend ``units``; sleep until the bucket is out of debt if it went negative."""
        with self._lock:
            self._refill()
            self._tokens -= units
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self.waited_seconds += wait
            self._sleep(wait)

    def penalize(self, seconds: float) -> None:
        """Spend nothing more for ``seconds`` (the server said Retry-After)."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0) - seconds * self.rate
