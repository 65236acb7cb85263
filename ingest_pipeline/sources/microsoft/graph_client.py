"""A small Microsoft Graph client on httpx: GETs that follow Graph's throttling rules, and
JSON ``$batch`` requests whose parts are answered (and throttled) one by one.

Every request takes its share of the mailbox's `QuotaBudget` first (a batch takes one unit
per part, as Outlook counts them) and one of the mailbox's request slots (Outlook allows 4
at once per mailbox). A GET answered 429, 503, 504 or a dropped connection is asked again
by tenacity after the answer's ``Retry-After`` (or exponential backoff with jitter), and
the pause is charged to the budget so other threads wait too. A 401 renews the token once.

Why not msgraph-sdk: it is async-only (kiota), pulls a large dependency tree, and hides the
``$batch`` part headers (``Retry-After`` per part) behind its own retry handler; what we need
is two calls and a batch.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from ingest_pipeline.sources.base import SourceError
from ingest_pipeline.sources.microsoft.graph_auth import GraphTokens
from ingest_pipeline.sources.microsoft.ms_credentials import GraphEndpoint
from ingest_pipeline.sources.quota_budget import QuotaBudget

MAX_BATCH_PARTS = 20
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
THROTTLE_CODES = {"MailboxConcurrency", "ApplicationThrottled", "TooManyRequests"}
NETWORK_ERRORS = (httpx.TransportError,)


class GraphError(Exception):
    """Graph answered with an error: ``status``, Graph's ``code``, and ``retry_after``
    seconds when the answer asked for a pause."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"Graph answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Worth asking again after a pause (throttling, an unavailable service)."""
        return self.status in TRANSIENT_STATUSES or self.code in THROTTLE_CODES


@dataclass(frozen=True)
class PartAnswer:
    """One ``$batch`` part's answer: status, headers, and the body as bytes (``$value``)
    or as JSON."""

    status: int
    headers: Mapping[str, str]
    body: Any

    def error(self) -> GraphError:
        body = self.body if isinstance(self.body, dict) else {}
        found = body.get("error")
        details: dict[str, Any] = found if isinstance(found, dict) else {}
        return GraphError(
            self.status,
            str(details.get("code") or "error"),
            str(details.get("message") or ""),
            retry_after_of(self.headers),
        )


def retry_after_of(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (Graph sends whole seconds), None when absent or odd."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except ValueError:
                return None
    return None


class _RetryAfterOrBackoff(wait_base):
    """At least what the answer's Retry-After asked, else exponential backoff with jitter."""

    def __init__(self, base: float, rng: random.Random) -> None:
        self.base = base
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = min(self.base * 2 ** (retry_state.attempt_number - 1), 32.0)
        delay = backoff * self.rng.uniform(0.5, 1.5)
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, GraphError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay


def _worth_retrying(error: BaseException) -> bool:
    return isinstance(error, NETWORK_ERRORS) or (
        isinstance(error, GraphError) and (error.transient or error.status == 401)
    )


