"""One user's contacts in the fake People API v1, and ``people.connections.list`` over them.

Contacts are ``people/c<19 digits>`` with a CONTACT source whose id is that number in hex, as
Google's are. Every change (add, update, delete) takes the book's next change number; a delete
leaves a tombstone that incremental syncs report as ``metadata.deleted``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest_pipeline_tests.fakes.gmail_quota import QuotaWindow
from ingest_pipeline_tests.fakes.google_errors import expired_sync_token, people_error
from ingest_pipeline_tests.fakes.google_sync import (
    PageTokenError,
    Params,
    Snapshot,
    SyncPoint,
    SyncState,
    fingerprint,
    first,
    flag,
)

# The personFields paths people.connections.list accepts (People API v1 discovery document).
PERSON_FIELDS = frozenset(
    (
        "addresses",
        "ageRanges",
        "biographies",
        "birthdays",
        "calendarUrls",
        "clientData",
        "coverPhotos",
        "emailAddresses",
        "events",
        "externalIds",
        "genders",
        "imClients",
        "interests",
        "locales",
        "locations",
        "memberships",
        "metadata",
        "miscKeywords",
        "names",
        "nicknames",
        "occupations",
        "organizations",
        "phoneNumbers",
        "photos",
        "relations",
        "sipAddresses",
        "skills",
        "urls",
        "userDefined",
    )
)
SORT_ORDERS = (
    "LAST_MODIFIED_ASCENDING",
    "LAST_MODIFIED_DESCENDING",
    "FIRST_NAME_ASCENDING",
    "LAST_NAME_ASCENDING",
)
READ_SOURCES = frozenset(
    (
        "READ_SOURCE_TYPE_UNSPECIFIED",
        "READ_SOURCE_TYPE_PROFILE",
        "READ_SOURCE_TYPE_CONTACT",
        "READ_SOURCE_TYPE_DOMAIN_CONTACT",
        "READ_SOURCE_TYPE_OTHER_CONTACT",
    )
)
_SETTABLE = (PERSON_FIELDS - {"metadata"}) | {"resourceName", "etag"}
_TYPED = ("emailAddresses", "phoneNumbers", "addresses", "urls", "relations", "events")
_MASK_HELP = "Valid paths are documented at https://developers.google.com/people/api/rest/v1/people/connections/list."


@dataclass
class StoredPerson:
    """A contact (or, once deleted, its tombstone)."""

    number: int
    fields: dict[str, list[dict[str, Any]]]
    changed_at: int
    update_time: str
    deleted: bool = False

    @property
    def resource_name(self) -> str:
        return f"people/c{self.number}"

    @property
    def source_id(self) -> str:
        return f"{self.number:x}"

    @property
    def sort_names(self) -> tuple[str, str]:
        """(first name, last name) of the first ``names`` value, for the name sort orders."""
        name = (self.fields.get("names") or [{}])[0]
        first_name = name.get("givenName") or name.get("displayName") or ""
        return first_name, name.get("familyName") or ""

    def etag(self, prefix: str) -> str:
        digest = hashlib.sha256(f"{self.number}:{self.changed_at}:{prefix}".encode()).digest()
        return prefix + base64.b64encode(digest[:18]).decode()

    def source(self) -> dict[str, Any]:
        return {
            "type": "CONTACT",
            "id": self.source_id,
            "etag": self.etag("#"),
            "updateTime": self.update_time,
        }

    def render(self, mask: list[str]) -> dict[str, Any]:
        """The Person JSON with only the ``mask`` fields (a tombstone if deleted)."""
        person: dict[str, Any] = {"resourceName": self.resource_name, "etag": self.etag("%")}
        if self.deleted:
            person["metadata"] = {"sources": [self.source()], "deleted": True}
            return person
        for name in mask:
            if name == "metadata":
                person["metadata"] = {"sources": [self.source()], "objectType": "PERSON"}
            elif self.fields.get(name):
                person[name] = [
                    _decorate(name, item, n, self) for n, item in enumerate(self.fields[name])
                ]
        return person


def _decorate(name: str, item: dict[str, Any], index: int, person: StoredPerson) -> dict[str, Any]:
    """Add what Google adds to each field value: field metadata, display names, formattedType."""
    value = copy.deepcopy(item)
    source = {"type": "CONTACT", "id": person.source_id}
    value.setdefault("metadata", {"primary": index == 0, "source": source})
    if index == 0:
        value["metadata"].setdefault("sourcePrimary", True)
    if name == "names":
        given, family = value.get("givenName", ""), value.get("familyName", "")
        display = value.get("displayName") or " ".join(p for p in (given, family) if p)
        value.setdefault("displayName", display)
        last_first = ", ".join(p for p in (family, given) if p) or display
        value.setdefault("displayNameLastFirst", last_first)
        value.setdefault("unstructuredName", display)
    if name in _TYPED and value.get("type"):
        value.setdefault("formattedType", str(value["type"]).capitalize())
    return value


def _checked_fields(fields: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    unknown = set(fields) - _SETTABLE
    if unknown:
        raise ValueError(f"not People API person fields (or output-only): {sorted(unknown)}")
    checked: dict[str, list[dict[str, Any]]] = {}
    for name, values in fields.items():
        if name in ("resourceName", "etag") or values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            raise ValueError(f"person field {name!r} must be a list of objects")
        checked[name] = copy.deepcopy(values)
    return checked


class AddressBook:
    """A user's contacts and ``people.connections.list`` (callers hold the server lock)."""

    def __init__(
        self, email: str, *, sync: SyncState, ids: random.Random, now: Callable[[], str]
    ) -> None:
        self.email = email
        self.quota = QuotaWindow()
        self._sync = sync
        self._ids = ids
        self._now = now
        self._people: dict[str, StoredPerson] = {}
        self._change = 0

    # -- test set-up -------------------------------------------------------------------------

    def add(self, fields: dict[str, Any]) -> str:
        checked = _checked_fields(fields)
        self._change += 1
        person = StoredPerson(
            self._ids.randrange(10**18, 2**63), checked, self._change, self._now()
        )
        self._people[person.resource_name] = person
        return person.resource_name

    def update(self, resource_name: str, fields: dict[str, Any]) -> None:
        """Replace the given fields (a None value removes the field)."""
        person = self._live(resource_name)
        person.fields.update(_checked_fields(fields))
        for name in [name for name, value in fields.items() if value is None]:
            person.fields.pop(name, None)
        self._touch(person)

    def delete(self, resource_name: str) -> None:
        person = self._live(resource_name)
        person.deleted = True
        person.fields = {}
        self._touch(person)

    def _live(self, resource_name: str) -> StoredPerson:
        person = self._people.get(resource_name)
        if person is None or person.deleted:
            raise KeyError(f"no contact {resource_name!r} for {self.email}")
        return person

    def _touch(self, person: StoredPerson) -> None:
        self._change += 1
        person.changed_at = self._change
        person.update_time = self._now()

    # -- people.connections.list ---------------------------------------------------------------

    def get_batch(self, params: Params) -> dict[str, Any]:
        """``GET v1/people:batchGet``: up to 200 ``resourceNames``, each answered with the
        person (only the ``personFields``) or its own 404 status."""
        mask = _mask(params)
        names = params.get("resourceNames", [])
        if not names or len(names) > 200:
            raise people_error(
                400, "INVALID_ARGUMENT", "resourceNames must hold between 1 and 200 names."
            )
        responses = []
        for name in names:
            person = self._people.get(name)
            if person is None or person.deleted:
                responses.append(
                    {
                        "requestedResourceName": name,
                        "httpStatusCode": 404,
                        "status": {"code": 5, "message": "Requested entity was not found."},
                    }
                )
            else:
                responses.append(
                    {
                        "requestedResourceName": name,
                        "httpStatusCode": 200,
                        "person": person.render(mask),
                        "status": {},
                    }
                )
        return {"responses": responses}

    def list_connections(self, resource_name: str, params: Params) -> dict[str, Any]:
        """``GET v1/people/me/connections``: full or incremental (``syncToken``) listing."""
        if resource_name != "people/me":
            raise people_error(400, "INVALID_ARGUMENT", "Only people/me is valid.")
        mask = _mask(params)
        size = _page_size(params)
        order = first(params, "sortOrder", SORT_ORDERS[0])
        if order not in SORT_ORDERS:
            raise people_error(400, "INVALID_ARGUMENT", f"Invalid value at 'sort_order' ({order})")
        for source in params.get("sources", []):
            if source not in READ_SOURCES:
                raise people_error(
                    400, "INVALID_ARGUMENT", f"Invalid value at 'sources' ({source})"
                )
        if token := first(params, "pageToken"):
            try:
                number, offset = self._sync.resume(token, "people", self.email)
            except PageTokenError as exc:
                raise people_error(400, "INVALID_ARGUMENT", str(exc)) from None
            if self._sync.snapshot(number).fingerprint != fingerprint(params):
                message = (
                    "Request parameters must match the request that returned the page token "
                    "(everything but pageToken)."
                )
                raise people_error(400, "INVALID_ARGUMENT", message)
        else:
            number, offset = self._sync.open(self._snapshot(params, mask, order)), 0
        page, next_page, next_sync = self._sync.page(number, offset, size)
        body: dict[str, Any] = {}
        if page:
            body["connections"] = page
        if next_page:
            body["nextPageToken"] = next_page
        if next_sync:
            body["nextSyncToken"] = next_sync
        body["totalPeople"] = body["totalItems"] = len(self._sync.snapshot(number).items)
        return body

    def _snapshot(self, params: Params, mask: list[str], order: str) -> Snapshot:
        sync_token = first(params, "syncToken")
        if sync_token:
            since = self._sync.read_sync_token(sync_token, "people", self.email)
            if since is None:
                raise expired_sync_token()
            chosen = sorted(
                (p for p in self._people.values() if p.changed_at > since),
                key=lambda p: p.changed_at,
            )
        else:
            chosen = _sorted([p for p in self._people.values() if not p.deleted], order)
        # A sync request always yields the next token; a full listing only when asked to.
        wants_token = bool(sync_token) or flag(params, "requestSyncToken")
        point = SyncPoint("people", self._change) if wants_token else None
        items = [person.render(mask) for person in chosen]
        return Snapshot(self.email, "people", fingerprint(params), items, point)


