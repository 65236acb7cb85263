"""How OpenAI words its rate limits on the wire: 429 messages and bodies, ``retry-after``
headers and the durations of ``x-ratelimit-reset-*`` (``120ms``, ``7.2s``, ``6m0s``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest_pipeline_tests.fakes.openai_http import Reply, error_reply

SLACK = 1e-6
"""Float slack of refill arithmetic: 0.12 s at 500 RPM must give back a whole request."""


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: ``kind`` is OpenAI's error type, "requests" or "tokens";
    ``limit``/``used``/``requested`` are in that kind's units; ``retry_after`` is seconds until
    the whole request would fit (None when it never can: more tokens than the TPM limit)."""

    kind: str
    limit: int
    used: int
    requested: int
    retry_after: float | None


def openai_duration(seconds: float) -> str:
    """A duration as OpenAI writes it in reset headers and messages (Go's format, rounded up
    to the millisecond): ``0s``, ``120ms``, ``1s``, ``7.2s``, ``6m0s``, ``1h0m0s``."""
    millis = math.ceil(seconds * 1000 - SLACK) if seconds > 0 else 0
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def retry_after_headers(seconds: float) -> list[tuple[str, str]]:
    """``retry-after`` (seconds, fractional) and ``retry-after-ms``, rounded up to 1 ms."""
    millis = max(1, math.ceil(seconds * 1000 - SLACK))
    return [("retry-after", f"{millis / 1000:g}"), ("retry-after-ms", str(millis))]


def refusal_message(refusal: Refusal, model: str) -> str:
    """OpenAI's 429 message for ``refusal`` on ``model``."""
    axis = "requests per min (RPM)" if refusal.kind == "requests" else "tokens per min (TPM)"
    where = f"for {model} in organization org-fake on {axis}"
    more = "Visit https://platform.openai.com/account/rate-limits to learn more."
    if refusal.retry_after is None:
        return (
            f"Request too large {where}: Limit {refusal.limit}, Requested {refusal.requested}. "
            f"The input or output tokens must be reduced in order to run successfully. {more}"
        )
    return (
        f"Rate limit reached {where}: Limit {refusal.limit}, Used {refusal.used}, "
        f"Requested {refusal.requested}. Please try again in "
        f"{openai_duration(refusal.retry_after)}. {more}"
    )


def refusal_reply(refusal: Refusal, model: str, headers: tuple[tuple[str, str], ...]) -> Reply:
    """OpenAI's 429 for ``refusal``: error type "requests"/"tokens", code
    ``rate_limit_exceeded``, ``retry-after``/``retry-after-ms`` (not when waiting cannot help)
    and the key's ``x-ratelimit-*`` ``headers``."""
    retry = [] if refusal.retry_after is None else retry_after_headers(refusal.retry_after)
    return error_reply(
        429,
        refusal_message(refusal, model),
        refusal.kind,
        code="rate_limit_exceeded",
        headers=[*retry, *headers],
    )
