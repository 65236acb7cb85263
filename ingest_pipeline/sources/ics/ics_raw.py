"""The self-contained bytes of one occurrence, and of a broken VEVENT.

An occurrence is written as a VCALENDAR holding one VEVENT whose DTSTART/DTEND are in UTC
(or DATEs for all-day events), with the zone it was written in kept as ``X-INGEST-TZID``,
what was tolerated as ``X-INGEST-DEFECT`` lines, and no recurrence rules: the parser needs
nothing else. Properties are sorted and DTSTAMP (the export time, new on every export) is
left out, so the same event always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from icalendar import Calendar, Event
from icalendar.prop import vBroken

from ingest_pipeline.sources.ics.ics_files import insert_after_first_line
from ingest_pipeline.sources.ics.ics_times import Moment, in_utc

TZID_PROPERTY = "X-INGEST-TZID"
DEFECT_PROPERTY = "X-INGEST-DEFECT"
BROKEN_PROPERTY = "X-INGEST-BROKEN"
PART_PROPERTY = "X-INGEST-PART"
PRODID = "-//ingest_pipeline//ics source//EN"

_REPLACED = (
    "DTSTART",
    "DTEND",
    "DURATION",
    "RRULE",
    "RDATE",
    "EXDATE",
    "EXRULE",
    "RECURRENCE-ID",
    "DTSTAMP",
    TZID_PROPERTY,
    DEFECT_PROPERTY,
    BROKEN_PROPERTY,
    PART_PROPERTY,
)


@dataclass(frozen=True)
class OccurrenceTimes:
    """When one occurrence happens: its start, end (None when unknown) and original start."""

    start: Moment
    end: Moment | None
    recurrence_id: Moment | None
    tzid: str


def broken_end(event: Event) -> list[tuple[str, object]]:
    """The event's DTEND/DURATION properties that cannot be read, to keep them as written."""
    kept = []
    for name in ("DTEND", "DURATION"):
        value = event.get(name)
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, vBroken) for v in values):
            kept.append((name, value))
    return kept


def occurrence_bytes(source: Event, times: OccurrenceTimes, defects: Sequence[str]) -> bytes:
    """A VCALENDAR with the one occurrence of ``source`` described by ``times``."""
    event = Event()
    for name, value in source.items():
        if name.upper() not in _REPLACED:
            event[name] = value
    event.add("DTSTART", in_utc(times.start))
    unreadable_end = broken_end(source)
    if unreadable_end:
        for name, value in unreadable_end:
            event[name] = value
    elif times.end is not None:
        event.add("DTEND", in_utc(times.end))
    if times.recurrence_id is not None:
        event.add("RECURRENCE-ID", in_utc(times.recurrence_id))
    if times.tzid:
        event.add(TZID_PROPERTY, times.tzid)
    for defect in dict.fromkeys(_one_line(defect) for defect in defects):
        event.add(DEFECT_PROPERTY, defect)
    event.subcomponents = list(source.subcomponents)
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def broken_bytes(text: str, reason: str) -> bytes:
    """The broken VEVENT's own text, with the reason the source could not place it."""
    line = f"{BROKEN_PROPERTY}:{_one_line(reason)}"
    return insert_after_first_line(text, line).encode("utf-8", errors="replace")


def _one_line(text: str) -> str:
    """The text on one line: X- properties are read back verbatim, without unescaping."""
    return " ".join(text.split())
