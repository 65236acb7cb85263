"""One calendar-event occurrence, as the iCalendar source serves it, into a `ParsedEvent`.

The input is a VCALENDAR holding one VEVENT (a bare VEVENT is accepted too): the ICS source
writes DTSTART/DTEND in UTC (DATEs for all-day events), the zone the event was written in as
``X-INGEST-TZID``, what it tolerated as ``X-INGEST-DEFECT`` lines, and ``X-INGEST-BROKEN``
with the reason when it could not place the event at all. Anything else this parser
tolerates is added to ``defects``; an occurrence without a readable start is an
`UnparseableEvent` whose message says what to fix.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from icalendar import Calendar, Component
from icalendar.prop import vBroken

from ingest_pipeline.streams.calendar_events.event_record import (
    EventPerson,
    ParsedEvent,
    UnparseableEvent,
)

PARSER_VERSION = "1"

_STATUSES = {"CONFIRMED": "confirmed", "TENTATIVE": "tentative", "CANCELLED": "cancelled"}
_READ_HERE = {"DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SEQUENCE", "STATUS"}


def parse_occurrence(data: bytes) -> ParsedEvent:
    """The occurrence's fields; raises `UnparseableEvent` when it has no readable start."""
    defects: list[str] = []
    event = _the_event(data, defects)
    broken = _first(event, "X-INGEST-BROKEN", defects)
    if broken is not None:
        raise UnparseableEvent(str(broken))
    defects += [str(value) for value in _all(event, "X-INGEST-DEFECT")]
    start, all_day = _start(event, defects)
    summary = _text(event, "SUMMARY", defects)
    uid = _text(event, "UID", defects)
    if not uid:
        defects.append("UID is missing")
    end = _end(event, start, all_day, defects)
    recurrence_id = _recurrence_id(event, defects)
    status = _status(event, defects)
    description = _text(event, "DESCRIPTION", defects)
    location = _text(event, "LOCATION", defects)
    timezone = _timezone(event, defects)
    organizer = _first(event, "ORGANIZER", defects)
    sequence = _sequence(event, defects)
    defects += [
        f"{name} cannot be read: {message}"
        for name, message in event.errors
        if name and name.upper() not in _READ_HERE
    ]
    defects += [f"line dropped: {message}" for name, message in event.errors if not name]
    return ParsedEvent(
        uid=uid,
        summary=summary,
        start=start,
        end=end,
        all_day=all_day,
        recurrence_id=recurrence_id,
        status=status,
        description=description,
        location=location,
        timezone=timezone,
        organizer=_person(organizer) if organizer is not None else None,
        attendees=tuple(p for p in map(_person, _all(event, "ATTENDEE")) if p is not None),
        sequence=sequence,
        defects=tuple(dict.fromkeys(defects)),
    )


def _the_event(data: bytes, defects: list[str]) -> Component:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        defects.append("the event is not UTF-8; it is read as Latin-1")
    try:
        # icalendar warns when it guesses a time zone; such guesses are not errors here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            components = Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # the library raises many types for malformed input
        raise UnparseableEvent(f"not an iCalendar event: {exc}") from exc
    events = [event for component in components for event in component.walk("VEVENT")]
    if not events:
        raise UnparseableEvent("not an iCalendar event: the data holds no VEVENT")
    if len(events) > 1:
        defects.append(f"{len(events)} VEVENTs in one occurrence; the first is read")
    event: Component = events[0]
    return event


def _all(event: Component, name: str) -> list[Any]:
    value = event.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _first(event: Component, name: str, defects: list[str]) -> Any:
    values = _all(event, name)
    if len(values) > 1:
        defects.append(f"{len(values)} {name} properties; the first is read")
    return values[0] if values else None


def _text(event: Component, name: str, defects: list[str]) -> str:
    value = _first(event, name, defects)
    return "" if value is None else str(value).strip()


def _moment(value: Any, name: str) -> dt.date:
    """The date or date-time of a property, or `UnparseableEvent` saying why there is none."""
    if isinstance(value, vBroken):
        raise UnparseableEvent(f"{name} {str(value)!r} is not a date or time: {value.parse_error}")
    moment = getattr(value, "dt", None)
    if not isinstance(moment, dt.date):
        raw = value.to_ical()
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        raise UnparseableEvent(f"{name} {text!r} is not a date or time")
    return moment


