"""``calendar.events.list`` over one stored calendar: windows, expansion, filters, sync.

- ``timeMin`` is an exclusive bound on an event's end, ``timeMax`` an exclusive bound on its
  start: an event is listed when ``start < timeMax`` and ``end > timeMin``; all-day events
  span midnight to midnight in the calendar's time zone.
- ``singleEvents=true`` lists instances of recurring events (and their exceptions) instead
  of the series; ``orderBy=startTime`` needs it.
- Cancelled events are left out unless ``showDeleted=true``; with ``singleEvents=false``
  cancelled exceptions of a series are listed anyway, as Google documents.
- ``syncToken`` lists everything changed since (cancelled included) and cannot be combined
  with the filters in `SYNC_EXCLUSIVE`; an unknown or expired token is 410 fullSyncRequired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from ingest_pipeline_tests.fakes.google_calendar_model import (
    StoredCalendar,
    StoredEvent,
    render_event,
)
from ingest_pipeline_tests.fakes.google_calendar_time import parse_rfc3339, zone_named
from ingest_pipeline_tests.fakes.google_errors import calendar_error, full_sync_required
from ingest_pipeline_tests.fakes.google_sync import (
    PageTokenError,
    Params,
    Snapshot,
    SyncPoint,
    SyncState,
    fingerprint,
    first,
    flag,
)

SYNC_EXCLUSIVE = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
# A listing filtered by these cannot seed an incremental sync: it gets no nextSyncToken.
NO_SYNC_TOKEN = tuple(name for name in SYNC_EXCLUSIVE if not name.startswith("time"))


@dataclass(frozen=True)
class _Query:
    single: bool
    show_deleted: bool
    time_min: dt.datetime | None
    time_max: dt.datetime | None
    updated_min: dt.datetime | None
    order: str
    ical_uid: str
    terms: tuple[str, ...]


def max_results(params: Params, *, default: int, cap: int) -> int:
    """``maxResults``: at least 1 (else 400); larger values are cut to ``cap``."""
    text = first(params, "maxResults")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        message = f"Invalid value '{text}'. Values must be within the range: [1, {cap}]"
        raise calendar_error(400, "invalid", message, location="maxResults")
    return min(value, cap)


def list_events(
    calendar: StoredCalendar, owner: str, params: Params, sync: SyncState, change: int
) -> dict[str, Any]:
    """``GET calendars/{calendarId}/events``; ``change`` is the account's latest change."""
    size = max_results(params, default=250, cap=2500)
    zone = calendar.zone
    if name := first(params, "timeZone"):
        zone = zone_named(name) or _bad("timeZone", f"Invalid time zone definition: {name}")
    kind = f"events:{calendar.id}"
    if token := first(params, "pageToken"):
        try:
            number, offset = sync.resume(token, kind, owner)
        except PageTokenError:
            raise calendar_error(400, "invalid", "Invalid Value", location="pageToken") from None
    else:
        number, offset = sync.open(_snapshot(calendar, owner, params, sync, change, zone)), 0
    page, next_page, next_sync = sync.page(number, offset, size)
    body: dict[str, Any] = {
        "kind": "calendar#events",
        "etag": f'"p{change}"',
        "summary": calendar.summary,
        "updated": calendar.updated,
        "timeZone": calendar.time_zone,
        "accessRole": "owner",
        "defaultReminders": [],
    }
    if next_page:
        body["nextPageToken"] = next_page
    if next_sync:
        body["nextSyncToken"] = next_sync
    body["items"] = page
    return body


def _snapshot(
    calendar: StoredCalendar,
    owner: str,
    params: Params,
    sync: SyncState,
    change: int,
    zone: ZoneInfo,
) -> Snapshot:
    single = flag(params, "singleEvents")
    if sync_token := first(params, "syncToken"):
        for name in SYNC_EXCLUSIVE:
            if name in params:
                _bad(name, f"The syncToken parameter cannot be combined with {name}.")
        if "showDeleted" in params and not flag(params, "showDeleted"):
            _bad("showDeleted", "showDeleted cannot be false together with a syncToken.")
        since = sync.read_sync_token(sync_token, "events", owner, calendar.id)
        if since is None:
            raise full_sync_required()
        entries = _changes(calendar, since, single)
    else:
        entries = _window(calendar, _query(params, single), zone)
    items = [render_event(event, calendar, owner, zone) for event in entries]
    point = None
    if not any(name in params for name in NO_SYNC_TOKEN):
        point = SyncPoint("events", change, calendar.id)
    return Snapshot(owner, f"events:{calendar.id}", fingerprint(params), items, point)


