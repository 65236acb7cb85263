"""Times in the fake Calendar API: RFC 3339 in and out, an event's start or end (`When`), and
the expansion of a recurring event's ``recurrence`` lines (RRULE, EXRULE, RDATE, EXDATE).

A timed event recurs in its start's ``timeZone`` (else the calendar's), so a weekly 10:00
meeting stays at 10:00 local across a DST change; an all-day event recurs by date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

UTC = dt.UTC
_RULE_PREFIXES = ("RRULE:", "EXRULE:", "RDATE", "EXDATE")


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone ``name``, or None if there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_rfc3339(text: str) -> dt.datetime | None:
    """An RFC 3339 timestamp with its mandatory offset (``Z`` or ``+hh:mm``), else None."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def render_instant(instant: dt.datetime, zone: ZoneInfo) -> str:
    """``2024-03-04T10:00:00+01:00`` in ``zone``; UTC as ``...Z``, as Google writes it."""
    text = instant.astimezone(zone).replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def stamp(moment: dt.datetime) -> str:
    """A ``created``/``updated`` value: UTC with milliseconds, ``2024-03-01T12:00:00.000Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class When:
    """An event's ``start`` or ``end``: an instant (timed event) or a date (all-day event)."""

    instant: dt.datetime | None = None
    day: dt.date | None = None
    time_zone: str | None = None

    @classmethod
    def parse(cls, value: Any) -> When:
        """``{"dateTime": RFC 3339, "timeZone"?}`` or ``{"date": "YYYY-MM-DD"}``; ValueError."""
        if not isinstance(value, dict):
            raise ValueError(f"start/end must be an object, not {value!r}")
        time_zone = value.get("timeZone")
        if time_zone is not None and zone_named(time_zone) is None:
            raise ValueError(f"unknown timeZone {time_zone!r}")
        if "dateTime" in value:
            text = str(value["dateTime"])
            instant = parse_rfc3339(text)
            if instant is None and time_zone:  # a local time, read in its timeZone
                instant = dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(time_zone))
            if instant is None:
                raise ValueError(f"dateTime {text!r} needs an offset or a timeZone")
            return cls(instant=instant.astimezone(UTC), time_zone=time_zone)
        if "date" in value:
            return cls(day=dt.date.fromisoformat(str(value["date"])))
        raise ValueError(f"start/end needs dateTime or date: {value!r}")

    def at(self, zone: dt.tzinfo) -> dt.datetime:
        """The instant; an all-day value starts at midnight in the calendar's ``zone``."""
        if self.instant is not None:
            return self.instant
        assert self.day is not None
        return dt.datetime.combine(self.day, dt.time(), zone)

    def render(self, zone: ZoneInfo) -> dict[str, str]:
        if self.day is not None:
            return {"date": self.day.isoformat()}
        assert self.instant is not None
        value = {"dateTime": render_instant(self.instant, zone)}
        if self.time_zone:
            value["timeZone"] = self.time_zone
        return value

    def instance_suffix(self) -> str:
        """What follows ``<eventId>_`` in an instance id: ``20240304T090000Z`` or ``20240304``."""
        if self.day is not None:
            return self.day.strftime("%Y%m%d")
        assert self.instant is not None
        return self.instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def check_span(start: When, end: When) -> None:
    """Both timed or both all-day, and the end after the start (ValueError otherwise)."""
    if (start.day is None) != (end.day is None):
        raise ValueError("start and end must both be dateTime or both be date")
    if start.at(UTC) >= end.at(UTC):
        raise ValueError("an event must end after it starts")


def occurrences(
    start: When, end: When, recurrence: list[str], zone: ZoneInfo
) -> Iterator[tuple[When, When]]:
    """The series' ``(start, end)`` pairs in order; endless for an endless rule."""
    lines = [line.strip() for line in recurrence if line.strip()]
    for line in lines:
        if not line.upper().startswith(_RULE_PREFIXES):
            raise ValueError(f"not a recurrence line: {line!r}")
    text = "\n".join(lines)
    if start.day is not None:
        assert end.day is not None
        days = end.day - start.day
        midnight = dt.datetime.combine(start.day, dt.time())
        for moment in rrulestr(text, dtstart=midnight, forceset=True, unfold=True):
            yield When(day=moment.date()), When(day=moment.date() + days)
        return
    assert start.instant is not None and end.instant is not None
    local = zone_named(start.time_zone) if start.time_zone else zone
    length = end.instant - start.instant
    first = start.instant.astimezone(local or zone)
    for moment in rrulestr(text, dtstart=first, forceset=True, unfold=True):
        instant = moment.astimezone(UTC)
        yield (
            When(instant=instant, time_zone=start.time_zone),
            When(instant=instant + length, time_zone=end.time_zone),
        )
