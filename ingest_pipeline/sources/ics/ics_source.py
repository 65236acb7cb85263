"""iCalendar files as a source of calendar-event occurrences: one ``.ics`` file, or a
folder of them (recursive).

Each occurrence of an event is one item, on the UTC day it starts (an all-day event on its
own date). Recurring events are expanded with ``recurring_ical_events`` (RRULE, RDATE,
EXDATE, moved occurrences), Google's X-WR-TIMEZONE is honoured, and each occurrence is
served as a self-contained VCALENDAR (see `ics_raw`), so its version is the hash of its
bytes and changes only when the event does. A VEVENT that cannot be read, or has no
readable start, is listed on the day of its file's modification time as
``broken:<hash>`` and fails in the parse step with its reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window
from ingest_pipeline.sources.base import SourceError, SourceLimits
from ingest_pipeline.sources.ics.ics_files import (
    FileStamp,
    calendar_files,
    decode_calendar,
    has_vcalendar,
)
from ingest_pipeline.sources.ics.ics_index import (
    CalendarIndex,
    FileEvents,
    Listed,
    listed_pages,
    load_file,
    window_of,
)

PAGE_SIZE = 200
_LISTINGS_KEPT = 16


class IcsSource:
    """Reads calendar events from an ``.ics`` file or a folder of ``.ics`` files."""

    streams = frozenset({"calendar_events"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._files: dict[Path, FileEvents] = {}
        self._index_key: tuple[tuple[Path, FileStamp], ...] | None = None
        self._index: CalendarIndex | None = None
        self._listings: dict[Window, list[Listed]] = {}
        self._by_id: dict[Window, dict[str, Listed]] = {}

    def check(self) -> None:
        """Raise `SourceError` unless the path exists, can be read and holds a VCALENDAR."""
        files = self._calendar_files()
        if not files:
            raise SourceError(f"no .ics files under {str(self.path)!r}")
        for file in files:
            text, _ = decode_calendar(self._read(file))
            if has_vcalendar(text):
                return
        what = "file" if self.path.is_file() else "folder"
        raise SourceError(
            f"calendar {what} {str(self.path)!r} holds no VCALENDAR (not an iCalendar file)"
        )

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        """Pages of the occurrences starting in ``window``, by start then id.

        The cursor is the number of the window's items already listed.
        """
        if window is None:
            raise SourceError("calendar events are listed one day at a time: a window is needed")
        yield from listed_pages(self._listing(window, self._current_index()), cursor, PAGE_SIZE)

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        """One raw occurrence per ref, found again on the day of its ``received_at``."""
        index = self._current_index()
        for ref in refs:
            item = index.broken.get(ref.external_id)
            if item is None and ref.received_at is None:
                reason = f"event {ref.external_id!r} has no start time to look it up by"
                yield FetchError(ref.external_id, reason)
                continue
            item = item or self._find(index, ref)
            if item is None:
                reason = f"event {ref.external_id!r} is no longer in {str(self.path)!r}"
                yield FetchError(ref.external_id, reason)
                continue
            yield RawItem(
                external_id=item.external_id, data=item.data, received_at=item.received_at
            )

    def sync_state(self) -> dict[str, Any] | None:
        """None: files have no sync token; `probe_signature` says whether they changed."""
        return None

    def event_days(self, *, start: dt.date, end: dt.date) -> list[dt.date]:
        """The UTC days in ``[start, end]`` with at least one occurrence or broken item."""
        return sorted(self._current_index().days(start, end))

    def first_days(self) -> list[dt.date]:
        """The UTC start day of every VEVENT's first occurrence and of every broken item:
        running these days imports each VEVENT at least once."""
        return sorted(self._current_index().first_days())

    def probe_signature(self) -> str:
        """Changes when a file is added, removed or modified (sizes and modification times)."""
        lines = [
            f"{file.as_posix()}\t{stamp.size}\t{stamp.mtime_ns}" for file, stamp in self._stamps()
        ]
        return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()

    def _find(self, index: CalendarIndex, ref: ItemRef) -> Listed | None:
        """The item listed under ``ref``'s id on the UTC day of its ``received_at``."""
        window = window_of(ref)
        if window is None:
            return None
        self._listing(window, index)
        return self._by_id[window].get(ref.external_id)

    def _listing(self, window: Window, index: CalendarIndex) -> list[Listed]:
        """The window's items, kept for the few windows a run enumerates and fetches."""
        if window not in self._listings:
            if len(self._listings) >= _LISTINGS_KEPT:
                oldest = next(iter(self._listings))
                del self._listings[oldest], self._by_id[oldest]
            items = index.listing(window)
            self._listings[window] = items
            self._by_id[window] = {item.external_id: item for item in items}
        return self._listings[window]

    def _current_index(self) -> CalendarIndex:
        stamps = self._stamps()
        if self._index is None or stamps != self._index_key:
            loaded: dict[Path, FileEvents] = {}
            for file, stamp in stamps:
                cached = self._files.get(file)
                if cached is None or cached.stamp != stamp:
                    try:
                        cached = load_file(file, stamp)
                    except OSError as exc:
                        raise SourceError(f"cannot read {str(file)!r}: {exc.strerror}") from exc
                loaded[file] = cached
            self._files = loaded
            self._index = CalendarIndex([loaded[file] for file, _ in stamps])
            self._index_key = stamps
            self._listings, self._by_id = {}, {}
        return self._index

    def _stamps(self) -> tuple[tuple[Path, FileStamp], ...]:
        stamps = []
        for file in self._calendar_files():
            try:
                stamps.append((file, FileStamp.of(file)))
            except OSError as exc:
                raise SourceError(f"cannot read {str(file)!r}: {exc.strerror}") from exc
        return tuple(stamps)

    def _calendar_files(self) -> list[Path]:
        if not self.path.exists():
            raise SourceError(f"calendar path {str(self.path)!r} does not exist")
        if not os.access(self.path, os.R_OK):
            raise SourceError(
                f"calendar path {str(self.path)!r} is not readable (permission denied)"
            )
        try:
            return calendar_files(self.path)
        except OSError as exc:
            raise SourceError(f"cannot list {str(self.path)!r}: {exc.strerror}") from exc

    def _read(self, file: Path) -> bytes:
        try:
            return file.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {str(file)!r}: {exc.strerror}") from exc
