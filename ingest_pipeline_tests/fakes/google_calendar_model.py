"""Stored calendars and events of the fake Calendar API v3, and their JSON as Google renders it.

A recurring event is stored once, with its ``recurrence`` lines; its instances (``<id>_<start
in UTC, basic format>``) are derived when listed. Changing or cancelling one instance stores an
exception: an event of its own with ``recurringEventId`` and ``originalStartTime``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from ingest_pipeline_tests.fakes.google_calendar_time import When, occurrences

# A series listed without timeMax (or in a sync) yields at most this many instances.
MAX_SERIES_INSTANCES = 1000
STATUSES = ("confirmed", "tentative", "cancelled")
# Fields the server sets; a caller's values for them are ignored.
OUTPUT_ONLY = frozenset(
    (
        "kind",
        "etag",
        "htmlLink",
        "created",
        "updated",
        "iCalUID",
        "sequence",
        "creator",
        "recurringEventId",
        "originalStartTime",
    )
)


@dataclass
class StoredEvent:
    """An event, a recurring series, or an exception (one changed instance of a series)."""

    id: str
    body: dict[str, Any]  # the caller's fields less id, start, end, status and OUTPUT_ONLY
    start: When
    end: When
    status: str
    created: str
    updated: str
    sequence: int
    changed_at: int
    recurring_event_id: str | None = None
    original_start: When | None = None

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def recurrence(self) -> list[str]:
        if self.recurring_event_id is not None:
            return []
        return list(self.body.get("recurrence") or [])

    def instances(self, zone: ZoneInfo) -> Iterator[StoredEvent]:
        """Every instance of this series (endless for an endless rule), as generated."""
        body = {key: value for key, value in self.body.items() if key != "recurrence"}
        for start, end in occurrences(self.start, self.end, self.recurrence, zone):
            yield replace(
                self,
                id=f"{self.id}_{start.instance_suffix()}",
                body=body,
                start=start,
                end=end,
                recurring_event_id=self.id,
                original_start=start,
            )

    def etag(self) -> str:
        return f'"{3_400_000_000_000_000 + self.changed_at * 1000 + self.sequence}"'


@dataclass
class StoredCalendar:
    """A calendar on the user's calendar list (the primary one's id is the user's address)."""

    id: str
    summary: str
    time_zone: str
    primary: bool
    changed_at: int
    updated: str
    events: dict[str, StoredEvent] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def entry(self) -> dict[str, Any]:
        """Its ``calendar#calendarListEntry``."""
        entry: dict[str, Any] = {
            "kind": "calendar#calendarListEntry",
            "etag": f'"{1_700_000_000_000_000 + self.changed_at}"',
            "id": self.id,
            "summary": self.summary,
            "timeZone": self.time_zone,
            "colorId": "14",
            "backgroundColor": "#9fe1e7",
            "foregroundColor": "#000000",
            "selected": True,
            "accessRole": "owner",
            "defaultReminders": [],
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        if self.primary:
            entry["primary"] = True
        return entry

    def series(
        self, parent: StoredEvent, until: dt.datetime | None = None
    ) -> Iterator[StoredEvent]:
        """The generated instances of ``parent`` that no exception replaces: those starting
        before ``until``, or the first `MAX_SERIES_INSTANCES` without it."""
        for count, instance in enumerate(parent.instances(self.zone)):
            if until is None and count >= MAX_SERIES_INSTANCES:
                return
            if until is not None and instance.start.at(self.zone) >= until:
                return
            if instance.id not in self.events:
                yield instance

    def exceptions(self, parent: StoredEvent) -> list[StoredEvent]:
        """The stored exceptions of ``parent`` (cancelled ones too)."""
        return [e for e in self.events.values() if e.recurring_event_id == parent.id]


def render_event(
    event: StoredEvent, calendar: StoredCalendar, owner: str, zone: ZoneInfo
) -> dict[str, Any]:
    """The ``calendar#event`` JSON; a cancelled event is only guaranteed its id, as Google's."""
    rendered: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": event.etag(),
        "id": event.id,
        "status": event.status,
    }
    original: dict[str, Any] = {}
    if event.recurring_event_id is not None and event.original_start is not None:
        original["recurringEventId"] = event.recurring_event_id
        original["originalStartTime"] = event.original_start.render(zone)
    if event.cancelled:
        return {**rendered, **original}
    link = base64.urlsafe_b64encode(f"{event.id} {calendar.id}".encode()).decode().rstrip("=")
    rendered.update(
        htmlLink=f"https://www.google.com/calendar/event?eid={link}",
        created=event.created,
        updated=event.updated,
    )
    special = ("attendees", "organizer", "recurrence")
    rendered.update({k: copy.deepcopy(v) for k, v in event.body.items() if k not in special})
    rendered["creator"] = {"email": owner, "self": True}
    default_organizer = {"email": calendar.id, "self": True}
    if not calendar.primary:
        default_organizer["displayName"] = calendar.summary
    organizer = dict(event.body.get("organizer") or default_organizer)
    if str(organizer.get("email", "")).lower() in (owner, calendar.id.lower()):
        organizer.setdefault("self", True)
    rendered["organizer"] = organizer
    rendered["start"] = event.start.render(zone)
    rendered["end"] = event.end.render(zone)
    if event.recurrence:
        rendered["recurrence"] = event.recurrence
    rendered.update(original)
    rendered["iCalUID"] = f"{event.recurring_event_id or event.id}@google.com"
    rendered["sequence"] = event.sequence
    if event.body.get("attendees"):
        rendered["attendees"] = [_attendee(a, owner) for a in event.body["attendees"]]
    rendered.setdefault("reminders", {"useDefault": True})
    rendered.setdefault("eventType", "default")
    return rendered


def _attendee(attendee: dict[str, Any], owner: str) -> dict[str, Any]:
    value = dict(attendee)
    value.setdefault("responseStatus", "needsAction")
    if str(value.get("email", "")).lower() == owner:
        value.setdefault("self", True)
    return value
