"""What an OpenAI-style answer's status and headers ask of the shared pacer.

A 429 carries ``retry-after-ms`` / ``retry-after`` (seconds): every process pauses the model
that long. Any answer carries ``x-ratelimit-remaining-requests`` / ``-tokens``: at 0 the
provider's budget is empty, so ours is emptied too and refills from now. Its
``x-ratelimit-reset-*`` is the time until the budget is *full* again, far longer than the
wait for the next call, so it is not used as a pause.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

DEFAULT_RETRY_AFTER_SECONDS = 1.0
"""The pause after a 429 that names no usable Retry-After."""


def cool_down_seconds(status: int, headers: Mapping[str, str]) -> float | None:
    """Seconds to pass to `LlmPacer.cool_down` after this answer (0.0: empty the budgets
    without pausing), or None when the answer says nothing about the budget."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if status == 429:
        return _retry_after(lowered)
    for axis in ("requests", "tokens"):
        remaining = _number(lowered.get(f"x-ratelimit-remaining-{axis}"))
        if remaining is not None and remaining <= 0:
            return 0.0
    return None


def _retry_after(headers: Mapping[str, str]) -> float:
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    seconds = _number(headers.get("retry-after"))
    if seconds is not None:
        return max(0.0, seconds)
    return DEFAULT_RETRY_AFTER_SECONDS


def _number(value: str | None) -> float | None:
    """A header's number, or None when absent or not a finite number (an HTTP date, say)."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
