"""Google Calendar as a source of the calendar-events stream.

Enumerate lists each calendar's occurrences for the partition's UTC day:
``events.list`` with ``singleEvents=true`` (recurring events expanded into instances),
``timeMin``/``timeMax`` the day, ``showDeleted=true`` (cancelled occurrences come too, to be
marked), 2,500 a page, the page token the cursor. An occurrence belongs to the day it
starts; one that started the day before and runs into this one is left to that day. Each
is keyed ``<calendar id>|<event or instance id>`` with its etag as the version, so a
changed, moved or cancelled meeting is imported again; a moved one is listed on its new day
and moves there (the ledger keeps one row per key).

Fetch asks the same listing again, once per calendar and day among the refs, and keeps the
events asked for: one request serves up to 2,500 events, where ``events.get`` would cost one
each against the 600-requests-a-minute quota. An event gone from the listing is a
permanent failure with that reason.

Why windows and not sync tokens: Google refuses ``syncToken`` together with
``timeMin``/``timeMax``, so a sync feed cannot be split into day partitions; it would be a
second, unpartitioned listing whose changes must then be routed to days. The day window
costs one request per calendar and day, the nightly run over the coming days
(``INGEST_CALENDAR_LOOKAHEAD_DAYS``) re-lists what can still move, and each partition stays
self-contained and re-runnable.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from googleapiclient.errors import HttpError

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window
from ingest_pipeline.sources.base import SourceError, SourceLimits, require_window
from ingest_pipeline.sources.google.google_auth import (
    SCOPES,
    GoogleEndpoint,
    authorized_http,
    google_credentials,
    google_service,
)
from ingest_pipeline.sources.google.google_calls import NETWORK_ERRORS, GoogleCalls, call_failed
from ingest_pipeline.sources.quota_budget import QuotaBudget

PAGE_SIZE = 2500
CALENDAR_ENDPOINT = GoogleEndpoint(api_endpoint="https://www.googleapis.com/calendar/v3/")
# Google Calendar's default quota per user.
REQUESTS_PER_MINUTE = 600


class GoogleCalendarSource:
    """The named calendars (``primary`` by default) of one Google account."""

    streams = frozenset({"calendar_events"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(
        self,
        info: dict[str, Any],
        *,
        calendars: Sequence[str] = ("primary",),
        endpoint: GoogleEndpoint = CALENDAR_ENDPOINT,
        requests_per_minute: int = REQUESTS_PER_MINUTE,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        http = authorized_http(
            google_credentials(info, SCOPES["calendar_events"]), endpoint.timeout_seconds
        )
        self._service = google_service("calendar", "v3", http, endpoint.api_endpoint)
        budget = QuotaBudget(
            limit=requests_per_minute, capacity=max(1, requests_per_minute // 20), sleep=sleep
        )
        self.calls = GoogleCalls(budget, sleep=sleep, max_attempts=max_attempts)
        self.calendars = tuple(calendars) or ("primary",)
        self.notes: list[str] = []

    @property
    def requests_retried(self) -> int:
        return self.calls.retried

    def check(self) -> None:
        self.profile()

    def profile(self) -> dict[str, Any]:
        """The account's primary calendar entry (its id is the account's address)."""
        try:
            listing = self.calls.execute(
                functools.partial(self._service.calendarList().list, maxResults=250)
            )
        except HttpError as exc:
            raise SourceError(f"Google Calendar refused calendarList: {exc.reason}") from exc
        entries = [e for e in listing.get("items", []) if isinstance(e, dict)]
        primary = next((e for e in entries if e.get("primary")), entries[0] if entries else None)
        if primary is None:
            raise SourceError("Google Calendar lists no calendar for this account")
        known = {str(e.get("id")) for e in entries} | {"primary"}
        missing = [c for c in self.calendars if c not in known]
        if missing:
            raise SourceError(f"Google Calendar has no calendar {', '.join(missing)} here")
        return dict(primary)

    def sync_state(self) -> None:
        """Day windows need no provider state."""
        return None

    def probe_signature(self) -> str:
        """Each calendar's last modification (``events.list`` with one result: its ``etag``
        and ``updated``, one request per calendar); any event added, moved or cancelled
        changes it."""
        parts = []
        for calendar in self.calendars:
            listing = self.calls.execute(
                functools.partial(
                    self._service.events().list,
                    calendarId=calendar,
                    maxResults=1,
                    showDeleted=True,
                    fields="etag,updated",
                )
            )
            parts.append(f"{calendar}={listing.get('etag', '')}@{listing.get('updated', '')}")
        return "|".join(parts)

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        window = require_window(window, what="Google Calendar")
        state = json.loads(cursor) if cursor else {}
        if state.get("done"):
            return
        first = int(state.get("calendar", 0))
        for index in range(first, len(self.calendars)):
            calendar = self.calendars[index]
            page = state.get("page") if index == first else None
            while True:
                response = self._list(calendar, window, page)
                page = response.get("nextPageToken")
                refs = [
                    ref
                    for event in response.get("items", [])
                    if (ref := _ref(calendar, event, window)) is not None
                ]
                last = not page and index == len(self.calendars) - 1
                cursor_state = {
                    "calendar": index if page else index + 1,
                    "page": page,
                    "done": last,
                }
                yield Page(items=refs, cursor=json.dumps(cursor_state))
                if not page:
                    break

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        groups: dict[tuple[str, dt.date | None], list[ItemRef]] = defaultdict(list)
        for ref in refs:
            calendar, _, _ = ref.external_id.partition("|")
            day = ref.received_at.astimezone(dt.UTC).date() if ref.received_at else None
            groups[(calendar, day)].append(ref)
        for (calendar, day), wanted in groups.items():
            if day is None or calendar not in self.calendars:
                for ref in wanted:
                    yield FetchError(
                        ref.external_id, "not an event of this integration's calendars"
                    )
                continue
            try:
                found = self._day_events(calendar, Window.for_day(day))
            except (HttpError, *NETWORK_ERRORS) as exc:
                for ref in wanted:
                    yield call_failed(ref.external_id, exc, "Google Calendar")
                continue
            for ref in wanted:
                event = found.get(ref.external_id)
                if event is None:
                    yield FetchError(
                        ref.external_id,
                        f"the event is no longer on {day.isoformat()} in Google Calendar "
                        "(deleted or moved; its new day lists it again)",
                    )
                else:
                    yield RawItem(
                        ref.external_id,
                        event_payload(event, calendar, listed_at=ref.received_at),
                        received_at=ref.received_at,
                    )

    def _day_events(self, calendar: str, window: Window) -> dict[str, dict[str, Any]]:
        """Every event the day's listing holds, by external id."""
        found: dict[str, dict[str, Any]] = {}
        page = None
        while True:
            response = self._list(calendar, window, page)
            for event in response.get("items", []):
                if isinstance(event, dict) and event.get("id"):
                    found[f"{calendar}|{event['id']}"] = event
            page = response.get("nextPageToken")
            if not page:
                return found

    def _list(self, calendar: str, window: Window, page: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "calendarId": calendar,
            "timeMin": _rfc3339(window.start),
            "timeMax": _rfc3339(window.end),
            "singleEvents": True,
            "showDeleted": True,
            "maxResults": PAGE_SIZE,
        }
        if page:
            params["pageToken"] = page
        result: dict[str, Any] = self.calls.execute(
            functools.partial(self._service.events().list, **params)
        )
        return result


