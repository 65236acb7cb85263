"""CalDAV calendars as a source of the calendar-events stream, with the ``caldav`` library.

The account's calendars are discovered from its principal (``calendar-home-set``), all of
them or those named in the integration's options. Enumerate asks each calendar for the
objects that overlap the partition's UTC day and a day on each side (a ``calendar-query``
time-range REPORT; the server expands recurrences to decide), then expands them here
exactly as the iCalendar provider does (`ics_index`): each occurrence that starts on the
day is one item, served as a self-contained VCALENDAR whose hash is its version, so a
changed or moved event is imported again and a moved one moves to its new day (one ledger
row per key). Keys are
``<calendar path>|<UID>|<recurrence id>``, so the same UID in two calendars stays two
events. An object the server stores but nobody can read is listed as ``broken:<hash>`` on
the day the server placed it, and fails in the parse step with its reason.

Fetch asks the same day again (once per day among the refs). The change probe reads each
calendar's ``DAV:sync-token`` (RFC 6578) or CalendarServer ``getctag``, one PROPFIND per
calendar; a server with neither is probed by its objects' etags. The same tokens are the
incremental feed (`changed_days`): the 15-minute trigger asks each calendar what changed
since the tokens of the last successful run and runs the days those events now fall on, so
an event moved to next Tuesday is on Tuesday within minutes, not at the nightly run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window
from ingest_pipeline.sources.base import CredentialsRevoked, SourceError, SourceLimits
from ingest_pipeline.sources.dav.dav_endpoint import (
    DavEndpoint,
    bounded_id,
    chosen_collections,
    collections_signature,
    password_of,
)
from ingest_pipeline.sources.ics.ics_files import FileStamp
from ingest_pipeline.sources.ics.ics_index import (
    CalendarIndex,
    Listed,
    listed_pages,
    load_bytes,
    window_of,
)

PAGE_SIZE = 200
_DAYS_KEPT = 16
_MARGIN = dt.timedelta(days=1)
# More changes than this since the last feed token: the days are not told one by one.
MAX_FEED_CHANGES = 200


@dataclass(frozen=True)
class _Calendar:
    """One discovered calendar: its URL path (the key prefix), its name, the library's
    object."""

    path: str
    name: str
    handle: Any


class CalDavSource:
    """The calendars of one CalDAV account."""

    streams = frozenset({"calendar_events"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(
        self,
        endpoint: DavEndpoint,
        user: str,
        credentials: dict[str, Any] | None,
        *,
        calendars: Sequence[str] = (),
    ) -> None:
        self.endpoint = endpoint
        self.user = user
        self._password = password_of(credentials, what="CalDAV")
        self.wanted = tuple(calendars)
        self._client: Any = None
        self._calendars: list[_Calendar] | None = None
        self._days: dict[Window, dict[str, Listed]] = {}

    # -- Source ---------------------------------------------------------------------------

    def check(self) -> None:
        """Sign in, discover the calendars, and raise `SourceError` when there is none (or
        a calendar named in the options is missing)."""
        self._discovered()

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        """Pages of the occurrences starting in ``window``, by calendar, start and id; the
        cursor is the number already listed."""
        if window is None:
            raise SourceError("calendar events are listed one day at a time: a window is needed")
        yield from listed_pages(list(self._day(window).values()), cursor, PAGE_SIZE)

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        """Each ref's occurrence, from the day of its ``received_at`` asked again (once per
        day among the refs, never from an earlier listing: the server may have changed)."""
        asked: dict[Window, dict[str, Listed]] = {}
        for ref in refs:
            window = window_of(ref)
            if window is None:
                yield FetchError(ref.external_id, "the event has no start to look it up by")
                continue
            if window not in asked:
                asked[window] = self._ask_day(window)
            item = asked[window].get(ref.external_id)
            if item is None:
                reason = f"event {ref.external_id!r} is no longer on the CalDAV server on that day"
                yield FetchError(ref.external_id, reason)
                continue
            yield RawItem(item.external_id, item.data, received_at=item.received_at)

    def sync_state(self) -> dict[str, Any] | None:
        """None: each day is asked by time range (a sync feed cannot be split into days)."""
        return None

    def probe_signature(self) -> str:
        """Each calendar's path and sync token (or ctag, or a hash of its objects' etags):
        an event added, edited or deleted in any calendar, or a calendar added or removed,
        changes it."""
        from caldav.elements import dav

        tokens = []
        for calendar in self._discovered():
            props = self._call(
                lambda c=calendar: c.handle.get_properties([dav.SyncToken(), _ctag()])
            )
            token = props.get(dav.SyncToken.tag) or props.get(CTAG)
            if not token:
                listing = self._call(
                    lambda c=calendar: c.handle.objects_by_sync_token(load_objects=False)
                )
                token = f"etags:{listing.sync_token}"
            tokens.append((calendar.path, str(token)))
        return collections_signature(tokens)

    def changed_days(
        self, feed: dict[str, str] | None, *, first: dt.date, last: dt.date
    ) -> tuple[list[dt.date] | None, dict[str, str]]:
        """The incremental feed: from each calendar's sync token in ``feed`` (RFC 6578
        ``sync-collection``), the UTC days in ``[first, last]`` on which an added or changed
        event has an occurrence, and every calendar's token now (the next feed).

        The days are None when they cannot all be told: a calendar with no token in the
        feed yet (the first probe), a token the server refuses, a server without sync, or
        more than `MAX_FEED_CHANGES` changes; then only the schedule's usual days run. A
        deleted event has no day left to tell (the day-range listing never lists it again).
        """
        from caldav.elements import dav
        from caldav.lib import error

        tokens: dict[str, str] = {}
        days: set[dt.date] = set()
        known = True
        for calendar in self._discovered():
            old = (feed or {}).get(calendar.path)
            try:
                changes = calendar.handle.objects_by_sync_token(sync_token=old)
            except error.AuthorizationError as exc:
                if "forbidden" not in str(exc.reason).lower():
                    raise self._said(exc) from exc  # a refused login
                known = False  # 403: the server refuses the token (valid-sync-token)
                current = self._call(lambda c=calendar: c.handle.get_properties([dav.SyncToken()]))
                if current.get(dav.SyncToken.tag):
                    tokens[calendar.path] = str(current[dav.SyncToken.tag])
                continue
            except error.DAVError:
                known = False  # the server offers no sync-collection
                continue
            if changes.sync_token:
                tokens[calendar.path] = str(changes.sync_token)
            objects = list(changes)
            if not old or len(objects) > MAX_FEED_CHANGES:
                known = False
                continue
            # One calendar-multiget for the changed objects; a deleted one is not in the
            # answer (no day left to tell).
            loaded = (
                self._call(
                    lambda c=calendar, o=objects: list(c.handle.multiget([x.url for x in o]))
                )
                if objects
                else []
            )
            stamp = FileStamp(size=0, mtime_ns=0)
            files = [load_bytes(_object_bytes(obj), stamp) for obj in loaded]
            days |= CalendarIndex(files).days(first, last)
        return (sorted(days) if known else None), tokens

    def close(self) -> None:
        """Close the HTTP session."""
        if self._client is not None:
            self._client.close()
            self._client = None
            self._calendars = None

    # -- helpers --------------------------------------------------------------------------

    def _day(self, window: Window) -> dict[str, Listed]:
        """The window's occurrences, kept while a listing pages through them."""
        if window not in self._days:
            if len(self._days) >= _DAYS_KEPT:
                del self._days[next(iter(self._days))]
            self._days[window] = self._ask_day(window)
        return self._days[window]

    def _ask_day(self, window: Window) -> dict[str, Listed]:
        """The window's occurrences of every calendar by id, asked of the server."""
        items: dict[str, Listed] = {}
        for calendar in self._discovered():
            for item in self._listing(calendar, window):
                key = bounded_id(f"{calendar.path}|{item.external_id}")
                items[key] = Listed(key, item.received_at, item.data)
        return items

    def _listing(self, calendar: _Calendar, window: Window) -> list[Listed]:
        # A day more on each side: servers differ on zero-length and floating-time events
        # at a day's edge; the listing keeps what starts on the day, as the ics provider.
        found = self._call(
            lambda: calendar.handle.search(
                start=window.start - _MARGIN, end=window.end + _MARGIN, event=True, expand=False
            )
        )
        # What cannot be placed by its start is listed on the day the server put it.
        stamp = FileStamp(size=0, mtime_ns=int(window.start.timestamp()) * 1_000_000_000)
        objects = sorted(found, key=lambda o: str(o.url))
        files = [load_bytes(_object_bytes(o), stamp) for o in objects]
        return CalendarIndex(files).listing(window)

    def _discovered(self) -> list[_Calendar]:
        if self._calendars is None:
            principal = self._call(lambda: self._connection().principal())
            found = [
                _Calendar(_path_of(c.url), str(self._call(lambda c=c: c.name) or ""), c)
                for c in self._call(principal.calendars)
            ]
            self._calendars = chosen_collections(
                found, self.wanted, kind="calendar", user=self.user, url=self.endpoint.url
            )
        return self._calendars

    def _connection(self) -> Any:
        if self._client is None:
            import caldav

            self._client = caldav.DAVClient(
                self.endpoint.checked_url(),
                username=self.user,
                password=self._password,
                ssl_verify_cert=self.endpoint.verify,
                timeout=int(self.endpoint.timeout_seconds),
            )
        return self._client

    def _call(self, work: Any) -> Any:
        """``work()``, with the library's errors said as this project's (`_said`); network
        errors (OSError) and server errors propagate, to be retried."""
        from caldav.lib import error

        try:
            return work()
        except (error.AuthorizationError, error.NotFoundError) as exc:
            raise self._said(exc) from exc

    def _said(self, exc: Exception) -> Exception:
        """A refused login as `CredentialsRevoked`, a missing collection as `SourceError`."""
        from caldav.lib import error

        if isinstance(exc, error.AuthorizationError):
            return CredentialsRevoked(
                f"the CalDAV server {self.endpoint.url} refused the login of {self.user} "
                f"({exc.reason}); give the integration a new (app) password"
            )
        assert isinstance(exc, error.NotFoundError)
        return SourceError(f"the CalDAV server has no {exc.url}: {exc.reason}")


CTAG = "{http://calendarserver.org/ns/}getctag"


def _ctag() -> Any:
    """CalendarServer's collection tag (``CS:getctag``), for servers without sync tokens."""
    from caldav.elements.base import ValuedBaseElement

    class GetCtag(ValuedBaseElement):
        tag = CTAG

    return GetCtag()


def _object_bytes(obj: Any) -> bytes:
    data = obj.data
    return data.encode("utf-8") if isinstance(data, str) else bytes(data or b"")


def _path_of(url: Any) -> str:
    return unquote(urlsplit(str(url)).path)
