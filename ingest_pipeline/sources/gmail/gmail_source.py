"""Gmail as a source: day windows or history for enumerate, batched raw ``messages.get``.

Enumerate lists a day by receipt time (``after:``/``before:`` in epoch seconds on
internalDate) plus the integration's query and label, 500 ids a page, the page token as the
cursor. After a full listing of today it remembers the mailbox ``historyId``; later runs for
today list only what ``users.history.list`` (messageAdded) reports since, and fall back to
the day window when Gmail says the history id expired (404).

Fetch sends ``format=raw`` gets in batch requests of at most 50 calls. Sub-requests answered
429, 403 rate-limit or 5xx are asked again with exponential backoff and jitter, honouring
Retry-After (a batch does not retry them by itself), and a `QuotaBudget` keeps the user
under its units per minute. A revoked grant raises `CredentialsRevoked`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import google.auth.exceptions
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window
from ingest_pipeline.sources.base import (
    CredentialsRevoked,
    SourceError,
    SourceLimits,
    require_window,
)
from ingest_pipeline.sources.gmail.gmail_client import (
    GmailEndpoint,
    authorized_http,
    gmail_service,
    google_credentials,
    is_transient,
    revoked,
)
from ingest_pipeline.sources.google.google_calls import NETWORK_ERRORS, GoogleCalls
from ingest_pipeline.sources.quota_budget import QuotaBudget

log = logging.getLogger(__name__)

UNITS = {"messages.get": 5, "messages.list": 5, "history.list": 2, "getProfile": 1}


@dataclass(frozen=True)
class GmailOptions:
    """An integration's Gmail settings: extra query and label, keywords any of which a
    message must mention (the tenant's, refreshed each run), endpoint, limits."""

    query: str | None = None
    label: str | None = None
    keywords: tuple[str, ...] = ()
    endpoint: GmailEndpoint = field(default_factory=GmailEndpoint)
    units_per_minute: int = 15_000
    batch_size: int = 50
    max_attempts: int = 6
    base_backoff_seconds: float = 1.0


class GmailSource:
    """One Gmail mailbox (``userId`` ``me`` of the credentials)."""

    streams = frozenset({"mail"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(
        self,
        info: dict[str, Any],
        *,
        options: GmailOptions = GmailOptions(),
        sync_state: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.options = options
        self._credentials = google_credentials(info)
        self._http = authorized_http(self._credentials, options.endpoint)
        self._service = gmail_service(self._http, options.endpoint)
        self._sleep = sleep
        self._now = now
        self.budget = QuotaBudget(
            limit=options.units_per_minute,
            capacity=UNITS["messages.get"] * options.batch_size,
            sleep=sleep,
        )
        self.calls = GoogleCalls(
            self.budget,
            sleep=sleep,
            max_attempts=options.max_attempts,
            base_backoff_seconds=options.base_backoff_seconds,
        )
        self._state = dict(sync_state or {})
        self.notes: list[str] = []
        self._parts_retried = 0

    # -- contract ---------------------------------------------------------------------------

    def check(self) -> None:
        self.profile()

    def probe_signature(self) -> str:
        """The mailbox's current ``historyId`` (one ``users.getProfile`` call, 1 quota
        unit): it grows with every change to the mailbox, so an equal one means nothing
        new since."""
        return str(self.profile().get("historyId") or "")

    def profile(self) -> dict[str, Any]:
        """``users.getProfile``: the mailbox address and its current ``historyId``."""
        result: dict[str, Any] = self._call(
            "getProfile", lambda: self._service.users().getProfile(userId="me")
        )
        return result

    def sync_state(self) -> dict[str, Any]:
        """Provider state to keep on the integration (the mailbox ``history_id``)."""
        return dict(self._state)

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        window = require_window(window, what="Gmail")
        state = json.loads(cursor) if cursor else {}
        is_today = window.contains(self._now())
        history = is_today and self._state.get("history_id") and not self.options.keywords
        if state.get("mode", "history") == "history" and history:
            try:
                yield from self._history_pages(state)
                return
            except HistoryExpired:
                note = "Gmail history id expired; listed the whole day instead"
                log.warning(note)
                self.notes.append(note)
                state = {}
        yield from self._window_pages(window, state, remember_history=is_today)

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        pending = deque(ref.external_id for ref in refs)
        attempts: dict[str, int] = {}
        while pending:
            batch = [pending.popleft() for _ in range(min(self.options.batch_size, len(pending)))]
            self.budget.acquire(UNITS["messages.get"] * len(batch))
            outcomes = self._batch_get(batch)
            pause = 0.0
            for message_id in batch:
                outcome = outcomes.get(message_id)
                if isinstance(outcome, dict):
                    yield _raw_item(outcome)
                    continue
                if isinstance(outcome, HttpError) and not is_transient(outcome):
                    yield _permanent_error(message_id, outcome)
                    continue
                attempts[message_id] = attempts.get(message_id, 0) + 1
                if attempts[message_id] >= self.options.max_attempts:
                    yield FetchError(message_id, _transient_reason(outcome), retryable=True)
                    continue
                self._parts_retried += 1
                pending.append(message_id)
                pause = max(pause, self._backoff(attempts[message_id], outcome))
            if pause:
                self.budget.penalize(pause)
                self._sleep(pause)

    # -- enumerate helpers --------------------------------------------------------------------

    def _window_pages(
        self, window: Window, state: dict[str, Any], *, remember_history: bool
    ) -> Iterator[Page[ItemRef]]:
        history_id = state.get("history_id") or self.profile().get("historyId")
        query = " ".join(
            part
            for part in (
                f"after:{int(window.start.timestamp())}",
                f"before:{int(window.end.timestamp())}",
                f"label:{self.options.label}" if self.options.label else None,
                self.options.query,
                _any_of(self.options.keywords),
            )
            if part
        )
        if state.get("done"):
            return
        token = state.get("page")
        while True:
            response = self._call(
                "messages.list", functools.partial(self._list_request, query, token)
            )
            token = response.get("nextPageToken")
            refs = [ItemRef(external_id=m["id"]) for m in response.get("messages", [])]
            cursor = json.dumps(
                {"mode": "window", "page": token, "history_id": history_id, "done": token is None}
            )
            if token is None:
                if remember_history and history_id:
                    self._state["history_id"] = str(history_id)
                yield Page(items=refs, cursor=cursor)
                return
            yield Page(items=refs, cursor=cursor)

    def _history_pages(self, state: dict[str, Any]) -> Iterator[Page[ItemRef]]:
        if state.get("done"):
            return
        start = self._state["history_id"]
        token = state.get("page")
        while True:
            try:
                response = self._call(
                    "history.list", functools.partial(self._history_request, start, token)
                )
            except HttpError as exc:
                if int(exc.resp.status) == 404:
                    raise HistoryExpired(start) from exc
                raise
            token = response.get("nextPageToken")
            ids = [
                added["message"]["id"]
                for record in response.get("history", [])
                for added in record.get("messagesAdded", [])
            ]
            cursor = json.dumps({"mode": "history", "page": token, "done": token is None})
            if token is None:
                self._state["history_id"] = str(response.get("historyId", start))
            yield Page(items=[ItemRef(external_id=i) for i in dict.fromkeys(ids)], cursor=cursor)
            if token is None:
                return

    def _list_request(self, query: str, page: str | None) -> Any:
        return (
            self._service.users()
            .messages()
            .list(userId="me", q=query, maxResults=500, pageToken=page, includeSpamTrash=False)
        )

    def _history_request(self, start: str, page: str | None) -> Any:
        return (
            self._service.users()
            .history()
            .list(
                userId="me",
                startHistoryId=start,
                historyTypes=["messageAdded"],
                labelId=self.options.label,
                maxResults=500,
                pageToken=page,
            )
        )

    # -- transport ------------------------------------------------------------------------------

    def _call(self, method: str, make_request: Callable[[], Any]) -> Any:
        """One API call with the budget, retries for transient answers, and clear errors."""
        try:
            return self.calls.execute(make_request, units=UNITS[method])
        except HttpError as exc:
            if int(exc.resp.status) in (403, 404) and method == "getProfile":
                raise SourceError(f"Gmail refused getProfile: {exc.reason}") from exc
            raise

    def _batch_get(self, ids: list[str]) -> dict[str, dict[str, Any] | BaseException]:
        """One batch of ``messages.get(format=raw)``; each id maps to its message or error."""
        outcomes: dict[str, dict[str, Any] | BaseException] = {}

        # Sub-requests are numbered rather than named by message id: a long id would make
        # the Content-ID header fold, which the client cannot read back.
        def collect(request_id: str, response: Any, exception: BaseException | None) -> None:
            outcomes[ids[int(request_id)]] = exception if exception is not None else response

        batch = BatchHttpRequest(callback=collect, batch_uri=self.options.endpoint.batch_uri)
        for number, message_id in enumerate(ids):
            batch.add(
                self._service.users().messages().get(userId="me", id=message_id, format="raw"),
                request_id=str(number),
            )
        try:
            batch.execute(http=self._http)
        except google.auth.exceptions.RefreshError as exc:
            raise (revoked(exc) or SourceError(f"Gmail token refresh failed: {exc}")) from exc
        except HttpError as exc:
            if (gone := revoked(exc)) is not None:
                raise gone from exc
            return {message_id: exc for message_id in ids}
        except NETWORK_ERRORS as exc:
            return {message_id: exc for message_id in ids}
        for outcome in outcomes.values():
            if isinstance(outcome, HttpError) and (gone := revoked(outcome)) is not None:
                raise gone from outcome
        return outcomes

    def _backoff(self, attempt: int, error: BaseException | None) -> float:
        return self.calls.backoff(attempt, error)

    @property
    def requests_retried(self) -> int:
        """Calls and batch parts asked again after a transient answer."""
        return self.calls.retried + self._parts_retried


def _any_of(keywords: Sequence[str]) -> str | None:
    """Gmail search syntax for "mentions any of these": ``{"data engineer" python}``."""
    terms = [k.replace('"', " ").strip() for k in keywords]
    quoted = [f'"{t}"' if " " in t else t for t in terms if t]
    return "{" + " ".join(quoted) + "}" if quoted else None


class HistoryExpired(Exception):
    """Gmail no longer has history from the saved id (404)."""


def _raw_item(message: dict[str, Any]) -> RawItem:
    data = base64.urlsafe_b64decode(message["raw"] + "=" * (-len(message["raw"]) % 4))
    millis = message.get("internalDate")
    received = dt.datetime.fromtimestamp(int(millis) / 1000, tz=dt.UTC) if millis else None
    return RawItem(external_id=message["id"], data=data, received_at=received)


def _permanent_error(message_id: str, error: HttpError) -> FetchError:
    status = int(error.resp.status)
    if status == 404:
        return FetchError(message_id, "the message no longer exists in Gmail (deleted)")
    return FetchError(message_id, f"Gmail answered {status}: {error.reason}")


def _transient_reason(outcome: object) -> str:
    if isinstance(outcome, HttpError):
        return f"Gmail kept answering {int(outcome.resp.status)} ({outcome.reason}); will retry"
    if outcome is None:
        return "Gmail's batch response had no part for this message; will retry"
    return f"network error fetching from Gmail: {outcome}; will retry"


__all__ = ["CredentialsRevoked", "GmailOptions", "GmailSource"]