def _mask(params: Params) -> list[str]:
    text = first(params, "personFields")
    if not text and (legacy := first(params, "requestMask.includeField")):
        text = ",".join(path.strip().removeprefix("person.") for path in legacy.split(","))
    paths = [path.strip() for path in text.split(",") if path.strip()]
    if not paths:
        message = (
            f"personFields mask is required. Please specify one or more valid paths. {_MASK_HELP}"
        )
        raise people_error(400, "INVALID_ARGUMENT", message)
    for path in paths:
        if path not in PERSON_FIELDS:
            message = f'Invalid personFields mask path: "{path}". {_MASK_HELP}'
            raise people_error(400, "INVALID_ARGUMENT", message)
    return list(dict.fromkeys(paths))


def _page_size(params: Params) -> int:
    text = first(params, "pageSize", "0")
    try:
        size = int(text)
    except ValueError:
        raise people_error(
            400, "INVALID_ARGUMENT", f"Invalid value at 'page_size' ({text})"
        ) from None
    if not 0 <= size <= 1000:
        raise people_error(400, "INVALID_ARGUMENT", "pageSize must be between 1 and 1000.")
    return size or 100


def _sorted(people: list[StoredPerson], order: str) -> list[StoredPerson]:
    if order == "FIRST_NAME_ASCENDING":
        return sorted(people, key=lambda p: (p.sort_names[0].casefold(), p.number))
    if order == "LAST_NAME_ASCENDING":
        return sorted(people, key=lambda p: (p.sort_names[1].casefold(), p.number))
    return sorted(people, key=lambda p: p.changed_at, reverse=order == "LAST_MODIFIED_DESCENDING")
