"""One event series (a VEVENT, its RRULE/RDATE/EXDATE, and its moved occurrences) expanded
into occurrences, degrading step by step instead of failing.

1. `recurring_ical_events` over the series as written.
2. The same, without the recurrence, end and sequence properties that cannot be read (the
   occurrences say what was ignored).
3. Each VEVENT as one occurrence at its own DTSTART, when the recurrence cannot be expanded
   at all (the occurrence says so).

Each series is expanded alone, so a bad series never stops the others of its calendar.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar, Event
from icalendar.prop import vBroken

from ingest_pipeline.sources.ics.ics_parts import (
    RECURRENCE,
    Part,
    Single,
    cleaned,
    marked,
    original_start,
    single_end,
)
from ingest_pipeline.sources.ics.ics_raw import (
    PART_PROPERTY,
    OccurrenceTimes,
    broken_end,
    occurrence_bytes,
)
from ingest_pipeline.sources.ics.ics_times import (
    Moment,
    prop,
    start_of,
    time_zone_defects,
    utc_start,
    zone_name,
)

_MARGIN = dt.timedelta(days=2)
_FIRST_OCCURRENCES_SCANNED = 100


class SeriesExpansionError(Exception):
    """The recurrence could not be expanded for a span it had been expanded around before."""


@dataclass(frozen=True)
class Occurrence:
    """One occurrence: its original start (None when the event does not recur), its start
    in UTC (midnight UTC of the date when all-day) and its self-contained bytes."""

    recurrence_id: Moment | None
    start: dt.datetime
    data: bytes


class EventSeries:
    """The VEVENTs of one UID in one calendar (its first VEVENT without RECURRENCE-ID plus
    the moved ones); ``uid`` is the UID written in the file."""

    def __init__(
        self, uid: str, events: list[Event], *, wr_timezone: str | None, defects: list[str]
    ) -> None:
        self.uid = uid
        self.defects = list(defects)
        converted = self._apply_wr_timezone(events, wr_timezone)
        self.parts = [
            Part(
                event=marked(event, index),
                tzid_param=str(prop(event, "DTSTART").params.get("TZID") or ""),
                defects=[f"line dropped: {message}" for name, message in event.errors if not name],
            )
            for index, event in enumerate(converted)
        ]
        self.recurring = any(
            name in part.event
            for part in self.parts
            for name in ("RRULE", "RDATE", "RECURRENCE-ID")
        )
        self._query: recurring_ical_events.CalendarQuery | None = None
        self._singles: list[Single] = []
        self.first_starts: list[dt.datetime] = []
        self._expand_with_fallbacks()

    def _apply_wr_timezone(self, events: list[Event], zone: str | None) -> list[Event]:
        if not zone:
            return events
        calendar = Calendar()
        calendar.subcomponents = list(events)
        try:
            converted = x_wr_timezone.to_standard(calendar, timezone=zone)
        except Exception as exc:  # an unknown zone name must not lose events
            self.defects.append(f"X-WR-TIMEZONE {zone!r} is not applied: {exc}")
            return events
        return [e for e in converted.subcomponents if isinstance(e, Event)]

    def _expand_with_fallbacks(self) -> None:
        if len(self.parts) == 1 and not any(name in self.parts[0].event for name in RECURRENCE):
            # Nothing to expand: the one occurrence is the VEVENT itself.
            self._use_singles(None)
            return
        try:
            self._use_query([part.event for part in self.parts], [])
            return
        except Exception as exc:  # the next step tolerates more
            error = exc
        repaired = [cleaned(part) for part in self.parts]
        dropped = [text for _, texts in repaired for text in texts]
        if dropped or any(broken_end(part.event) for part in self.parts):
            try:
                self._use_query([event for event, _ in repaired], dropped)
                return
            except Exception as exc:  # one occurrence per VEVENT is left
                error = exc
        self._use_singles(f"{type(error).__name__}: {error}")

    def _use_query(self, events: list[Event], dropped: list[str]) -> None:
        calendar = Calendar()
        calendar.subcomponents = list(events)
        query = recurring_ical_events.of(calendar)
        earliest = min(utc_start(start_of(event)) for event in events)
        seen: dict[int, dt.datetime] = {}
        try:
            after = earliest - _MARGIN
        except OverflowError:
            after = earliest
        scanned = itertools.islice(query.after(after), _FIRST_OCCURRENCES_SCANNED)
        for component in scanned:
            seen.setdefault(
                int(str(prop(component, PART_PROPERTY))), utc_start(start_of(component))
            )
            if len(seen) == len(events):
                break
        self._query = query
        self.defects += dropped
        self.first_starts = [
            seen.get(index, utc_start(start_of(part.event)))
            for index, part in enumerate(self.parts)
        ]

    def _use_singles(self, error: str | None) -> None:
        """Each VEVENT as one occurrence at its DTSTART; ``error`` says why the recurrence
        could not be expanded (None when there is none)."""
        for part in self.parts:
            event = part.event
            start = start_of(event)
            end = single_end(event, start)
            recurrence_id: Moment | None = None
            original = prop(event, "RECURRENCE-ID")
            if original is not None and not isinstance(original, vBroken):
                recurrence_id = original.dt
            elif self.recurring:
                recurrence_id = start
            defects = list(part.defects)
            if error and any(name in event for name in RECURRENCE):
                defects.append(
                    f"the recurrence cannot be expanded ({error}); "
                    "only the occurrence at DTSTART is imported"
                )
            elif error:
                defects.append(f"the event cannot be expanded ({error}); DTSTART is used")
            self._singles.append(Single(part, start, utc_start(start), end, recurrence_id, defects))
        self.first_starts = [single.start_utc for single in self._singles]

    def between(self, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
        """The occurrences starting in ``[start, end)`` (UTC)."""
        if self._query is None:
            return [
                self._occurrence(s.part, s.start, s.end, s.recurrence_id, s.defects)
                for s in self._singles
                if start <= s.start_utc < end
            ]
        try:
            components = self._query.between(start - _MARGIN, end + _MARGIN)
            found = [self._from_component(c) for c in components]
        except Exception as exc:  # reported as a broken item for this span
            raise SeriesExpansionError(f"{type(exc).__name__}: {exc}") from exc
        return [o for o in found if start <= o.start < end]

    def _from_component(self, component: Event) -> Occurrence:
        part = self.parts[int(str(prop(component, PART_PROPERTY)))]
        start = start_of(component)
        end = prop(component, "DTEND").dt if "DTEND" in component else None
        recurrence_id: Moment | None = None
        if self.recurring:
            recurrence_id = original_start(part.event, start)
        return self._occurrence(part, start, end, recurrence_id, part.defects)

    def _occurrence(
        self,
        part: Part,
        start: Moment,
        end: Moment | None,
        recurrence_id: Moment | None,
        defects: list[str],
    ) -> Occurrence:
        tzid = zone_name(start) or (part.tzid_param if isinstance(start, dt.datetime) else "")
        times = OccurrenceTimes(start=start, end=end, recurrence_id=recurrence_id, tzid=tzid)
        all_defects = [*self.defects, *defects, *time_zone_defects(part.event, start)]
        data = occurrence_bytes(part.event, times, all_defects)
        return Occurrence(recurrence_id=recurrence_id, start=utc_start(start), data=data)

    def occurrences_in_days(self, start: dt.date, end: dt.date) -> Iterator[dt.date]:
        """The UTC start days in ``[start, end]`` of this series' occurrences."""
        first = dt.datetime.combine(start, dt.time(0), tzinfo=dt.UTC)
        last = dt.datetime.combine(end, dt.time(0), tzinfo=dt.UTC) + dt.timedelta(days=1)
        for occurrence in self.between(first, last):
            yield occurrence.start.date()