class GraphClient:
    """Requests to one mailbox's Graph resources, within its limits."""

    def __init__(
        self,
        tokens: GraphTokens,
        endpoint: GraphEndpoint,
        *,
        budget: QuotaBudget | None = None,
        max_in_flight: int = 4,
        max_attempts: int = 6,
        base_backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tokens = tokens
        self.endpoint = endpoint
        self.budget = budget
        self.max_attempts = max_attempts
        self.base_backoff_seconds = base_backoff_seconds
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._wait = _RetryAfterOrBackoff(base_backoff_seconds, random.Random())
        verify: ssl.SSLContext | bool = True
        if endpoint.ca_bundle:
            verify = ssl.create_default_context(cafile=endpoint.ca_bundle)
        self._http = httpx.Client(
            base_url=endpoint.graph_url.rstrip("/") + "/",
            verify=verify,
            timeout=endpoint.timeout_seconds,
            limits=httpx.Limits(
                max_connections=max_in_flight, max_keepalive_connections=max_in_flight
            ),
        )
        self.retried = 0
        self.throttled = 0

    def close(self) -> None:
        self._http.close()

    # -- GET ----------------------------------------------------------------------------------

    def get(self, url: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET a JSON resource (a path under the Graph URL, or a full ``@odata.nextLink``),
        asked again while Graph throttles; `GraphError` when it still refuses."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_worth_retrying),
            sleep=self._pause,
            before_sleep=self._before_retry,
            reraise=True,
        )
        result: dict[str, Any] = retrying(self._get_once, url, params)
        return result

    def _get_once(self, url: str, params: Mapping[str, str] | None) -> dict[str, Any]:
        response = self._send("GET", self._relative(url), params=params, units=1)
        return dict(response.json())

    # -- $batch -------------------------------------------------------------------------------

    def batch(self, urls: Sequence[str]) -> dict[int, PartAnswer | BaseException]:
        """One ``$batch`` of GETs (at most 20); each index maps to its part's answer, or to
        the error that kept the whole batch from being answered."""
        if len(urls) > MAX_BATCH_PARTS:
            raise ValueError(f"a Graph batch holds at most {MAX_BATCH_PARTS} requests")
        body = {
            "requests": [
                {"id": str(number), "method": "GET", "url": "/" + self._relative(url).lstrip("/")}
                for number, url in enumerate(urls)
            ]
        }
        try:
            response = self._send("POST", "$batch", json_body=body, units=len(urls))
        except (GraphError, *NETWORK_ERRORS) as exc:
            if isinstance(exc, GraphError) and exc.status == 401:
                self.tokens.invalidate()
            return {number: exc for number in range(len(urls))}
        answers: dict[int, PartAnswer | BaseException] = {}
        for part in response.json().get("responses", []):
            try:
                number = int(part["id"])
            except (KeyError, TypeError, ValueError):
                continue
            headers = {str(k): str(v) for k, v in (part.get("headers") or {}).items()}
            answers[number] = PartAnswer(
                int(part.get("status", 0)), headers, decode_part_body(part.get("body"), headers)
            )
        return answers

    def backoff(self, attempt: int, error: object) -> float:
        """How long to wait before asking a part again: exponential backoff with jitter,
        at least the part's Retry-After."""
        base = min(self.base_backoff_seconds * 2 ** (attempt - 1), 32.0)
        delay = base * self._wait.rng.uniform(0.5, 1.5)
        if isinstance(error, GraphError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    def penalize(self, seconds: float) -> None:
        """Everyone sending to this mailbox waits ``seconds`` (a part said Retry-After)."""
        if self.budget is not None:
            self.budget.penalize(seconds)

    # -- transport ----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        units: int,
    ) -> httpx.Response:
        if self.budget is not None:
            self.budget.acquire(units)
        headers = {"Authorization": f"Bearer {self.tokens.bearer()}", "Accept": "application/json"}
        with self._slots:
            response = self._http.request(
                method, url, params=params, json=json_body, headers=headers
            )
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    def _relative(self, url: str) -> str:
        """A path under the Graph URL; a full URL (a nextLink) must be under it too."""
        base = self.endpoint.graph_url.rstrip("/") + "/"
        if url.startswith(("https://", "http://")):
            if not url.startswith(base):
                raise SourceError(f"Graph sent a link outside {base}: {url[:120]!r}")
            return url[len(base) :]
        return url.lstrip("/")

    def _pause(self, seconds: float) -> None:
        self.penalize(seconds)
        self._sleep(seconds)

    def _before_retry(self, retry_state: RetryCallState) -> None:
        self.retried += 1
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, GraphError):
            if error.status == 401:
                self.tokens.invalidate()
            if error.status == 429:
                self.throttled += 1


def _error_of(response: httpx.Response) -> GraphError:
    try:
        details = response.json().get("error") or {}
    except (ValueError, AttributeError):
        details = {}
    if not isinstance(details, dict):
        details = {}
    return GraphError(
        response.status_code,
        str(details.get("code") or response.reason_phrase),
        str(details.get("message") or response.text[:200]),
        retry_after_of(response.headers),
    )


def decode_part_body(body: Any, headers: Mapping[str, str]) -> Any:
    """A batch part's body by its own ``Content-Type``: JSON stays JSON; anything else
    (``$value``'s MIME, an attachment) arrives base64-encoded and is returned as bytes."""
    if body is None or isinstance(body, dict | list):
        return body
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    text = str(body)
    if "json" in content_type.lower():
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text.encode("utf-8")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        # Not base64 after all: a text body sent as is.
        return text.encode("utf-8")
