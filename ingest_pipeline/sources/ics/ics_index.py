"""Everything a set of ``.ics`` files holds, as series and broken items with stable ids.

External ids are ``<UID>|<recurrence id>`` (``single`` for an event that does not recur)
and ``broken:<hash of the VEVENT text>`` for what cannot be placed by its start. A UID used
by several series (two files, two calendars, or two VEVENTs without RECURRENCE-ID) gets
``#2``, ``#3``... in file order, so no event is hidden behind another one's id.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from icalendar import Event

from ingest_pipeline.domain import ItemRef, Page, Window, sha256_hex
from ingest_pipeline.sources.ics.ics_calendar import (
    BrokenBlock,
    CalendarEvents,
    event_text,
    read_calendar_text,
    text_hash,
)
from ingest_pipeline.sources.ics.ics_files import FileStamp, decode_calendar
from ingest_pipeline.sources.ics.ics_raw import PART_PROPERTY, broken_bytes
from ingest_pipeline.sources.ics.ics_series import EventSeries
from ingest_pipeline.sources.ics.ics_times import prop, recurrence_key, start_problem


@dataclass(frozen=True)
class Listed:
    """One item of a day's listing: its id, the instant that puts it on the day, its bytes."""

    external_id: str
    received_at: dt.datetime
    data: bytes


def listed_pages(
    items: Sequence[Listed], cursor: str | None, page_size: int
) -> Iterator[Page[ItemRef]]:
    """Pages of a day's listed items, resuming after ``cursor`` (the number already listed);
    an item's version is the hash of its bytes."""
    offset = int(cursor) if cursor else 0
    while offset < len(items):
        chunk = items[offset : offset + page_size]
        offset += len(chunk)
        refs = [
            ItemRef(item.external_id, received_at=item.received_at, version=sha256_hex(item.data))
            for item in chunk
        ]
        yield Page(items=refs, cursor=str(offset))


def window_of(ref: ItemRef) -> Window | None:
    """The UTC day an occurrence was listed on (its start), None when it has none."""
    if ref.received_at is None:
        return None
    moment = ref.received_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return Window.for_day(moment.astimezone(dt.UTC).date())


@dataclass
class FileEvents:
    """One file's series and broken VEVENTs, valid while its stamp is unchanged."""

    stamp: FileStamp
    series: list[EventSeries]
    broken: list[BrokenBlock]


def load_file(path: Path, stamp: FileStamp) -> FileEvents:
    """Read one file (OSError propagates: the file could not be read at all)."""
    return load_bytes(path.read_bytes(), stamp)


def load_bytes(data: bytes, stamp: FileStamp) -> FileEvents:
    """Read one calendar's bytes (a file, or a CalDAV object resource); ``stamp`` dates
    what cannot be placed by its start."""
    text, file_defects = decode_calendar(data)
    read = read_calendar_text(text)
    series: list[EventSeries] = []
    broken = list(read.broken)
    for calendar in read.calendars:
        found, unplaced = _series_of(calendar, list(file_defects))
        series += found
        broken += unplaced
    return FileEvents(stamp=stamp, series=series, broken=broken)


def _uid_of(event: Event) -> str:
    value = event.get("UID")
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).strip() if value is not None else ""


def _series_of(
    calendar: CalendarEvents, defects: list[str]
) -> tuple[list[EventSeries], list[BrokenBlock]]:
    """Group a calendar's placeable VEVENTs by UID; list the others as broken."""
    groups: dict[str, list[Event]] = {}
    broken: list[BrokenBlock] = []
    for event in calendar.events:
        problem = start_problem(event)
        if problem:
            broken.append(BrokenBlock(text=event_text(event), reason=problem))
            continue
        uid = _uid_of(event)
        if not uid:
            uid = f"nouid-{text_hash(event_text(event))[:24]}"
            event = _copy(event)
            event["UID"] = uid
        starts = prop(event, "DTSTART")
        if isinstance(starts, list):
            event = _copy(event)
            event["DTSTART"] = starts[0]
        groups.setdefault(uid, []).append(event)
    series: list[EventSeries] = []
    for uid, events in groups.items():
        for members in _split_masters(events):
            try:
                series.append(
                    EventSeries(
                        uid,
                        members,
                        wr_timezone=calendar.wr_timezone,
                        defects=[*defects, *calendar.defects],
                    )
                )
            except Exception as exc:  # one bad series never stops the file
                reason = f"cannot expand the event: {type(exc).__name__}: {exc}"
                broken += [BrokenBlock(text=event_text(e), reason=reason) for e in members]
    return series, broken


