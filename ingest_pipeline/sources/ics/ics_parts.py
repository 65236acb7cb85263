"""The VEVENTs of a series as the expansion sees them, and what is read off one VEVENT."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from icalendar import Event
from icalendar.prop import vBroken

from ingest_pipeline.sources.ics.ics_raw import PART_PROPERTY, broken_end
from ingest_pipeline.sources.ics.ics_times import Moment, prop, start_of, utc_start

RECURRENCE = ("RRULE", "RDATE", "EXDATE", "EXRULE")
_CLEANED = (*RECURRENCE, "DTEND", "DURATION", "SEQUENCE")


@dataclass
class Part:
    """One VEVENT of the series, as `recurring_ical_events` sees it, with what it tolerated."""

    event: Event
    tzid_param: str
    defects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Single:
    """A VEVENT taken as one occurrence at its own DTSTART (its bytes are made on demand)."""

    part: Part
    start: Moment
    start_utc: dt.datetime
    end: Moment | None
    recurrence_id: Moment | None
    defects: list[str]


def marked(event: Event, index: int) -> Event:
    """A copy tagged with its index, so an expanded occurrence names the VEVENT it came from."""
    copy = event.copy()
    copy.subcomponents = list(event.subcomponents)
    copy[PART_PROPERTY] = str(index)
    return copy


def cleaned(part: Part) -> tuple[Event, list[str]]:
    """A copy without unreadable recurrence/end/sequence values, and what was dropped."""
    copy = part.event.copy()
    copy.subcomponents = list(part.event.subcomponents)
    dropped: list[str] = []
    for name in _CLEANED:
        value = copy.get(name)
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if isinstance(v, vBroken)]
        if not bad:
            continue
        good = [v for v in values if not isinstance(v, vBroken)]
        copy.pop(name)
        if good:
            copy[name] = good if len(good) > 1 else good[0]
        if name in RECURRENCE:
            dropped += [f"{name} {str(v)!r} is ignored: {v.parse_error}" for v in bad]
    return copy, dropped


def original_start(source: Event, start: Moment) -> Moment:
    """The original start of an occurrence: RECURRENCE-ID for a moved one, shifted like the
    occurrence for one that a THISANDFUTURE change moved, else the start itself."""
    if "RECURRENCE-ID" not in source:
        return start
    value = prop(source, "RECURRENCE-ID")
    moved_from: Moment = value.dt
    own_start = start_of(source)
    if start == own_start or value.params.get("RANGE", "").upper() != "THISANDFUTURE":
        return moved_from
    try:
        return start - (utc_start(own_start) - utc_start(moved_from))
    except TypeError:
        return start


def single_end(event: Event, start: Moment) -> Moment | None:
    """The end of a VEVENT on its own: DTEND, DTSTART + DURATION, or RFC 5545's default;
    None when the written end cannot be read."""
    if broken_end(event):
        return None
    end_value = _first(prop(event, "DTEND"))
    if end_value is not None:
        end = getattr(end_value, "dt", None)
        return end if isinstance(end, dt.date) else None
    duration_value = _first(prop(event, "DURATION"))
    if duration_value is not None:
        length = getattr(duration_value, "dt", None)
        return start + length if isinstance(length, dt.timedelta) else None
    if isinstance(start, dt.datetime):
        return start
    return start + dt.timedelta(days=1)


def _first(value: Any) -> Any:
    """The first of repeated properties (a second DTEND is an error the parser reports)."""
    return value[0] if isinstance(value, list) and value else value
