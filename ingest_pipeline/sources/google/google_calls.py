"""One Google account's API calls: within its quota budget, asked again while Google
throttles, and with clear errors when it refuses.

Every Google source (Gmail, Contacts, Calendar) sends its calls through `GoogleCalls`: the
call first takes its quota units from the account's `QuotaBudget`; an answer of 429, 403
``rateLimitExceeded`` or 5xx, or a dropped connection, is asked again after exponential
backoff with jitter (never sooner than ``Retry-After``), and the pause is charged to the
budget; a refused grant raises `CredentialsRevoked`.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from typing import Any

import google.auth.exceptions
import httplib2
from googleapiclient.errors import HttpError

from ingest_pipeline.domain import FetchError
from ingest_pipeline.sources.base import SourceError
from ingest_pipeline.sources.google.google_auth import is_transient, retry_after_seconds, revoked
from ingest_pipeline.sources.quota_budget import QuotaBudget

NETWORK_ERRORS = (httplib2.HttpLib2Error, OSError, socket.timeout, ConnectionError)


class GoogleCalls:
    """Executes one account's requests (``googleapiclient`` request objects)."""

    def __init__(
        self,
        budget: QuotaBudget,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 6,
        base_backoff_seconds: float = 1.0,
    ) -> None:
        self.budget = budget
        self.max_attempts = max_attempts
        self.base_backoff_seconds = base_backoff_seconds
        self._sleep = sleep
        self._random = random.Random()
        self.retried = 0

    def execute(self, make_request: Callable[[], Any], *, units: int = 1) -> Any:
        """The answer of ``make_request().execute()``; `HttpError` once Google still
        refuses after the retries (or at once for a permanent error)."""
        for attempt in range(1, self.max_attempts + 1):
            self.budget.acquire(units)
            try:
                return make_request().execute(num_retries=0)
            except HttpError as exc:
                if (gone := revoked(exc)) is not None:
                    raise gone from exc
                if not is_transient(exc) or attempt == self.max_attempts:
                    raise
                pause = self.backoff(attempt, exc)
            except google.auth.exceptions.RefreshError as exc:
                raise (revoked(exc) or SourceError(f"Google token refresh failed: {exc}")) from exc
            except NETWORK_ERRORS as exc:
                if attempt == self.max_attempts:
                    raise
                pause = self.backoff(attempt, exc)
            self.pause(pause)
        raise AssertionError("unreachable")

    def backoff(self, attempt: int, error: BaseException | None) -> float:
        """Exponential backoff with jitter, at least what Retry-After asked for."""
        base = min(self.base_backoff_seconds * 2 ** (attempt - 1), 32.0)
        delay = base * self._random.uniform(0.5, 1.5)
        if isinstance(error, HttpError):
            delay = max(delay, retry_after_seconds(error, 0.0))
        return delay

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` before asking again, and make the budget wait with us."""
        self.retried += 1
        self.budget.penalize(seconds)
        self._sleep(seconds)


def call_failed(external_id: str, error: BaseException, api: str) -> FetchError:
    """The fetch outcome of an item whose call failed after the retries: retryable when
    Google was throttling, unavailable or unreachable, permanent otherwise."""
    if isinstance(error, HttpError):
        status = int(error.resp.status)
        if is_transient(error):
            return FetchError(
                external_id, f"{api} kept answering {status} ({error.reason}); will retry", True
            )
        return FetchError(external_id, f"{api} answered {status}: {error.reason}")
    return FetchError(external_id, f"network error reaching {api}: {error}; will retry", True)