def event_payload(
    event: dict[str, Any], calendar_id: str, *, listed_at: dt.datetime | None
) -> bytes:
    """The bytes stored for one event: the API's JSON with its calendar's id and when the
    listing placed it (``listedStart``: a deleted event may come with its id alone)."""
    payload = {**event, "calendarId": calendar_id}
    if listed_at is not None:
        payload["listedStart"] = listed_at.astimezone(dt.UTC).isoformat()
    return json.dumps(payload, sort_keys=True).encode("utf-8")


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _start(event: dict[str, Any]) -> dt.datetime | None:
    """When the occurrence starts (UTC; all-day: midnight UTC of its date), falling back to
    a cancelled instance's original start."""
    for key in ("start", "originalStartTime"):
        value = event.get(key)
        if not isinstance(value, dict):
            continue
        try:
            if value.get("dateTime"):
                moment = dt.datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
                return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(
                    dt.UTC
                )
            if value.get("date"):
                day = dt.date.fromisoformat(str(value["date"]))
                return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def _ref(calendar: str, event: dict[str, Any], window: Window) -> ItemRef | None:
    """The occurrence's ref when it starts within the day (a cancelled one without any
    start belongs to the day whose listing reported it)."""
    if not isinstance(event, dict) or not event.get("id"):
        return None
    start = _start(event)
    if start is None:
        start = window.start
    elif not window.contains(start):
        return None
    version = str(event.get("etag") or event.get("updated") or event.get("status") or "")
    return ItemRef(external_id=f"{calendar}|{event['id']}", received_at=start, version=version)
