"""Google Contacts through the People API, as a source of the contacts stream.

Enumerate lists ``people.connections.list`` for ``people/me``, 1,000 a page, with the person
fields the app stores. The first listing asks for a sync token and saves it on the
integration; later runs list only the people changed since (``syncToken``), each page
repeating the first request's parameters exactly, as the API requires. A person's etag is
its version, so an edited contact is imported again; a deleted one (``metadata.deleted``)
is listed with the version `REMOVED` and fetched as its tombstone without a call. An
expired token (ErrorInfo reason ``EXPIRED_SYNC_TOKEN``, matched on the reason, not the
status) lists everyone again, with a note in the metrics; that listing is complete
(``listing_complete``), so the enumerate step marks whoever it lacks as removed.

Fetch reads people with ``people.getBatchGet``, 200 to a call. Every call takes its turn
in the user's quota budget (`GoogleCalls`).
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from googleapiclient.errors import HttpError

from ingest_pipeline.domain import REMOVED, FetchError, ItemRef, Page, RawItem, Window, tombstone
from ingest_pipeline.sources.base import SourceError, SourceLimits
from ingest_pipeline.sources.google.google_auth import (
    SCOPES,
    GoogleEndpoint,
    authorized_http,
    error_reason,
    google_credentials,
    google_service,
)
from ingest_pipeline.sources.google.google_calls import NETWORK_ERRORS, GoogleCalls, call_failed
from ingest_pipeline.sources.quota_budget import QuotaBudget

log = logging.getLogger(__name__)

PERSON_FIELDS = "names,emailAddresses,phoneNumbers,organizations,photos,metadata"
PAGE_SIZE = 1000
BATCH_GET_SIZE = 200
EXPIRED_SYNC_TOKEN = "EXPIRED_SYNC_TOKEN"
PEOPLE_ENDPOINT = GoogleEndpoint(api_endpoint="https://people.googleapis.com/")
# Calls the budget lets out at once: small, so it refills at (90 - 3) / 60 a second, 97%
# of the quota (each call takes one of the 90).
BUDGET_CAPACITY = 3
# The People API's default read quota per user.
READS_PER_MINUTE = 90


class GoogleContactsSource:
    """The connections (contacts) of one Google account."""

    streams = frozenset({"contacts"})
    # A multiple of the 200 names one batchGet takes, so no call goes out half full.
    limits = SourceLimits(fetch_batch_size=400, max_concurrency=1)

    def __init__(
        self,
        info: dict[str, Any],
        *,
        endpoint: GoogleEndpoint = PEOPLE_ENDPOINT,
        sync_state: dict[str, Any] | None = None,
        requests_per_minute: int = READS_PER_MINUTE,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        http = authorized_http(
            google_credentials(info, SCOPES["contacts"]), endpoint.timeout_seconds
        )
        self._service = google_service("people", "v1", http, endpoint.api_endpoint)
        budget = QuotaBudget(limit=requests_per_minute, capacity=BUDGET_CAPACITY, sleep=sleep)
        self.calls = GoogleCalls(budget, sleep=sleep, max_attempts=max_attempts)
        self._state = dict(sync_state or {})
        self.notes: list[str] = []
        self.listing_complete = False

    @property
    def requests_retried(self) -> int:
        return self.calls.retried

    def check(self) -> None:
        self.profile()

    def profile(self) -> dict[str, Any]:
        """The signed-in user's own profile (its email addresses): the access check."""
        try:
            result: dict[str, Any] = self.calls.execute(
                lambda: self._service.people().get(
                    resourceName="people/me", personFields="emailAddresses"
                )
            )
        except HttpError as exc:
            raise SourceError(f"Google Contacts refused people/me: {exc.reason}") from exc
        return result

    def sync_state(self) -> dict[str, Any]:
        """The People sync token (``people_sync_token``) for the next run's changes."""
        return dict(self._state)

    def probe_signature(self) -> str:
        """How many contacts there are and the etag of the one changed last (one
        ``connections.list`` request for one person, newest first): an added, edited or
        deleted contact changes it."""
        listing = self.calls.execute(
            lambda: (
                self._service.people()
                .connections()
                .list(
                    resourceName="people/me",
                    pageSize=1,
                    personFields="metadata",
                    sortOrder="LAST_MODIFIED_DESCENDING",
                )
            )
        )
        newest = (listing.get("connections") or [{}])[0]
        return f"{listing.get('totalItems', 0)}:{newest.get('etag', '')}"

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        state = json.loads(cursor) if cursor else {}
        if state.get("done"):
            return
        token = state.get("sync_token") if cursor else self._state.get("people_sync_token")
        try:
            yield from self._pages(token, state.get("page"))
        except HttpError as exc:
            if not token or error_reason(exc) != EXPIRED_SYNC_TOKEN:
                raise
            note = "Google Contacts sync token expired; listed every contact again"
            log.warning(note)
            self.notes.append(note)
            self._state.pop("people_sync_token", None)
            yield from self._pages(None, None)

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        wanted: list[str] = []
        for ref in refs:
            if ref.version == REMOVED:
                yield tombstone(ref.external_id)
            else:
                wanted.append(ref.external_id)
        for at in range(0, len(wanted), BATCH_GET_SIZE):
            names = wanted[at : at + BATCH_GET_SIZE]
            try:
                answer = self.calls.execute(
                    functools.partial(
                        self._service.people().getBatchGet,
                        resourceNames=names,
                        personFields=PERSON_FIELDS,
                    )
                )
            except (HttpError, *NETWORK_ERRORS) as exc:
                for name in names:
                    yield call_failed(name, exc, "Google Contacts")
                continue
            found = {
                str(r.get("requestedResourceName")): r
                for r in answer.get("responses", [])
                if isinstance(r, dict)
            }
            for name in names:
                response = found.get(name)
                if response is None:
                    yield FetchError(
                        name, "Google's batchGet answer had no entry; will retry", True
                    )
                elif response.get("person") is not None:
                    person = json.dumps(response["person"], sort_keys=True).encode("utf-8")
                    yield RawItem(name, person)
                elif response.get("httpStatusCode") == 404:
                    yield FetchError(name, "the contact no longer exists in Google Contacts")
                else:
                    status = response.get("status") or {}
                    yield FetchError(
                        name,
                        f"Google answered {response.get('httpStatusCode')}: "
                        f"{status.get('message', 'no message')}; will retry",
                        retryable=True,
                    )

    def _pages(self, sync_token: str | None, page: str | None) -> Iterator[Page[ItemRef]]:
        while True:
            params: dict[str, Any] = {
                "resourceName": "people/me",
                "personFields": PERSON_FIELDS,
                "pageSize": PAGE_SIZE,
                "requestSyncToken": True,
            }
            if sync_token:
                params["syncToken"] = sync_token
            if page:
                params["pageToken"] = page
            response = self.calls.execute(
                functools.partial(self._service.people().connections().list, **params)
            )
            page = response.get("nextPageToken")
            # A listing without a sync token holds everyone: what it lacks was deleted.
            self.listing_complete = not page and not sync_token
            if not page and response.get("nextSyncToken"):
                self._state["people_sync_token"] = str(response["nextSyncToken"])
            refs = [_ref(p) for p in response.get("connections", []) if p.get("resourceName")]
            cursor = json.dumps({"sync_token": sync_token, "page": page, "done": not page})
            yield Page(items=refs, cursor=cursor)
            if not page:
                return


def _ref(person: dict[str, Any]) -> ItemRef:
    metadata = person.get("metadata") if isinstance(person.get("metadata"), dict) else {}
    if metadata and metadata.get("deleted"):
        return ItemRef(external_id=str(person["resourceName"]), version=REMOVED)
    return ItemRef(external_id=str(person["resourceName"]), version=str(person.get("etag") or ""))
