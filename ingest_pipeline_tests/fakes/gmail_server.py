"""A local Google API server for tests - Gmail API v1, People API v1 (contacts) and Calendar
API v3 behind one OAuth token endpoint - spoken to by the real ``googleapiclient``/google-auth.

    with FakeGmail() as gmail:
        refresh = gmail.add_user("ann@example.com")
        gmail.add_message("ann@example.com", raw_bytes, internal_date=when)
        creds = Credentials(None, refresh_token=refresh, client_id="test-client",
                            client_secret="test-secret", token_uri=gmail.token_uri)
        service = build("gmail", "v1", credentials=creds, static_discovery=True,
                        client_options={"api_endpoint": gmail.base_url})
        batch = BatchHttpRequest(callback=..., batch_uri=gmail.batch_uri)

Paths (under ``base_url``), as the client sends them:

- ``POST token`` - Google's OAuth token endpoint (refresh_token grant only);
- ``GET gmail/v1/users/{userId}/profile|messages|messages/{id}|messages/{id}/attachments/{id}|
  history|labels`` - the read-only Gmail methods (see `Mailbox`);
- ``GET v1/people/me/connections``, ``GET calendars/{calendarId}/events`` and
  ``GET users/me/calendarList`` (also under ``calendar/v3/``) - see `google_workspace`;
- ``POST batch/gmail/v1`` (and ``POST batch``, ``batch/calendar/v3``, ``batch/people/v1``) -
  Google's batch endpoint; every part may call any of the three APIs.

``service.new_batch_http_request()`` builds its URI from the discovery document's rootUrl
(``https://gmail.googleapis.com/batch``) and ignores ``api_endpoint``: give
``BatchHttpRequest`` an explicit ``batch_uri`` (``api_endpoint + "batch/gmail/v1"``).

The same ``api_endpoint`` serves ``build("people", "v1")`` and ``build("calendar", "v3")``;
``api_endpoint`` replaces the Calendar document's ``servicePath`` too, so its calls arrive as
``calendars/...`` without ``calendar/v3/``.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ingest_pipeline_tests.fakes.gmail_batch import (
    MAX_BATCH_PARTS,
    BatchFormatError,
    parse_batch,
    render_batch,
)
from ingest_pipeline_tests.fakes.gmail_errors import (
    ApiError,
    Reply,
    error_reply,
    fault_reply,
    json_reply,
)
from ingest_pipeline_tests.fakes.gmail_mailbox import Mailbox
from ingest_pipeline_tests.fakes.gmail_oauth import TokenIssuer
from ingest_pipeline_tests.fakes.gmail_quota import METHOD_UNITS, FaultPlan, ServerStats
from ingest_pipeline_tests.fakes.google_calendar import CalendarAccount
from ingest_pipeline_tests.fakes.google_people import AddressBook
from ingest_pipeline_tests.fakes.google_workspace import Workspace, api_of
from ingest_pipeline_tests.fakes.google_workspace import route as workspace_route
from ingest_pipeline_tests.fakes.local_http import LocalHTTPServer, ServedFake

__all__ = ["FakeGmail", "FakeGoogle", "FaultPlan", "ServerStats"]

TOKEN_PATH = "/token"
BATCH_PATHS = ("/batch/gmail/v1", "/batch", "/batch/calendar/v3", "/batch/people/v1")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_USERS = r"/gmail/v1/users/([^/]+)"
_ROUTES = [
    (re.compile(_USERS + r"/profile"), "getProfile"),
    (re.compile(_USERS + r"/messages"), "messages.list"),
    (re.compile(_USERS + r"/messages/([^/]+)"), "messages.get"),
    (re.compile(_USERS + r"/messages/([^/]+)/attachments/([^/]+)"), "messages.attachments.get"),
    (re.compile(_USERS + r"/history"), "history.list"),
    (re.compile(_USERS + r"/labels"), "labels.list"),
]


class FakeGmail(ServedFake):
    """Gmail, People and Calendar APIs on ``127.0.0.1:<random port>``, with faults, quota and
    counters.

    Mutable while running: ``faults`` (a `FaultPlan`, for all three APIs), ``latency``
    (seconds added to every HTTP request, once per batch), ``quota_units_per_minute`` (Gmail,
    per user, sliding 60 s), ``people_requests_per_minute`` and
    ``calendar_requests_per_minute`` (per user, sliding 60 s; None: unlimited),
    ``calendar_quota_status`` (403 or 429, what a spent Calendar quota answers), ``clock``
    (monotonic seconds for quota and token expiry), ``wall_clock`` (the UTC time written into
    ``created``/``updated``/``updateTime``). ``stats`` counts what happened (assign
    ``ServerStats()`` to reset); ``server_errors`` lists tracebacks of bugs in the fake.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        quota_units_per_minute: int = 15_000,
        seed: int = 0,
        people_requests_per_minute: int | None = None,
        calendar_requests_per_minute: int | None = None,
        calendar_quota_status: int = 403,
    ) -> None:
        self.latency = latency
        self.quota_units_per_minute = quota_units_per_minute
        self.people_requests_per_minute = people_requests_per_minute
        self.calendar_requests_per_minute = calendar_requests_per_minute
        self.calendar_quota_status = calendar_quota_status
        self.faults = FaultPlan()
        self.stats = ServerStats()
        self.clock: Callable[[], float] = time.monotonic
        self.wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
        self.server_errors: list[str] = []
        self._lock = threading.RLock()
        self._fault_rng = random.Random(seed)
        self._id_rng = random.Random(f"ids-{seed}")
        self._mailboxes: dict[str, Mailbox] = {}
        self._tokens = TokenIssuer()
        self._sequence = 0
        self._workspace = Workspace(seed=seed, now=lambda: self.wall_clock())
        self._http = LocalHTTPServer(
            self._serve,
            self._record_error,
            name="fake-gmail",
            server_version="ESF",  # what Google's front end calls itself
            bug_reply=lambda: error_reply(
                500, message="fake Gmail bug: see FakeGmail.server_errors"
            ),
        )
        self.base_url = f"http://127.0.0.1:{self._http.port}/"
        self.token_uri = self.base_url + "token"
        self.batch_uri = self.base_url + "batch/gmail/v1"

    # -- test set-up -------------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        *,
        client_id: str = "test-client",
        client_secret: str = "test-secret",
        refresh_token: str | None = None,
    ) -> str:
        """Create the mailbox, contacts and primary calendar (once) and a refresh token for
        them; returns the refresh token."""
        with self._lock:
            key = email.lower()
            token = self._tokens.add_grant(key, client_id, client_secret, refresh_token)
            if key not in self._mailboxes:
                self._mailboxes[key] = Mailbox(email, self._id_rng.randint(100_000, 5_000_000))
            self._workspace.book(key)
            self._workspace.account(key)
            return token

    def add_message(
        self,
        email: str,
        raw: bytes,
        *,
        internal_date: dt.datetime,
        labels: Sequence[str] = ("INBOX",),
    ) -> str:
        """Store RFC 822 ``raw`` (naive dates are UTC); records ``messageAdded`` and bumps the
        user's historyId (by 1-4, as Gmail's ids are not contiguous). Returns the message id."""
        if internal_date.tzinfo is None:
            internal_date = internal_date.replace(tzinfo=dt.UTC)
        millis = (internal_date - _EPOCH) // dt.timedelta(milliseconds=1)
        label_list = [labels] if isinstance(labels, str) else list(labels)
        with self._lock:
            mailbox = self._mailbox(email)
            self._sequence += 1
            message_id = f"{millis & (16**11 - 1):011x}{self._sequence:05x}"
            step = self._id_rng.randint(1, 4)
            mailbox.add(message_id, bytes(raw), millis, label_list, step)
            return message_id

    def add_service_account(self, client_email: str, public_key: Any) -> None:
        """Trust a service account with domain-wide delegation (JWTs signed by its key)."""
        with self._lock:
            self._tokens.add_service_account(client_email, public_key)

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token: refreshing answers invalid_grant, its access tokens 401."""
        with self._lock:
            self._tokens.revoke(refresh_token)

    def expire_history(self, email: str) -> None:
        """Forget history: history.list with a startHistoryId older than now answers 404."""
        with self._lock:
            mailbox = self._mailbox(email)
            mailbox.history_floor = mailbox.history_id

    def history_id(self, email: str) -> int:
        """The user's current historyId."""
        with self._lock:
            return self._mailbox(email).history_id

    def add_person(self, email: str, fields: dict[str, Any]) -> str:
        """Add a contact (People API Person JSON: ``names``, ``emailAddresses``,
        ``phoneNumbers``, ``organizations``, ``photos``...); returns ``people/c<digits>``."""
        with self._lock:
            return self._user_book(email).add(fields)

    def update_person(self, email: str, resource_name: str, fields: dict[str, Any]) -> None:
        """Replace the given fields of a contact (None removes one)."""
        with self._lock:
            self._user_book(email).update(resource_name, fields)

    def delete_person(self, email: str, resource_name: str) -> None:
        """Delete a contact: incremental syncs report it with ``metadata.deleted``."""
        with self._lock:
            self._user_book(email).delete(resource_name)

    def expire_sync_tokens(self) -> None:
        """Invalidate every People and Calendar sync token issued so far."""
        with self._lock:
            self._workspace.sync.expire()

    def add_calendar(
        self,
        email: str,
        calendar_id: str = "primary",
        summary: str | None = None,
        time_zone: str = "UTC",
    ) -> str:
        """Add a calendar to the user's list, or set the summary and zone of one (the primary
        calendar exists from `add_user` on, with the address as its id); returns its id."""
        with self._lock:
            return self._user_account(email).add_calendar(calendar_id, summary, time_zone)

    def add_event(self, email: str, calendar_id: str, event: dict[str, Any]) -> str:
        """Store a Calendar API Event (``summary``, ``start``/``end`` as ``{"dateTime",
        "timeZone"?}`` or ``{"date"}``, ``attendees``, ``organizer``, ``recurrence``...);
        returns its id."""
        with self._lock:
            return self._user_account(email).add_event(calendar_id, event)

    def update_event(
        self, email: str, calendar_id: str, event_id: str, fields: dict[str, Any]
    ) -> None:
        """Change an event, a series, or one instance (``<id>_<YYYYMMDDTHHMMSSZ>``)."""
        with self._lock:
            self._user_account(email).update_event(calendar_id, event_id, fields)

    def cancel_event(self, email: str, calendar_id: str, event_id: str) -> None:
        """Cancel an event, a series, or one instance: ``status`` becomes ``cancelled``."""
        with self._lock:
            self._user_account(email).cancel_event(calendar_id, event_id)

    def _user_book(self, email: str) -> AddressBook:
        self._mailbox(email)
        return self._workspace.book(email)

    def _user_account(self, email: str) -> CalendarAccount:
        self._mailbox(email)
        return self._workspace.account(email)

    def _mailbox(self, email: str) -> Mailbox:
        try:
            return self._mailboxes[email.lower()]
        except KeyError:
            raise KeyError(f"no Gmail user {email!r}: call add_user first") from None

    # -- serving -----------------------------------------------------------------------------

    def _serve(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Reply | None:
        """Answer one HTTP request; None means: close the connection without answering."""
        if method == "POST" and headers.get("x-http-method-override", "").upper() == "GET":
            # googleapiclient sends a GET whose URL passes 2,048 characters as a POST with
            # this header and the query as the body (a people.getBatchGet of 200 names).
            method, target = "GET", f"{urlsplit(target).path}?{body.decode('ascii')}"
            body = b""
        path = urlsplit(target).path
        plan = self.faults
        with self._lock:
            self.stats.requests += 1
            if path == TOKEN_PATH:
                drop = slow = False
                forced = None
            else:
                drop = plan.drop_share > 0 and self._fault_rng.random() < plan.drop_share
                slow = plan.slow_share > 0 and self._fault_rng.random() < plan.slow_share
                forced = plan.next_statuses.pop(0) if plan.next_statuses and not drop else None
                self.stats.dropped += drop
                self.stats.slowed += slow
        if drop:
            return None
        delay = self.latency + (plan.slow_seconds if slow else 0.0)
        if delay > 0:
            time.sleep(delay)
        if path == TOKEN_PATH:
            return self._token(method, headers, body)
        if path in BATCH_PATHS and method == "POST":
            return self._batch(headers, body, forced)
        return self._api_call(method, target, headers, forced)

    def _token(self, method: str, headers: dict[str, str], body: bytes) -> Reply:
        """``POST https://oauth2.googleapis.com/token`` (see `TokenIssuer`)."""
        with self._lock:
            content_type = headers.get("content-type", "")
            reply = self._tokens.token_request(method, content_type, body, self.clock())
            if reply.status == 200:
                self.stats.token_refreshes += 1
            else:
                self.stats.token_errors += 1
            return reply

    def _batch(self, headers: dict[str, str], body: bytes, forced: int | None) -> Reply:
        """``POST https://gmail.googleapis.com/batch/gmail/v1``: each part dispatched like a
        plain request (and counted as an API call), answered as multipart/mixed."""
        with self._lock:
            self.stats.batch_requests += 1
        if forced is not None and forced >= 300:
            return self._count(error_reply(forced))
        try:
            parts = parse_batch(headers.get("content-type", ""), body, headers)
        except BatchFormatError as exc:
            return self._count(error_reply(400, message=str(exc)))
        with self._lock:
            self.stats.max_batch_size = max(self.stats.max_batch_size, len(parts))
        if not parts or len(parts) > MAX_BATCH_PARTS:
            message = f"A batch must hold 1 to {MAX_BATCH_PARTS} requests, not {len(parts)}."
            return self._count(error_reply(400, message=message))
        answers = [
            (part.content_id, self._api_call(part.method, part.target, part.headers, None))
            for part in parts
        ]
        content_type, payload = render_batch(answers)
        return Reply(200, payload, [("Content-Type", content_type)])

    def _count(self, reply: Reply) -> Reply:
        with self._lock:
            self.stats.status_counts[reply.status] += 1
        return reply

    def _api_call(
        self, method: str, target: str, headers: dict[str, str], forced: int | None
    ) -> Reply:
        """One API call: route, forced status, auth, injected fault, quota, then run."""
        split = urlsplit(target)
        params = parse_qs(split.query, keep_blank_values=True)
        route = _route(split.path) or workspace_route(split.path)
        with self._lock:
            self.stats.api_calls += 1
            if route is not None:
                self.stats.by_method[route[0]] += 1
            reply = self._answer(method, split.path, route, params, headers, forced)
            self.stats.status_counts[reply.status] += 1
            return reply

    def _answer(
        self,
        method: str,
        path: str,
        route: tuple[str, list[str]] | None,
        params: dict[str, list[str]],
        headers: dict[str, str],
        forced: int | None,
    ) -> Reply:
        if forced is not None and forced >= 300:
            return error_reply(forced)
        if route is None:
            return error_reply(404, message=f"Method not found: {path}")
        if method != "GET":
            return error_reply(405, message=f"The fake Gmail only reads: {method} {path}")
        name, args = route
        authorization = headers.get("authorization", "")
        token = authorization[7:] if authorization.lower().startswith("bearer ") else ""
        token = token or (params.get("access_token") or [""])[0]
        user = self._tokens.user_of(token, self.clock())
        if user is None:
            return error_reply(401)
        api = api_of(name)
        if api != "gmail":
            return self._workspace_answer(api, name, args, user, params)
        mailbox = self._mailboxes[user]
        if args[0] != "me" and args[0].lower() != user:
            return error_reply(403, message=f"Delegation denied for {args[0]}")
        if (fault := self._injected_fault()) is not None:
            return fault
        units = METHOD_UNITS[name]
        wait = mailbox.quota.try_charge(self.clock(), units, self.quota_units_per_minute)
        if wait is not None:
            self.stats.rate_limited += 1
            message = f"User-rate limit exceeded. Retry after {wait} seconds."
            return error_reply(
                429,
                reason="rateLimitExceeded",
                message=message,
                domain="usageLimits",
                retry_after=wait,
            )
        self.stats.units_used += units
        try:
            return json_reply(200, self._run(name, args, mailbox, params))
        except ApiError as exc:
            return exc.reply()

    def _injected_fault(self) -> Reply | None:
        plan = self.faults
        if plan.share > 0 and self._fault_rng.random() < plan.share:
            self.stats.faults_injected += 1
            return fault_reply(self._fault_rng.choice(plan.kinds))
        return None

    def _workspace_answer(
        self, api: str, name: str, args: list[str], user: str, params: dict[str, list[str]]
    ) -> Reply:
        """A People or Calendar call by an authenticated ``user``: fault, quota, then run."""
        if api == "people":
            self.stats.people_calls_by_user[user] += 1
            limit = self.people_requests_per_minute
        else:
            self.stats.calendar_calls_by_user[user] += 1
            limit = self.calendar_requests_per_minute
        if (fault := self._injected_fault()) is not None:
            return fault
        workspace = self._workspace
        refusal = workspace.charge(api, user, self.clock(), limit, self.calendar_quota_status)
        if refusal is not None:
            self.stats.rate_limited += 1
            return refusal
        try:
            return json_reply(200, workspace.call(name, args, user, params))
        except ApiError as exc:
            return exc.reply()

    def _run(self, name: str, args: list[str], mailbox: Mailbox, params: Any) -> Any:
        if name == "getProfile":
            return mailbox.get_profile()
        if name == "messages.list":
            return mailbox.list_messages(params, time.time())
        if name == "messages.get":
            return mailbox.get_message(args[1], params)
        if name == "messages.attachments.get":
            return mailbox.get_attachment(args[1], args[2])
        if name == "history.list":
            return mailbox.list_history(params)
        return mailbox.list_labels()

    def _record_error(self, text: str) -> None:
        with self._lock:
            self.server_errors.append(text)


def _route(path: str) -> tuple[str, list[str]] | None:
    """``(method name, [userId, ids...])`` for a Gmail path, or None."""
    for pattern, name in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            return name, [unquote(group) for group in match.groups()]
    return None


FakeGoogle = FakeGmail  # the same server, named for what it now serves
