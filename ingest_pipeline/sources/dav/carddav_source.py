"""CardDAV address books as a source of the contacts stream.

The account's address books are discovered from its principal (``addressbook-home-set``),
all of them or those named in the options. The first run lists each book with
``sync-collection`` from an empty token (every card and its etag) and saves each book's new
token on the integration (``carddav_sync``: book path → token); later runs list only what
changed since: new and edited cards with their new etags, deleted ones (404 in the answer)
with the version ``removed``, fetched as a tombstone without a request, which marks the
contact deleted. A token the server refuses (``valid-sync-token``) lists that book in full
again, with a note in the metrics; a book without sync support is listed by PROPFIND every
time. A listing in which every book was listed in full is complete (``listing_complete``),
so the enumerate step marks whatever it lacks as removed (a book deleted on the server).

A card's key is its path on the server (``/ann/contacts/4f1c.vcf``): the one name a sync
answer gives a deleted card. Its version is the etag. Fetch reads cards with
``addressbook-multiget``, 100 a request; the bytes are the vCard as stored, parsed like the
vCard provider's. The change probe reads each book's sync token (or ctag) in one PROPFIND.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from ingest_pipeline.domain import REMOVED, FetchError, ItemRef, Page, RawItem, Window, tombstone
from ingest_pipeline.sources.base import SourceLimits
from ingest_pipeline.sources.dav.carddav_client import (
    AddressBook,
    CardDavClient,
    Member,
    SyncNotOffered,
    SyncTokenRefused,
)
from ingest_pipeline.sources.dav.dav_endpoint import (
    DavEndpoint,
    bounded_id,
    chosen_collections,
    collections_signature,
    password_of,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 500
SYNC_STATE_KEY = "carddav_sync"


class CardDavSource:
    """The address books of one CardDAV account."""

    streams = frozenset({"contacts"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(
        self,
        endpoint: DavEndpoint,
        user: str,
        credentials: dict[str, Any] | None,
        *,
        address_books: Sequence[str] = (),
        sync_state: dict[str, Any] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.user = user
        self._password = password_of(credentials, what="CardDAV")
        self.wanted = tuple(address_books)
        self._client: CardDavClient | None = None
        self._books: list[AddressBook] | None = None
        self._tokens: dict[str, str] = dict((sync_state or {}).get(SYNC_STATE_KEY) or {})
        self._paths: dict[str, str] = {}
        self.notes: list[str] = []
        self.listing_complete = False

    # -- Source ---------------------------------------------------------------------------

    def check(self) -> None:
        """Sign in and discover the address books; `SourceError` when there is none."""
        self._discovered()

    def sync_state(self) -> dict[str, Any]:
        """Each address book's sync token, for the next run's changes."""
        return {SYNC_STATE_KEY: dict(self._tokens)}

    def probe_signature(self) -> str:
        """Each book's path and sync token (or ctag, or a hash of its cards' etags)."""
        tokens = []
        for book in self._discovered():
            token = book.sync_token or book.ctag
            if not token:
                etags = sorted((m.path, m.etag) for m in self._connection().etags(book))
                token = "etags:" + collections_signature(etags)
            tokens.append((book.path, token))
        return collections_signature(tokens)

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        """Pages of each book's cards (changed since its token, or all) by path, book by
        book; the cursor is the book and the number of its cards already listed."""
        books = self._discovered()
        state = json.loads(cursor) if cursor else {"book": 0, "offset": 0}
        if not cursor:
            gone = set(self._tokens) - {b.path for b in books}
            if gone:
                # A book deleted on the server: list everything, so its cards are removed.
                self.notes.append(f"address book(s) {', '.join(sorted(gone))} gone; listed all")
                self._tokens = {}
        complete = not cursor and not self._tokens
        for index in range(int(state["book"]), len(books)):
            members = sorted(self._members(books[index]), key=lambda m: m.path)
            offset = int(state["offset"]) if index == int(state["book"]) else 0
            while True:
                chunk = members[offset : offset + PAGE_SIZE]
                offset += len(chunk)
                last = offset >= len(members)
                position = (
                    {"book": index + 1, "offset": 0} if last else {"book": index, "offset": offset}
                )
                yield Page(items=[self._ref(m) for m in chunk], cursor=json.dumps(position))
                if last:
                    break
        self.listing_complete = complete

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        """Each card's vCard (a tombstone for a removed one), read by multiget per book."""
        wanted: dict[str, list[str]] = defaultdict(list)
        books = [b.path for b in self._discovered()]
        for ref in refs:
            if ref.version == REMOVED:
                yield tombstone(ref.external_id)
                continue
            path = self._path_of(ref.external_id)
            book = path.rsplit("/", 1)[0] + "/"
            if book not in books:
                reason = f"{path!r} is not a card of {self.user}'s address books on the server"
                yield FetchError(ref.external_id, reason)
                continue
            wanted[book].append(path)
        by_path = {self._path_of(r.external_id): r for r in refs if r.version != REMOVED}
        for book_path, paths in wanted.items():
            answers = self._connection().multiget(book_path, paths)
            for path in paths:
                ref = by_path[path]
                answer = answers.get(path)
                if isinstance(answer, bytes):
                    yield RawItem(ref.external_id, answer)
                elif answer == 404:
                    reason = f"card {path} is no longer on the CardDAV server"
                    yield FetchError(ref.external_id, reason)
                else:
                    reason = f"the CardDAV server gave no card for {path} ({answer}); will retry"
                    yield FetchError(ref.external_id, reason, retryable=True)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- helpers --------------------------------------------------------------------------

    def _members(self, book: AddressBook) -> list[Member]:
        """The book's cards changed since its token (all without one); saves the new token."""
        token = self._tokens.get(book.path, "")
        client = self._connection()
        if not book.sync_token:
            return client.etags(book)
        try:
            return self._sync(client, book, token)
        except SyncTokenRefused:
            note = f"CardDAV sync token of {book.path} refused; listed the book in full again"
            log.warning(note)
            self.notes.append(note)
            return self._sync(client, book, "")
        except SyncNotOffered:
            self._tokens.pop(book.path, None)
            return client.etags(book)

    def _sync(self, client: CardDavClient, book: AddressBook, token: str) -> list[Member]:
        members: dict[str, Member] = {}
        while True:
            answer = client.sync(book, token)
            for member in answer.members:
                members[member.path] = member
            token = answer.token or token
            if not answer.truncated or not answer.token:
                break
        if token:
            self._tokens[book.path] = token
        return list(members.values())

    def _ref(self, member: Member) -> ItemRef:
        key = bounded_id(member.path)
        self._paths[key] = member.path
        return ItemRef(key, version=REMOVED if member.removed else member.etag)

    def _path_of(self, key: str) -> str:
        """The card's path: its key, unless the path was too long and the key is its hash
        (then the books are listed again to find it)."""
        if key in self._paths or not key.startswith("sha256:"):
            return self._paths.get(key, key)
        for book in self._discovered():
            for member in self._connection().etags(book):
                self._paths[bounded_id(member.path)] = member.path
        return self._paths.get(key, key)

    def _discovered(self) -> list[AddressBook]:
        if self._books is None:
            self._books = chosen_collections(
                self._connection().address_books(),
                self.wanted,
                kind="address book",
                user=self.user,
                url=self.endpoint.url,
            )
        return self._books

    def _connection(self) -> CardDavClient:
        if self._client is None:
            self._client = CardDavClient(self.endpoint, self.user, self._password)
        return self._client
