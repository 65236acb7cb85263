"""Outlook mail through Microsoft Graph, as a source of the mail stream.

Enumerate lists a day of one folder by receipt time (``$filter`` on ``receivedDateTime``,
``$select=id,receivedDateTime``, 1,000 a page, the ``@odata.nextLink`` as the cursor). For
today it uses the folder's delta query instead, from the start of the day: the first run
lists the day and saves the ``@odata.deltaLink`` on the integration, and each later run that
day lists only what arrived since. An expired delta link (410 ``syncStateNotFound``) falls
back to the day window, with a note in the metrics. With keywords (`OutlookOptions`), the
listing is a ``$search`` for them within the day, since Graph cannot combine ``$search``
with ``$filter`` or delta.

Fetch downloads each message's MIME (``GET /messages/{id}/$value``) in ``$batch`` requests
of at most 20, one batch at a time (Graph runs its parts four at once, the mailbox's
concurrency limit; `MailboxLimits.batches_in_flight` says otherwise), and asks again for
the parts Graph throttled (429 ``ApplicationThrottled``/``MailboxConcurrency``, 503) after
their ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window
from ingest_pipeline.sources.base import SourceLimits, require_window
from ingest_pipeline.sources.microsoft.graph_client import GraphError, PartAnswer
from ingest_pipeline.sources.microsoft.graph_mailbox import (
    GraphAccount,
    check_access,
    connect,
    delta_pages,
    is_expired_delta,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 1000


@dataclass(frozen=True)
class OutlookOptions:
    """Which folder to read (a well-known name such as ``inbox``, or a folder id) and the
    keywords that narrow the listing (none: every message)."""

    folder: str = "inbox"
    keywords: tuple[str, ...] = ()


class OutlookSource:
    """One Outlook mailbox's folder."""

    streams = frozenset({"mail"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(
        self,
        account: GraphAccount,
        *,
        options: OutlookOptions = OutlookOptions(),
        sync_state: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.account = account
        self.options = options
        self.client, self.user_path = connect(account, sleep=sleep)
        self._sleep = sleep
        self._now = now
        self._state = dict(sync_state or {})
        self.notes: list[str] = []
        self.requests_retried = 0

    # -- contract ---------------------------------------------------------------------------

    def check(self) -> None:
        self.profile()

    def profile(self) -> dict[str, Any]:
        """The mailbox's user: ``userPrincipalName``, ``mail``, ``id``."""
        return check_access(self.client, self.user_path)

    def sync_state(self) -> dict[str, Any]:
        """The folder's delta link for today (``mail_delta``: day and link)."""
        return dict(self._state)

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        window = require_window(window, what="Outlook")
        state = json.loads(cursor) if cursor else {}
        if state.get("done"):
            return
        use_delta = window.contains(self._now()) and not self.options.keywords
        if use_delta and state.get("mode", "delta") == "delta":
            try:
                yield from self._delta_pages(window, state)
                return
            except GraphError as exc:
                if not is_expired_delta(exc):
                    raise
                note = f"Outlook delta link expired ({exc.code}); listed the whole day instead"
                log.warning(note)
                self.notes.append(note)
                self._state.pop("mail_delta", None)
                state = {}
        yield from self._window_pages(window, state)

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        received = {ref.external_id: ref.received_at for ref in refs}
        pending = deque(ref.external_id for ref in refs)
        attempts: dict[str, int] = {}
        limits = self.account.limits
        with ThreadPoolExecutor(limits.batches_in_flight, thread_name_prefix="outlook") as pool:
            while pending:
                rounds: list[tuple[list[str], Future[dict[int, PartAnswer | BaseException]]]] = []
                while pending and len(rounds) < limits.batches_in_flight:
                    ids = [pending.popleft() for _ in range(min(limits.batch_size, len(pending)))]
                    urls = [f"{self.user_path}/messages/{quote(i, safe='')}/$value" for i in ids]
                    rounds.append((ids, pool.submit(self.client.batch, urls)))
                pause = 0.0
                for ids, answers_of in rounds:
                    answers = answers_of.result()
                    for number, message_id in enumerate(ids):
                        answer = answers.get(number)
                        if isinstance(answer, PartAnswer) and answer.status == 200:
                            yield _raw_item(message_id, answer, received.get(message_id))
                            continue
                        error = _error_of(answer)
                        if isinstance(error, GraphError) and not (
                            error.transient or error.status == 401
                        ):
                            yield _permanent_error(message_id, error)
                            continue
                        if isinstance(error, GraphError) and error.status == 401:
                            self.client.tokens.invalidate()
                        attempts[message_id] = attempts.get(message_id, 0) + 1
                        if attempts[message_id] >= limits.max_attempts:
                            yield FetchError(message_id, _transient_reason(error), retryable=True)
                            continue
                        self.requests_retried += 1
                        pending.append(message_id)
                        pause = max(pause, self.client.backoff(attempts[message_id], error))
                if pause:
                    self.client.penalize(pause)
                    self._sleep(pause)

    def probe_signature(self) -> str:
        """The folder's item and unread counts and its newest message's id (two small
        requests): new mail, mail read or removed changes it."""
        folder = self.client.get(self._folder_path(), {"$select": "totalItemCount,unreadItemCount"})
        newest = self.client.get(
            f"{self._folder_path()}/messages",
            {"$top": "1", "$orderby": "receivedDateTime desc", "$select": "id"},
        )
        first = (newest.get("value") or [{}])[0]
        return (
            f"{folder.get('totalItemCount', 0)}:{folder.get('unreadItemCount', 0)}:"
            f"{first.get('id', '')}"
        )

    # -- enumerate helpers --------------------------------------------------------------------

    def _folder_path(self) -> str:
        return f"{self.user_path}/mailFolders/{quote(self.options.folder, safe='')}"

    def _window_pages(self, window: Window, state: dict[str, Any]) -> Iterator[Page[ItemRef]]:
        params: dict[str, str] | None
        if state.get("next"):
            start, params = str(state["next"]), None
        elif self.options.keywords:
            start, params = (
                f"{self._folder_path()}/messages",
                {
                    "$search": f'"{_kql(window, self.options.keywords)}"',
                    "$select": "id,receivedDateTime",
                    "$top": str(PAGE_SIZE),
                },
            )
        else:
            start, params = (
                f"{self._folder_path()}/messages",
                {
                    "$filter": (
                        f"receivedDateTime ge {_iso(window.start)} and "
                        f"receivedDateTime lt {_iso(window.end)}"
                    ),
                    "$select": "id,receivedDateTime",
                    "$orderby": "receivedDateTime",
                    "$top": str(PAGE_SIZE),
                },
            )
        for values, next_link, _ in delta_pages(self.client, start, params):
            cursor = json.dumps({"mode": "window", "next": next_link, "done": not next_link})
            yield Page(items=_refs(values, window), cursor=cursor)

    def _delta_pages(self, window: Window, state: dict[str, Any]) -> Iterator[Page[ItemRef]]:
        day = window.start.date().isoformat()
        saved = self._state.get("mail_delta") or {}
        params: dict[str, str] | None = None
        if state.get("next"):
            start = str(state["next"])
        elif saved.get("day") == day and saved.get("link"):
            start = str(saved["link"])
        else:
            start = f"{self._folder_path()}/messages/delta"
            params = {
                "$filter": f"receivedDateTime ge {_iso(window.start)}",
                "$select": "id,receivedDateTime",
            }
        for values, next_link, delta_link in delta_pages(self.client, start, params):
            if delta_link:
                self._state["mail_delta"] = {"day": day, "link": str(delta_link)}
            cursor = json.dumps({"mode": "delta", "next": next_link, "done": not next_link})
            yield Page(items=_refs(values, window), cursor=cursor)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Characters that would end the quoted $search value or group terms: read as spaces.
_KQL_SPECIAL = str.maketrans({'"': " ", "\\": " ", "(": " ", ")": " "})


def _kql(window: Window, keywords: Sequence[str]) -> str:
    """A KQL query: any keyword (a multi-word one as all its words), received within a day
    of the window on each side (KQL dates carry no time zone; the listing keeps only the
    window's messages)."""
    words = " OR ".join(" ".join(k.translate(_KQL_SPECIAL).split()) for k in keywords)
    first = (window.start - dt.timedelta(days=1)).date().isoformat()
    last = window.end.date().isoformat()
    return f"({words}) AND received>={first} AND received<={last}"


def _received(value: dict[str, Any]) -> dt.datetime | None:
    text = value.get("receivedDateTime")
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        return None


def _refs(values: list[dict[str, Any]], window: Window) -> list[ItemRef]:
    """The listed messages received within the day (a delta from the day's start also
    reports later ones and removals, and a ``$search`` matches by date only)."""
    refs = []
    for value in values:
        if "@removed" in value or not value.get("id"):
            continue
        received = _received(value)
        if received is not None and window.contains(received):
            refs.append(ItemRef(external_id=str(value["id"]), received_at=received))
    return refs


def _error_of(answer: PartAnswer | BaseException | None) -> BaseException | None:
    if isinstance(answer, PartAnswer):
        return answer.error()
    return answer


def _raw_item(message_id: str, answer: PartAnswer, received: dt.datetime | None) -> RawItem:
    body = answer.body
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return RawItem(external_id=message_id, data=data, received_at=received)


def _permanent_error(message_id: str, error: GraphError) -> FetchError:
    if error.status == 404:
        return FetchError(message_id, "the message no longer exists in Outlook (deleted)")
    return FetchError(message_id, f"Outlook answered {error.status} {error.code}: {error.message}")


def _transient_reason(error: BaseException | None) -> str:
    if isinstance(error, GraphError):
        return f"Outlook kept answering {error.status} ({error.code}); will retry"
    if error is None:
        return "Graph's batch response had no part for this message; will retry"
    return f"network error fetching from Outlook: {error}; will retry"