def _utc(moment: dt.date, name: str, defects: list[str]) -> dt.datetime:
    """Midnight UTC of a date; a date-time in UTC (a floating one read as UTC)."""
    if not isinstance(moment, dt.datetime):
        return dt.datetime.combine(moment, dt.time(0), tzinfo=dt.UTC)
    if moment.tzinfo is None:
        defects.append(f"{name} has no time zone (floating time); it is read as UTC")
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _start(event: Component, defects: list[str]) -> tuple[dt.datetime, bool]:
    value = _first(event, "DTSTART", defects)
    if value is None:
        raise UnparseableEvent("DTSTART is missing")
    moment = _moment(value, "DTSTART")
    try:
        return _utc(moment, "DTSTART", defects), not isinstance(moment, dt.datetime)
    except (OverflowError, ValueError) as exc:
        raise UnparseableEvent(f"DTSTART {moment.isoformat()!r} has no UTC time: {exc}") from exc


def _end(
    event: Component, start: dt.datetime, all_day: bool, defects: list[str]
) -> dt.datetime | None:
    """DTEND, else DTSTART + DURATION, else RFC 5545's default (one day, or no length)."""
    end_value = _first(event, "DTEND", defects)
    duration = _first(event, "DURATION", defects)
    try:
        if end_value is not None:
            end = _utc(_moment(end_value, "DTEND"), "DTEND", defects)
        elif duration is not None:
            if isinstance(duration, vBroken):
                raise UnparseableEvent(
                    f"DURATION {str(duration)!r} is not a valid duration: {duration.parse_error}"
                )
            length = getattr(duration, "dt", None)
            if not isinstance(length, dt.timedelta):
                raise UnparseableEvent(f"DURATION {str(duration)!r} is not a duration")
            end = start + length
        else:
            end = start + dt.timedelta(days=1) if all_day else start
    except (UnparseableEvent, OverflowError, ValueError) as exc:
        defects.append(f"{exc}; the end is unknown")
        return None
    if end < start:
        defects.append("the event ends before it starts")
    return end


def _recurrence_id(event: Component, defects: list[str]) -> str | None:
    value = _first(event, "RECURRENCE-ID", defects)
    if value is None:
        return None
    try:
        moment = _moment(value, "RECURRENCE-ID")
        if not isinstance(moment, dt.datetime):
            return moment.isoformat()
        return _utc(moment, "RECURRENCE-ID", defects).isoformat()
    except (UnparseableEvent, OverflowError, ValueError) as exc:
        defects.append(f"{exc}; the occurrence has no recurrence id")
        return None


def _status(event: Component, defects: list[str]) -> str:
    raw = _text(event, "STATUS", defects)
    status = _STATUSES.get(raw.upper())
    if status is None and raw:
        defects.append(f"STATUS {raw!r} is not an event status; it is read as confirmed")
    return status or "confirmed"


def _timezone(event: Component, defects: list[str]) -> str:
    written = _text(event, "X-INGEST-TZID", defects)
    if written or "X-INGEST-TZID" in event:
        return written
    start = _first(event, "DTSTART", defects)
    return str(start.params.get("TZID") or "") if start is not None else ""


def _sequence(event: Component, defects: list[str]) -> int:
    value = _first(event, "SEQUENCE", defects)
    if value is None:
        return 0
    try:
        return int(str(value).strip())
    except ValueError:
        defects.append(f"SEQUENCE {str(value)!r} is not a number; 0 is used")
        return 0


def _param(value: Any, name: str) -> str:
    raw = getattr(value, "params", {}).get(name, "")
    if isinstance(raw, list | tuple):
        raw = ",".join(str(part) for part in raw)
    return str(raw).strip()


def _person(value: Any) -> EventPerson | None:
    """An ORGANIZER or ATTENDEE; None when it has neither an address nor a name."""
    address = str(value).strip()
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:") :]
    email = address.strip().lower()
    name = _param(value, "CN")
    if not email and not name:
        return None
    return EventPerson(
        email=email,
        name=name,
        status=_param(value, "PARTSTAT").lower(),
        role=_param(value, "ROLE").lower(),
    )
