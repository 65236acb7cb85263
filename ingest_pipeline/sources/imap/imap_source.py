"""Any IMAP server as a mail source (Dovecot, iCloud, Fastmail, Yahoo, Zoho, Exchange...).

Each message is windowed on the server's INTERNALDATE, its receipt time (the same rule as
every mail source): enumerate asks ``SEARCH SINCE <day before> BEFORE <day after>`` (IMAP
dates have no time or zone), then keeps the messages whose INTERNALDATE falls in the
partition's UTC day. A message is keyed by its folder, the folder's UIDVALIDITY and its
UID, written as an IMAP URL tail: ``INBOX;UIDVALIDITY=1796647617/;UID=42``. When the
server renumbers a folder (a new UIDVALIDITY), its messages are listed again under new keys
and the old keys end skipped; the message rows do not double, since a message is stored
once under its own key (Message-ID or content).

Folders are opened read-only (``EXAMINE``) and bodies read with ``BODY.PEEK[]``, so
importing never marks mail as read. The change probe is each folder's ``STATUS`` (UIDNEXT,
MESSAGES, UIDVALIDITY): new mail raises UIDNEXT, a deletion lowers MESSAGES; flags do not
count.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window
from ingest_pipeline.sources.base import SourceError, SourceLimits, require_window
from ingest_pipeline.sources.imap.imap_connection import ImapEndpoint, connect

PAGE_SIZE = 200
FETCH_BATCH = 50
DATE_CHUNK = 500


def message_key(folder: str, uidvalidity: int, uid: int) -> str:
    return f"{folder};UIDVALIDITY={uidvalidity}/;UID={uid}"


def parse_key(key: str) -> tuple[str, int, int]:
    """``(folder, uidvalidity, uid)`` of a `message_key`; ValueError for anything else."""
    folder, _, rest = key.rpartition(";UIDVALIDITY=")
    validity, _, uid = rest.partition("/;UID=")
    if not folder or not validity.isdigit() or not uid.isdigit():
        raise ValueError(f"{key!r} is not an IMAP message key")
    return folder, int(validity), int(uid)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class ImapSource:
    """Reads the messages of one account's folders on an IMAP server."""

    streams = frozenset({"mail"})
    limits = SourceLimits(fetch_batch_size=FETCH_BATCH, max_concurrency=1)

    def __init__(
        self,
        endpoint: ImapEndpoint,
        user: str,
        credentials: dict[str, Any],
        *,
        folders: Sequence[str] = ("INBOX",),
        sync_state: dict[str, Any] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.user = user
        self.folders = tuple(folders) or ("INBOX",)
        self._credentials = credentials
        self._client: IMAPClient | None = None
        self._validity: dict[str, int] = dict((sync_state or {}).get("uidvalidity") or {})

    # -- the Source contract ------------------------------------------------------------------

    def check(self) -> None:
        """Log in and open every folder; a missing one is named with those that exist."""
        client = self._connection()
        existing = [name for _flags, _sep, name in client.list_folders()]
        for folder in self.folders:
            if folder not in existing:
                raise SourceError(
                    f"no folder {folder!r} for {self.user} on {self.endpoint.address}; "
                    f"its folders: {', '.join(existing)}"
                )
            self._examine(folder)

    def sync_state(self) -> dict[str, Any] | None:
        """Each folder's UIDVALIDITY as last seen (a change re-keys the folder)."""
        return {"uidvalidity": dict(self._validity)} if self._validity else None

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        """Per folder, the messages whose INTERNALDATE is in the window, by UID; the cursor
        is the folder and the last UID listed."""
        window = require_window(window, what="IMAP mail")
        start = json.loads(cursor) if cursor else {"folder": 0, "after": 0}
        for index, folder in enumerate(self.folders):
            if index < start["folder"]:
                continue
            after = start["after"] if index == start["folder"] else 0
            refs = [r for r in self._listed(folder, window) if parse_key(r.external_id)[2] > after]
            for offset in range(0, len(refs), PAGE_SIZE):
                chunk = refs[offset : offset + PAGE_SIZE]
                last = parse_key(chunk[-1].external_id)[2]
                yield Page(chunk, json.dumps({"folder": index, "after": last}))

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        """Each message's bytes with ``BODY.PEEK[]`` (never marks it read); a message gone
        since it was listed, or listed before its folder was renumbered, ends skipped."""
        by_folder: dict[str, list[tuple[int, int, str]]] = {}
        for ref in refs:
            try:
                folder, validity, uid = parse_key(ref.external_id)
            except ValueError as exc:
                yield FetchError(ref.external_id, str(exc))
                continue
            by_folder.setdefault(folder, []).append((validity, uid, ref.external_id))
        for folder, wanted in by_folder.items():
            yield from self._fetch_folder(folder, wanted)

    def probe_signature(self) -> str:
        """Each folder's UIDNEXT, MESSAGES and UIDVALIDITY (one STATUS per folder)."""
        client = self._connection()
        parts = []
        for folder in self.folders:
            status = client.folder_status(folder, [b"UIDNEXT", b"MESSAGES", b"UIDVALIDITY"])
            parts.append(
                f"{folder}:{status.get(b'UIDVALIDITY', 0)}:{status.get(b'UIDNEXT', 0)}:"
                f"{status.get(b'MESSAGES', 0)}"
            )
        return "|".join(parts)

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(IMAPClientError, OSError):
                self._client.logout()
            self._client = None

    # -- helpers ------------------------------------------------------------------------------

    def _connection(self) -> IMAPClient:
        if self._client is None:
            self._client = connect(self.endpoint, self.user, self._credentials)
        return self._client

    def _examine(self, folder: str) -> int:
        """Open ``folder`` read-only; its UIDVALIDITY (kept for `sync_state`)."""
        selected = self._connection().select_folder(folder, readonly=True)
        self._validity[folder] = int(selected[b"UIDVALIDITY"])
        return self._validity[folder]

    def _listed(self, folder: str, window: Window) -> list[ItemRef]:
        validity = self._examine(folder)
        client = self._connection()
        since = window.start.date() - dt.timedelta(days=1)
        before = window.end.date() + dt.timedelta(days=1)
        uids = sorted(client.search(["SINCE", since, "BEFORE", before]))
        refs = []
        for offset in range(0, len(uids), DATE_CHUNK):
            chunk = uids[offset : offset + DATE_CHUNK]
            for uid, data in sorted(client.fetch(chunk, [b"INTERNALDATE"]).items()):
                received = _utc(data[b"INTERNALDATE"])
                if window.contains(received):
                    refs.append(ItemRef(message_key(folder, validity, uid), received))
        return refs

    def _fetch_folder(
        self, folder: str, wanted: list[tuple[int, int, str]]
    ) -> Iterator[RawItem | FetchError]:
        try:
            validity = self._examine(folder)
        except (IMAPClientError, OSError) as exc:
            self._client = None
            for _validity, _uid, key in wanted:
                yield FetchError(key, f"IMAP folder {folder!r}: {exc}", retryable=True)
            return
        current = [(uid, key) for v, uid, key in wanted if v == validity]
        for v, _uid, key in wanted:
            if v != validity:
                yield FetchError(
                    key,
                    f"the server renumbered {folder!r} (UIDVALIDITY {v} is now {validity}); "
                    "its messages are listed again under their new keys",
                    skip=True,
                )
        for offset in range(0, len(current), FETCH_BATCH):
            batch = current[offset : offset + FETCH_BATCH]
            try:
                if self._client is None:  # reconnected after an error: open the folder again
                    self._examine(folder)
                answer = self._connection().fetch(
                    [uid for uid, _ in batch], [b"BODY.PEEK[]", b"INTERNALDATE"]
                )
            except (IMAPClientError, OSError) as exc:
                self._client = None  # reconnect for the next batch
                for _uid, key in batch:
                    yield FetchError(key, f"IMAP fetch from {folder!r}: {exc}", retryable=True)
                continue
            for uid, key in batch:
                data = answer.get(uid)
                if data is None or data.get(b"BODY[]") is None:
                    yield FetchError(
                        key,
                        f"no longer in {folder!r}: deleted or moved since it was listed",
                        skip=True,
                    )
                    continue
                yield RawItem(key, bytes(data[b"BODY[]"]), _utc(data[b"INTERNALDATE"]))
