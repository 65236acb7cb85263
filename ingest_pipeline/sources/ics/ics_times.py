"""Turning iCalendar date and date-time values into the UTC instants a day is decided by."""

from __future__ import annotations

import datetime as dt
from typing import Any

from icalendar import Component, Event
from icalendar.prop import vBroken
from icalendar.timezone.tzid import tzid_from_dt

Moment = dt.date | dt.datetime


def prop(component: Component, name: str) -> Any:
    """A property's value (or list of values, or None); typed loosely, as icalendar's value
    classes have no common interface."""
    return component.get(name)


def utc_start(value: Moment) -> dt.datetime:
    """The UTC instant a start decides its day by: midnight UTC of a date (all-day), the
    instant of an aware time, and a floating (naive) time read as UTC."""
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(0), tzinfo=dt.UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def in_utc(value: Moment) -> Moment:
    """A date stays a date; a date-time becomes UTC (floating read as UTC)."""
    return value if not isinstance(value, dt.datetime) else utc_start(value)


def recurrence_key(value: Moment) -> str:
    """A recurrence id as written in external ids: a date, or the UTC instant in ISO form."""
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    return utc_start(value).isoformat()


def zone_name(value: Moment) -> str:
    """The TZID a time was written in; empty for dates, UTC and floating times."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        return ""
    key = getattr(value.tzinfo, "key", None)
    name = key if isinstance(key, str) else tzid_from_dt(value)
    return "" if name is None or name.upper() in ("UTC", "Z", "ETC/UTC") else name


def start_problem(event: Event) -> str | None:
    """Why the event's DTSTART cannot place it on a day, or None when it can."""
    if "DTSTART" not in event:
        unread = [message for name, message in event.errors if not name]
        if unread:
            return f"DTSTART is missing; a line could not be read: {unread[0]}"
        return "DTSTART is missing"
    value = prop(event, "DTSTART")
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, vBroken):
        return f"DTSTART {str(value)!r} is not a date or time: {value.parse_error}"
    moment = getattr(value, "dt", None)
    if not isinstance(moment, dt.date):
        raw = value.to_ical()
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        return f"DTSTART {text!r} is not a date or time"
    try:
        utc_start(moment)
    except (OverflowError, ValueError) as exc:
        return f"DTSTART {moment.isoformat()!r} cannot be converted to UTC: {exc}"
    return None


def start_of(event: Event) -> Moment:
    """The DTSTART value of an event that `start_problem` accepted."""
    value = prop(event, "DTSTART")
    moment: Moment = (value[0] if isinstance(value, list) else value).dt
    return moment


def time_zone_defects(event: Event, start: Moment) -> list[str]:
    """What was guessed about the start's time zone, as defects a person can check."""
    value = prop(event, "DTSTART")
    params = (value[0] if isinstance(value, list) else value).params
    tzid = str(params.get("TZID") or "")
    if not isinstance(start, dt.datetime):
        return []
    if start.tzinfo is None:
        if tzid:
            return [f"time zone {tzid!r} is unknown; the times are read as UTC"]
        return ["DTSTART has no time zone (floating time); it is read as UTC"]
    resolved = zone_name(start)
    if tzid.startswith("/") and resolved and resolved != tzid:
        return [f"vendor-prefixed time zone {tzid!r} is read as {resolved!r}"]
    return []