def _copy(event: Event) -> Event:
    copy = event.copy()
    copy.subcomponents = list(event.subcomponents)
    return copy


def _split_masters(events: list[Event]) -> list[list[Event]]:
    """The first VEVENT without RECURRENCE-ID with the moved occurrences; every further one
    alone (two events sharing a UID by mistake both stay)."""
    masters = [e for e in events if "RECURRENCE-ID" not in e]
    moved = [e for e in events if "RECURRENCE-ID" in e]
    if not masters:
        return [moved]
    return [[masters[0], *moved], *([m] for m in masters[1:])]


class CalendarIndex:
    """The series and broken items of all files, with their ids."""

    def __init__(self, files: list[FileEvents]) -> None:
        uses: Counter[str] = Counter()
        self.series: list[tuple[str, EventSeries]] = []
        self.broken: dict[str, Listed] = {}
        for file in files:
            for series in file.series:
                uses[series.uid] += 1
                prefix = series.uid if uses[series.uid] == 1 else f"{series.uid}#{uses[series.uid]}"
                self.series.append((prefix, series))
            for block in file.broken:
                base = f"broken:{text_hash(block.text)}"
                uses[base] += 1
                external_id = base if uses[base] == 1 else f"{base}#{uses[base]}"
                data = broken_bytes(block.text, block.reason)
                self.broken[external_id] = Listed(external_id, file.stamp.modified_at, data)

    def listing(self, window: Window) -> list[Listed]:
        """Every occurrence and broken item of ``window``, by start then id; a repeated id
        gets ``#2``, ``#3``... so nothing is lost."""
        items: list[Listed] = [b for b in self.broken.values() if window.contains(b.received_at)]
        for prefix, series in self.series:
            try:
                occurrences = series.between(window.start, window.end)
            except Exception as exc:  # this span of the series fails alone
                items.append(_unexpandable(series, window, exc))
                continue
            for occurrence in occurrences:
                rid = occurrence.recurrence_id
                key = "single" if rid is None else recurrence_key(rid)
                items.append(Listed(f"{prefix}|{key}", occurrence.start, occurrence.data))
        items.sort(key=lambda item: (item.received_at, item.external_id))
        seen: Counter[str] = Counter()
        unique: list[Listed] = []
        for item in items:
            seen[item.external_id] += 1
            if seen[item.external_id] > 1:
                item = replace(item, external_id=f"{item.external_id}#{seen[item.external_id]}")
            unique.append(item)
        return unique

    def days(self, start: dt.date, end: dt.date) -> set[dt.date]:
        """The UTC days in ``[start, end]`` that have at least one item."""
        days = {b.received_at.date() for b in self.broken.values()}
        days = {d for d in days if start <= d <= end}
        for _, series in self.series:
            try:
                days.update(series.occurrences_in_days(start, end))
            except Exception:  # day by day: a failing day lists a broken item
                days.update(_days_one_by_one(series, start, end))
        return days

    def first_days(self) -> set[dt.date]:
        """The UTC start day of every VEVENT's first occurrence, and of each broken item."""
        days = {b.received_at.date() for b in self.broken.values()}
        for _, series in self.series:
            days.update(start.date() for start in series.first_starts)
        return days


def _days_one_by_one(series: EventSeries, start: dt.date, end: dt.date) -> set[dt.date]:
    days: set[dt.date] = set()
    day = start
    while day <= end:
        window = Window.for_day(day)
        try:
            if series.between(window.start, window.end):
                days.add(day)
        except Exception:  # the day lists the series as broken
            days.add(day)
        day += dt.timedelta(days=1)
    return days


def _unexpandable(series: EventSeries, window: Window, exc: Exception) -> Listed:
    """A broken item standing for a series whose recurrence fails on this day only."""
    texts = []
    for part in series.parts:
        event = _copy(part.event)
        event.pop(PART_PROPERTY, None)
        texts.append(event_text(event))
    day = window.start.date().isoformat()
    reason = f"the recurrences of event {series.uid!r} on {day} cannot be expanded: {exc}"
    data = broken_bytes(texts[0], reason)
    return Listed(f"broken:{text_hash(''.join(texts))}@{day}", window.start, data)
