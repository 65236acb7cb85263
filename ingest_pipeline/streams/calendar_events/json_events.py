"""Google Calendar ``Event`` resources (as ``events.list`` with ``singleEvents=true`` hands
them out) read into the same `ParsedEvent` as an iCalendar occurrence.

Timed events carry an RFC 3339 ``dateTime`` with an offset and become UTC; all-day events
carry a ``date`` and start at UTC midnight of it, as the iCalendar parser does. An instance
of a recurring event keeps its ``originalStartTime`` as ``recurrence_id``, so a moved
instance stays one occurrence. A cancelled instance may come as ``id``, ``status`` and
``originalStartTime`` only: it reads as a cancelled occurrence at its original start; a
cancelled one-off event may come as its id alone, and is placed at ``listedStart``, the
moment the source's listing placed it.
"""

from __future__ import annotations

import datetime as dt
import json

from ingest_pipeline.streams.calendar_events.event_record import (
    EventPerson,
    ParsedEvent,
    UnparseableEvent,
)

_STATUSES = {"confirmed": "confirmed", "tentative": "tentative", "cancelled": "cancelled"}
_RESPONSES = {
    "needsAction": "needs-action",
    "declined": "declined",
    "tentative": "tentative",
    "accepted": "accepted",
}


def is_json_event(data: bytes) -> bool:
    """Whether ``data`` is a JSON object (a provider's event) rather than iCalendar text."""
    return data.lstrip()[:1] == b"{"


def parse_json_event(data: bytes) -> ParsedEvent:
    """The occurrence a Google Calendar event describes; `UnparseableEvent` with the reason
    when it is not JSON or has no readable start."""
    try:
        event = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnparseableEvent(f"event is not valid JSON: {exc}") from exc
    if not isinstance(event, dict) or not event.get("id"):
        raise UnparseableEvent("event JSON is not a Google Calendar event (no id)")
    defects: list[str] = []
    status = _STATUSES.get(str(event.get("status") or "confirmed"), "confirmed")
    original = _when(event.get("originalStartTime"), "originalStartTime", defects)
    start = _when(event.get("start"), "start", defects) or original
    if start is None and status == "cancelled" and event.get("listedStart"):
        # Google may hand a deleted event out as its id alone: keep it, marked, on the day
        # the listing reported it.
        defects.append("cancelled event came without its start; placed on its listed day")
        start = _when({"dateTime": event["listedStart"]}, "listedStart", defects)
    if start is None:
        raise UnparseableEvent(f"event {event['id']} has no readable start")
    moment, all_day = start
    end_at = _when(event.get("end"), "end", defects)
    return ParsedEvent(
        uid=str(event.get("iCalUID") or event.get("recurringEventId") or event["id"]),
        summary=str(event.get("summary") or ""),
        start=moment,
        end=end_at[0] if end_at else None,
        all_day=all_day,
        recurrence_id=_recurrence_id(original),
        status=status,
        description=str(event.get("description") or ""),
        location=str(event.get("location") or ""),
        timezone=str((event.get("start") or {}).get("timeZone") or ""),
        organizer=_person(event.get("organizer"), role="organizer"),
        attendees=tuple(
            person
            for attendee in event.get("attendees") or []
            if (person := _person(attendee, role="attendee")) is not None
        ),
        sequence=int(event.get("sequence") or 0),
        defects=tuple(defects),
    )


def _when(value: object, name: str, defects: list[str]) -> tuple[dt.datetime, bool] | None:
    """A start or end: UTC for ``dateTime``, UTC midnight (all day) for ``date``."""
    if not isinstance(value, dict):
        return None
    try:
        if value.get("dateTime"):
            moment = dt.datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                defects.append(f"{name} has no UTC offset; read as UTC")
                moment = moment.replace(tzinfo=dt.UTC)
            return moment.astimezone(dt.UTC), False
        if value.get("date"):
            day = dt.date.fromisoformat(str(value["date"]))
            return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC), True
    except ValueError as exc:
        defects.append(f"{name} cannot be read: {exc}")
    return None


def _recurrence_id(original: tuple[dt.datetime, bool] | None) -> str | None:
    if original is None:
        return None
    moment, all_day = original
    return moment.date().isoformat() if all_day else moment.isoformat()


def _person(value: object, *, role: str) -> EventPerson | None:
    """The organizer or an attendee, with iCalendar's ROLE names (``req-participant``,
    ``opt-participant``; the organizer has none) and PARTSTAT values."""
    if not isinstance(value, dict) or not value.get("email"):
        return None
    if role == "organizer":
        kind = ""
    else:
        kind = "opt-participant" if value.get("optional") else "req-participant"
    return EventPerson(
        email=str(value["email"]).strip().lower(),
        name=str(value.get("displayName") or ""),
        status=_RESPONSES.get(str(value.get("responseStatus") or ""), ""),
        role=kind,
    )
