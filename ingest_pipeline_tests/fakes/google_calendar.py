"""One user's calendars in the fake Calendar API v3: set-up, ``calendarList.list`` and
``events.list`` (see `google_calendar_events`).

Every user has a primary calendar whose id is their address (``primary`` names it too). Each
change (a calendar added or changed, an event added, changed or cancelled) takes the account's
next change number, which sync tokens count from.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any

from ingest_pipeline_tests.fakes.gmail_quota import QuotaWindow
from ingest_pipeline_tests.fakes.google_calendar_events import list_events, max_results
from ingest_pipeline_tests.fakes.google_calendar_model import (
    OUTPUT_ONLY,
    STATUSES,
    StoredCalendar,
    StoredEvent,
)
from ingest_pipeline_tests.fakes.google_calendar_time import When, check_span, stamp, zone_named
from ingest_pipeline_tests.fakes.google_errors import calendar_error, full_sync_required
from ingest_pipeline_tests.fakes.google_sync import (
    PageTokenError,
    Params,
    Snapshot,
    SyncPoint,
    SyncState,
    fingerprint,
    first,
)

_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"  # the letters of Calendar event ids
_EVENT_ID = re.compile(r"[0-9a-v]{5,1024}")
_ACCESS_ROLES = ("freeBusyReader", "reader", "writer", "owner")
# A change to these makes attendees' copies out of date: Google bumps ``sequence``.
_SIGNIFICANT = ("start", "end", "recurrence", "location", "status")


class CalendarAccount:
    """A user's calendars and events (callers hold the server lock)."""

    def __init__(
        self,
        email: str,
        *,
        sync: SyncState,
        ids: random.Random,
        now: Callable[[], dt.datetime],
    ) -> None:
        self.email = email
        self.quota = QuotaWindow()
        self.calendars: dict[str, StoredCalendar] = {}
        self._sync = sync
        self._ids = ids
        self._now = now
        self._change = 0
        self.add_calendar()

    # -- test set-up -------------------------------------------------------------------------

    def add_calendar(
        self, calendar_id: str = "primary", summary: str | None = None, time_zone: str = "UTC"
    ) -> str:
        """Add a calendar (or change the summary and zone of an existing one); returns its id."""
        if zone_named(time_zone) is None:
            raise ValueError(f"unknown time zone {time_zone!r}")
        primary = calendar_id in ("primary", self.email)
        calendar_id = self.email if primary else calendar_id
        change, now = self._next_change(), stamp(self._now())
        calendar = self.calendars.get(calendar_id)
        if calendar is None:
            calendar = StoredCalendar(calendar_id, calendar_id, time_zone, primary, change, now)
            self.calendars[calendar_id] = calendar
        calendar.summary = summary or calendar.summary
        calendar.time_zone, calendar.changed_at, calendar.updated = time_zone, change, now
        return calendar_id

    def add_event(self, calendar_id: str, event: dict[str, Any]) -> str:
        """Store a Calendar Event (``id`` optional, base32hex); returns its id."""
        calendar = self._calendar(calendar_id)
        body = {k: copy.deepcopy(v) for k, v in event.items() if k not in OUTPUT_ONLY}
        event_id = str(body.pop("id", "") or self._new_id())
        if not _EVENT_ID.fullmatch(event_id) or event_id in calendar.events:
            raise ValueError(f"event id {event_id!r} is malformed (base32hex) or taken")
        if "start" not in body or "end" not in body:
            raise ValueError("an event needs start and end")
        start, end = When.parse(body.pop("start")), When.parse(body.pop("end"))
        status = str(body.pop("status", "confirmed"))
        now = stamp(self._now())
        stored = StoredEvent(event_id, body, start, end, status, now, now, 0, self._next_change())
        _check(stored, calendar)
        calendar.events[event_id] = stored
        calendar.updated = now
        return event_id

    def update_event(self, calendar_id: str, event_id: str, fields: dict[str, Any]) -> None:
        """Change an event, a series, or one instance of a series (``<id>_<start>``), which
        stores an exception. A None value removes the field."""
        calendar = self._calendar(calendar_id)
        event = calendar.events.get(event_id) or self._new_exception(calendar, event_id)
        changes = {k: copy.deepcopy(v) for k, v in fields.items() if k not in OUTPUT_ONLY}
        changes.pop("id", None)
        if "start" in changes:
            event.start = When.parse(changes.pop("start"))
        if "end" in changes:
            event.end = When.parse(changes.pop("end"))
        if "status" in changes:
            event.status = str(changes.pop("status"))
        for key, value in changes.items():
            if value is None:
                event.body.pop(key, None)
            else:
                event.body[key] = value
        _check(event, calendar)
        if any(key in fields for key in _SIGNIFICANT):
            event.sequence += 1
        event.changed_at = self._next_change()
        event.updated = calendar.updated = stamp(self._now())
        calendar.events[event.id] = event

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        """Cancel (delete) an event, a whole series, or one instance of a series."""
        self.update_event(calendar_id, event_id, {"status": "cancelled"})

    def _calendar(self, calendar_id: str) -> StoredCalendar:
        calendar = self.calendar(calendar_id)
        if calendar is None:
            raise KeyError(f"no calendar {calendar_id!r} for {self.email}: call add_calendar")
        return calendar

    def _new_exception(self, calendar: StoredCalendar, instance_id: str) -> StoredEvent:
        parent_id, _, suffix = instance_id.rpartition("_")
        parent = calendar.events.get(parent_id)
        if parent is not None and parent.recurrence:
            for instance in parent.instances(calendar.zone):
                own = instance.start.instance_suffix()
                if own == suffix:
                    return instance
                if own > suffix:  # the basic format sorts in time order
                    break
        raise KeyError(f"no event or instance {instance_id!r} in calendar {calendar.id!r}")

    def _new_id(self) -> str:
        return "".join(self._ids.choice(_BASE32HEX) for _ in range(26))

    def _next_change(self) -> int:
        self._change += 1
        return self._change

    # -- endpoints ---------------------------------------------------------------------------

    def calendar(self, calendar_id: str) -> StoredCalendar | None:
        """The calendar ``calendar_id`` names (``primary`` is the user's own)."""
        if calendar_id == "primary" or calendar_id.lower() == self.email:
            return self.calendars.get(self.email)
        return self.calendars.get(calendar_id)

    def list_events(self, calendar_id: str, params: Params) -> dict[str, Any]:
        """``GET calendars/{calendarId}/events``."""
        calendar = self.calendar(calendar_id)
        if calendar is None:
            raise calendar_error(404, "notFound", "Not Found")
        return list_events(calendar, self.email, params, self._sync, self._change)

    def list_calendar_list(self, params: Params) -> dict[str, Any]:
        """``GET users/me/calendarList``: the primary calendar first, then by id."""
        size = max_results(params, default=100, cap=250)
        if token := first(params, "pageToken"):
            try:
                number, offset = self._sync.resume(token, "calendarList", self.email)
            except PageTokenError:
                raise calendar_error(
                    400, "invalid", "Invalid Value", location="pageToken"
                ) from None
        else:
            number, offset = self._sync.open(self._calendar_snapshot(params)), 0
        page, next_page, next_sync = self._sync.page(number, offset, size)
        body: dict[str, Any] = {"kind": "calendar#calendarList", "etag": f'"p{self._change}"'}
        if next_page:
            body["nextPageToken"] = next_page
        if next_sync:
            body["nextSyncToken"] = next_sync
        body["items"] = page
        return body

    def _calendar_snapshot(self, params: Params) -> Snapshot:
        role = first(params, "minAccessRole")
        if role and role not in _ACCESS_ROLES:
            raise calendar_error(400, "invalid", f"Invalid value for minAccessRole: {role}")
        ordered = sorted(self.calendars.values(), key=lambda c: (not c.primary, c.id))
        if sync_token := first(params, "syncToken"):
            for name in ("minAccessRole", "showOwnOrganizationOnly"):
                if name in params:
                    message = f"The syncToken parameter cannot be combined with {name}."
                    raise calendar_error(400, "invalid", message, location=name)
            since = self._sync.read_sync_token(sync_token, "calendarList", self.email)
            if since is None:
                raise full_sync_required()
            ordered = [calendar for calendar in ordered if calendar.changed_at > since]
        items = [calendar.entry() for calendar in ordered]
        point = SyncPoint("calendarList", self._change)
        return Snapshot(self.email, "calendarList", fingerprint(params), items, point)


def _check(event: StoredEvent, calendar: StoredCalendar) -> None:
    """What Google refuses on insert or update (raised as ValueError at set-up)."""
    check_span(event.start, event.end)
    if event.status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {event.status!r}")
    if event.recurrence:
        next(iter(event.instances(calendar.zone)), None)  # a malformed rule raises here