def _bad(location: str, message: str) -> NoReturn:
    raise calendar_error(400, "invalid", message, location=location)


def _time(params: Params, name: str) -> dt.datetime | None:
    text = first(params, name)
    if not text:
        return None
    value = parse_rfc3339(text)
    if value is None:
        raise calendar_error(400, "badRequest", "Bad Request", location=name)
    return value


def _query(params: Params, single: bool) -> _Query:
    order = first(params, "orderBy")
    if order not in ("", "startTime", "updated"):
        _bad("orderBy", f"Invalid value for orderBy: {order}")
    if order == "startTime" and not single:
        message = "The requested ordering is not available for the particular query."
        raise calendar_error(400, "badRequest", message)
    time_min, time_max = _time(params, "timeMin"), _time(params, "timeMax")
    if time_min and time_max and time_max <= time_min:
        message = "The specified time range is empty."
        raise calendar_error(400, "timeRangeEmpty", message, location="timeMax")
    updated_min = _time(params, "updatedMin")
    return _Query(
        single=single,
        # With updatedMin, events deleted since are always listed.
        show_deleted=flag(params, "showDeleted") or updated_min is not None,
        time_min=time_min,
        time_max=time_max,
        updated_min=updated_min,
        order=order,
        ical_uid=first(params, "iCalUID"),
        terms=tuple(first(params, "q").casefold().split()),
    )


def _effective(event: StoredEvent, calendar: StoredCalendar) -> StoredEvent:
    """An exception of a cancelled series is cancelled too."""
    parent = calendar.events.get(event.recurring_event_id or "")
    if parent is not None and parent.cancelled and not event.cancelled:
        return replace(event, status="cancelled")
    return event


def _changes(calendar: StoredCalendar, since: int, single: bool) -> list[StoredEvent]:
    """Everything changed after ``since``; with singleEvents a changed series as instances."""
    changed: dict[str, StoredEvent] = {}
    for event in sorted(calendar.events.values(), key=lambda e: (e.changed_at, e.id)):
        if event.changed_at <= since:
            continue
        if single and event.recurrence:
            for instance in [*calendar.series(event), *calendar.exceptions(event)]:
                changed[instance.id] = _effective(instance, calendar)
        else:
            changed[event.id] = _effective(event, calendar) if single else event
    return list(changed.values())


def _window(calendar: StoredCalendar, query: _Query, zone: ZoneInfo) -> list[StoredEvent]:
    def overlaps(event: StoredEvent) -> bool:
        return (query.time_max is None or event.start.at(zone) < query.time_max) and (
            query.time_min is None or event.end.at(zone) > query.time_min
        )

    def visible(event: StoredEvent) -> bool:
        return query.show_deleted or not event.cancelled

    found: list[StoredEvent] = []
    for event in calendar.events.values():
        if event.recurring_event_id is not None:  # an exception of a series
            shown = _effective(event, calendar)
            if overlaps(shown) and (visible(shown) or not query.single):
                found.append(shown)
        elif event.recurrence and query.single:
            found += [
                i for i in calendar.series(event, query.time_max) if overlaps(i) and visible(i)
            ]
        elif event.recurrence:
            if visible(event) and any(overlaps(i) for i in calendar.series(event, query.time_max)):
                found.append(event)
        elif visible(event) and overlaps(event):
            found.append(event)
    found = [event for event in found if _matches(event, query, calendar)]
    if query.order == "updated":
        return sorted(found, key=lambda e: (e.changed_at, e.id))
    return sorted(found, key=lambda e: (e.start.at(zone), e.id))


def _matches(event: StoredEvent, query: _Query, calendar: StoredCalendar) -> bool:
    if query.ical_uid and f"{event.recurring_event_id or event.id}@google.com" != query.ical_uid:
        return False
    if query.updated_min is not None:
        updated = parse_rfc3339(event.updated)
        if updated is None or updated < query.updated_min:
            return False
    if query.terms:
        body = event.body
        people = [*(body.get("attendees") or []), body.get("organizer") or {}]
        texts = [str(body.get(k, "")) for k in ("summary", "description", "location")]
        texts += [str(p.get(k, "")) for p in people for k in ("email", "displayName")]
        haystack = " ".join(texts).casefold()
        return all(term in haystack for term in query.terms)
    return True
