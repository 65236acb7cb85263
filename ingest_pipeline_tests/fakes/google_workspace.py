"""The People API v1 and Calendar API v3 side of the fake Google server: per-user contacts and
calendars, their routes, per-user quotas, and the calls themselves.

Paths as ``googleapiclient`` sends them with ``client_options={"api_endpoint": base_url}``
(which replaces rootUrl *and* servicePath, so Calendar paths lose their ``calendar/v3/``):

- ``GET v1/people/me/connections`` - ``people.connections.list``;
- ``GET calendars/{calendarId}/events`` - ``calendar.events.list``;
- ``GET users/me/calendarList`` - ``calendar.calendarList.list``.

The Calendar paths are served under ``calendar/v3/`` as well (``api_endpoint`` ending in
``calendar/v3/``, or hand-written batch parts).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from ingest_pipeline_tests.fakes.gmail_errors import Reply
from ingest_pipeline_tests.fakes.google_calendar import CalendarAccount
from ingest_pipeline_tests.fakes.google_calendar_time import stamp
from ingest_pipeline_tests.fakes.google_errors import calendar_rate_limited, people_rate_limited
from ingest_pipeline_tests.fakes.google_people import AddressBook
from ingest_pipeline_tests.fakes.google_sync import Params, SyncState

_CALENDAR = r"(?:/calendar/v3)?"
ROUTES = [
    (re.compile(r"/v1/(people/[^/]+)/connections"), "people.connections.list"),
    (re.compile(r"/v1/people:batchGet"), "people.getBatchGet"),
    (re.compile(r"/v1/(people/me)"), "people.get"),
    (re.compile(_CALENDAR + r"/calendars/([^/]+)/events"), "calendar.events.list"),
    (re.compile(_CALENDAR + r"/users/me/calendarList"), "calendar.calendarList.list"),
]


def route(path: str) -> tuple[str, list[str]] | None:
    """``(method name, [path arguments])`` for a People or Calendar path, or None."""
    for pattern, name in ROUTES:
        match = pattern.fullmatch(path)
        if match:
            return name, [unquote(group) for group in match.groups()]
    return None


def api_of(method_name: str) -> str:
    """``"people"``, ``"calendar"`` or ``"gmail"`` for a method name from a route."""
    prefix = method_name.partition(".")[0]
    return prefix if prefix in ("people", "calendar") else "gmail"


class Workspace:
    """Contacts and calendars of every user (callers hold the server lock)."""

    def __init__(self, *, seed: int, now: Callable[[], dt.datetime]) -> None:
        self.sync = SyncState()
        self._ids = random.Random(f"workspace-{seed}")
        self._now = now
        self._books: dict[str, AddressBook] = {}
        self._accounts: dict[str, CalendarAccount] = {}

    def book(self, email: str) -> AddressBook:
        """The user's contacts (created on first use)."""
        key = email.lower()
        if key not in self._books:
            self._books[key] = AddressBook(
                key, sync=self.sync, ids=self._ids, now=lambda: stamp(self._now())
            )
        return self._books[key]

    def account(self, email: str) -> CalendarAccount:
        """The user's calendars (created on first use, with the primary calendar)."""
        key = email.lower()
        if key not in self._accounts:
            self._accounts[key] = CalendarAccount(key, sync=self.sync, ids=self._ids, now=self._now)
        return self._accounts[key]

    def call(self, name: str, args: list[str], user: str, params: Params) -> Any:
        """Run one People or Calendar method for the authenticated ``user``."""
        if name == "people.connections.list":
            return self.book(user).list_connections(args[0], params)
        if name == "people.getBatchGet":
            return self.book(user).get_batch(params)
        if name == "people.get":
            # The signed-in user's own profile: what an access check reads.
            return {
                "resourceName": f"people/{abs(hash(user)) % 10**12}",
                "etag": "%profile",
                "emailAddresses": [{"value": user, "metadata": {"primary": True}}],
            }
        if name == "calendar.events.list":
            return self.account(user).list_events(args[0], params)
        return self.account(user).list_calendar_list(params)

    def charge(
        self, api: str, user: str, now: float, limit: int | None, calendar_status: int
    ) -> Reply | None:
        """Count one request against the user's per-minute ``limit`` (None: no limit); the
        refusal to answer when it is spent, else None."""
        if limit is None:
            return None
        quota = self.book(user).quota if api == "people" else self.account(user).quota
        wait = quota.try_charge(now, 1, limit)
        if wait is None:
            return None
        if api == "people":
            return people_rate_limited(wait, limit)
        return calendar_rate_limited(calendar_status, wait)
