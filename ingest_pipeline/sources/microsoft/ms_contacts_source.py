"""Microsoft (Outlook) contacts through Graph, as a source of the contacts stream.

Enumerate follows each contact folder's delta query (the default folder's
``/contacts/delta`` and every ``/contactFolders/{id}/contacts/delta``): the first run lists
every contact and saves each folder's ``@odata.deltaLink`` on the integration; later runs
list only contacts created, changed or removed since. A contact's ``changeKey`` is its
version, so an edited contact is imported again; a removed one (``@removed``) is listed with
the version ``removed`` and fetched as Graph's tombstone without a call, which marks it
deleted. An expired delta link (410 ``syncStateNotFound``) lists that folder in full again,
with a note in the metrics.

The change probe (`probe_signature`) asks each folder, in one request, for its contact count
and the contact modified last: an added, edited or removed contact in any folder changes it.

Fetch reads each contact's JSON (``GET /contacts/{id}``) in ``$batch`` requests of at most
20, asking again for throttled parts after their ``Retry-After``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from ingest_pipeline.domain import (
    REMOVED,
    FetchError,
    ItemRef,
    Page,
    RawItem,
    Window,
    sha256_hex,
    tombstone,
)
from ingest_pipeline.sources.base import SourceLimits
from ingest_pipeline.sources.microsoft.graph_client import GraphError, PartAnswer
from ingest_pipeline.sources.microsoft.graph_mailbox import (
    GraphAccount,
    check_access,
    connect,
    delta_pages,
    is_expired_delta,
)

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "default"
CONTACT_FIELDS = (
    "id,changeKey,displayName,givenName,surname,emailAddresses,businessPhones,homePhones,"
    "mobilePhone,companyName,jobTitle"
)


class MicrosoftContactsSource:
    """Every contact folder of one Outlook mailbox."""

    streams = frozenset({"contacts"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(
        self,
        account: GraphAccount,
        *,
        sync_state: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account = account
        self.client, self.user_path = connect(account, sleep=sleep)
        self._sleep = sleep
        self._state = dict(sync_state or {})
        self.notes: list[str] = []
        self.requests_retried = 0
        self.listing_complete = False

    def check(self) -> None:
        self.profile()

    def profile(self) -> dict[str, Any]:
        return check_access(self.client, self.user_path)

    def sync_state(self) -> dict[str, Any]:
        """Each folder's delta link (``contacts_delta``: folder → link)."""
        return dict(self._state)

    def probe_signature(self) -> str:
        """Each folder's contact count and the id, time and ``changeKey`` of its contact
        modified last (the folder listing, then one ``$top=1`` request per folder, newest
        first, with ``$count``): a contact added, edited or removed in any folder changes
        it. Nothing saved by runs (delta links) goes into it."""
        parts = []
        for folder in sorted(self._folders()):
            listing = self.client.get(
                f"{self._folder_base(folder)}/contacts",
                {
                    "$top": "1",
                    "$orderby": "lastModifiedDateTime desc",
                    "$select": "id,lastModifiedDateTime,changeKey",
                    "$count": "true",
                },
            )
            newest = (listing.get("value") or [{}])[0]
            parts.append(
                f"{folder}:{listing.get('@odata.count', '')}:{newest.get('id', '')}:"
                f"{newest.get('lastModifiedDateTime', '')}:{newest.get('changeKey', '')}"
            )
        return "|".join(parts)

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        state = json.loads(cursor) if cursor else {}
        if state.get("done"):
            return
        folders = state.get("folders") or self._folders()
        links: dict[str, str] = dict(self._state.get("contacts_delta") or {})
        # Complete when every folder is listed from scratch (no saved delta link followed).
        complete = not cursor and not links
        for index in range(int(state.get("folder", 0)), len(folders)):
            folder = folders[index]
            resume = state.get("next") if index == state.get("folder") else None
            try:
                yield from self._folder_pages(folders, index, links, resume)
            except GraphError as exc:
                if not is_expired_delta(exc):
                    raise
                note = f"Outlook contacts delta for folder {folder!r} expired; listed it in full"
                log.warning(note)
                self.notes.append(note)
                links.pop(folder, None)
                yield from self._folder_pages(folders, index, links, None)
            self._state["contacts_delta"] = dict(links)
        self.listing_complete = complete

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        pending: deque[str] = deque()
        for ref in refs:
            if ref.version == REMOVED:
                yield tombstone(ref.external_id)
            else:
                pending.append(ref.external_id)
        attempts: dict[str, int] = {}
        limits = self.account.limits
        while pending:
            ids = [pending.popleft() for _ in range(min(limits.batch_size, len(pending)))]
            answers = self.client.batch(
                [
                    f"{self.user_path}/contacts/{quote(i, safe='')}?$select={CONTACT_FIELDS}"
                    for i in ids
                ]
            )
            pause = 0.0
            for number, contact_id in enumerate(ids):
                answer = answers.get(number)
                if isinstance(answer, PartAnswer) and answer.status == 200:
                    yield RawItem(contact_id, _contact_bytes(answer.body))
                    continue
                error = answer.error() if isinstance(answer, PartAnswer) else answer
                if isinstance(error, GraphError) and error.status == 404:
                    # Removed since the listing: the next delta reports it as removed.
                    reason = "the contact no longer exists in Outlook (removed since listed)"
                    yield FetchError(contact_id, reason)
                    continue
                if isinstance(error, GraphError) and not (error.transient or error.status == 401):
                    yield FetchError(
                        contact_id, f"Outlook answered {error.status} {error.code}: {error.message}"
                    )
                    continue
                if isinstance(error, GraphError) and error.status == 401:
                    self.client.tokens.invalidate()
                attempts[contact_id] = attempts.get(contact_id, 0) + 1
                if attempts[contact_id] >= limits.max_attempts:
                    yield FetchError(
                        contact_id,
                        f"Outlook kept refusing the contact ({error}); will retry",
                        retryable=True,
                    )
                    continue
                self.requests_retried += 1
                pending.append(contact_id)
                pause = max(pause, self.client.backoff(attempts[contact_id], error))
            if pause:
                self.client.penalize(pause)
                self._sleep(pause)

    def _folders(self) -> list[str]:
        """The default folder, then every named contact folder's id."""
        folders = [DEFAULT_FOLDER]
        for values, _, _ in delta_pages(
            self.client, f"{self.user_path}/contactFolders", {"$select": "id", "$top": "100"}
        ):
            folders.extend(str(v["id"]) for v in values if v.get("id"))
        return folders

    def _folder_base(self, folder: str) -> str:
        """The path a folder's ``/contacts`` hangs off (the mailbox's for the default)."""
        if folder == DEFAULT_FOLDER:
            return self.user_path
        return f"{self.user_path}/contactFolders/{quote(folder, safe='')}"

    def _folder_pages(
        self, folders: list[str], index: int, links: dict[str, str], resume: str | None
    ) -> Iterator[Page[ItemRef]]:
        folder = folders[index]
        params: dict[str, str] | None = None
        if resume:
            start = resume
        elif links.get(folder):
            start = links[folder]
        else:
            start = f"{self._folder_base(folder)}/contacts/delta"
            params = {"$select": CONTACT_FIELDS}
        for values, next_link, delta_link in delta_pages(self.client, start, params):
            if delta_link:
                links[folder] = str(delta_link)
            last = not next_link and index == len(folders) - 1
            cursor = json.dumps(
                {
                    "folders": folders,
                    "folder": index if next_link else index + 1,
                    "next": next_link,
                    "done": last,
                }
            )
            yield Page(items=[_ref(v) for v in values if v.get("id")], cursor=cursor)


def _ref(value: dict[str, Any]) -> ItemRef:
    if "@removed" in value:
        return ItemRef(external_id=str(value["id"]), version=REMOVED)
    version = (
        value.get("changeKey")
        or value.get("@odata.etag")
        or sha256_hex(json.dumps(value, sort_keys=True).encode("utf-8"))
    )
    return ItemRef(external_id=str(value["id"]), version=str(version))


def _contact_bytes(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    return json.dumps(body, sort_keys=True).encode("utf-8")
