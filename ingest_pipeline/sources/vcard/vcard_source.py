"""vCard address books on disk as a source of contacts: one file, or a folder of them.

Contacts are a snapshot stream: each listing is every card the files hold now, and a card's
``version`` is the hash of its bytes, so an edited card is imported again. A card's id is
``uid:<UID>`` when it has a UID (it survives edits and moves between files), else
``sha256:<hash of its bytes>``. Ids are unique within a listing: a UID or an identical card
seen again gets ``#2``, ``#3``... in listing order (files by path, cards in file order), so
no card is lost when an export repeats one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window, sha256_hex
from ingest_pipeline.sources.base import SourceError, SourceLimits
from ingest_pipeline.sources.file_signature import files_signature
from ingest_pipeline.sources.vcard.card_splitter import card_spans, read_uid

PAGE_SIZE = 500
EXTENSIONS = frozenset({".vcf", ".vcard"})
# The ledger's external_id column holds 255 characters; longer UIDs are hashed.
MAX_UID_LENGTH = 200
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class _Entry:
    """One listed card: its id, the file and byte range it sits in, and its content hash."""

    external_id: str
    file: Path
    start: int
    end: int
    version: str


@dataclass
class _Index:
    """Every card the files held when they were read, in listing order.

    ``signature`` is the files' sizes and mtimes at that moment; ``unreadable`` maps a file
    that could not be read to the reason; ``missing`` says the path itself was gone.
    """

    entries: dict[str, _Entry] = field(default_factory=dict)
    signature: str = ""
    unreadable: dict[Path, str] = field(default_factory=dict)
    missing: bool = False


def _base_id(card: bytes) -> str:
    uid = read_uid(card)
    if uid is None:
        return f"sha256:{sha256_hex(card)}"
    if len(uid) > MAX_UID_LENGTH:
        return f"uid-sha256:{sha256_hex(uid.encode('utf-8'))}"
    return f"uid:{uid}"


def _unique(base: str, taken: dict[str, _Entry]) -> str:
    if base not in taken:
        return base
    number = 2
    while f"{base}#{number}" in taken:
        number += 1
    return f"{base}#{number}"


class VCardSource:
    """Reads the cards of a ``.vcf``/``.vcard`` file, or of every such file under a folder."""

    streams = frozenset({"contacts"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._cached: _Index | None = None
        self.listing_complete = False

    def check(self) -> None:
        """Raise `SourceError` when the path is missing, unreadable, or holds no vCard."""
        self._checked_index()

    def _checked_index(self) -> _Index:
        index = self._read_index()
        if index.missing:
            raise SourceError(f"vCard path {str(self.path)!r} does not exist")
        if index.unreadable:
            file, reason = next(iter(index.unreadable.items()))
            raise SourceError(f"cannot read {str(file)!r}: {reason}")
        if not index.entries:
            raise SourceError(self._no_cards_message())
        return index

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        """Pages of every card, in listing order; ``window`` is ignored (a snapshot).

        The cursor is the number of cards already listed. The listing is always the whole
        address book (``listing_complete``): a card gone from the files was removed.
        """
        offset = self._parse_cursor(cursor)
        entries = list(self._checked_index().entries.values())
        while offset < len(entries):
            chunk = entries[offset : offset + PAGE_SIZE]
            offset += len(chunk)
            yield Page(
                items=[ItemRef(external_id=e.external_id, version=e.version) for e in chunk],
                cursor=str(offset),
            )
        self.listing_complete = True

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        """The bytes of each listed card as the files hold it now."""
        index = self._index()
        # Refs arrive in listing order, so keeping the last file read is enough.
        last: tuple[Path, bytes | str] | None = None
        for ref in refs:
            entry = index.entries.get(ref.external_id)
            if entry is None:
                yield FetchError(ref.external_id, self._gone_reason(ref.external_id, index))
                continue
            if last is None or last[0] != entry.file:
                try:
                    last = (entry.file, entry.file.read_bytes())
                except OSError as exc:
                    last = (entry.file, exc.strerror or str(exc))
            content = last[1]
            if isinstance(content, str):
                reason = f"cannot read {str(entry.file)!r}: {content}"
                yield FetchError(ref.external_id, reason)
                continue
            data = content[entry.start : entry.end]
            if sha256_hex(data) != entry.version:
                # The file changed after it was indexed but kept its size and mtime; drop
                # the index so the next call reads the files again.
                self._cached = None
                reason = f"{str(entry.file)!r} changed while it was read"
                yield FetchError(ref.external_id, reason, retryable=True)
                continue
            yield RawItem(external_id=entry.external_id, data=data)

    def sync_state(self) -> dict[str, Any] | None:
        """vCard files keep no sync token: every listing is a full snapshot."""
        return None

    def probe_signature(self) -> str:
        """A cheap fingerprint of the files (paths, sizes, mtimes); it changes when they do."""
        if not self.path.exists():
            raise SourceError(f"vCard path {str(self.path)!r} does not exist")
        return self._signature(self._files())

    def _index(self) -> _Index:
        """The cached index, read again when the files' signature changed since."""
        if self._cached is not None and self.path.exists():
            try:
                current = self._signature(self._files())
            except OSError:
                current = ""
            if current == self._cached.signature:
                return self._cached
        return self._read_index()

    def _read_index(self) -> _Index:
        index = _Index()
        if not self.path.exists():
            index.missing = True
            self._cached = index
            return index
        try:
            files = self._files()
            index.signature = self._signature(files)
        except OSError as exc:
            index.unreadable[self.path] = exc.strerror or str(exc)
            files = []
        for file in files:
            try:
                data = file.read_bytes()
            except OSError as exc:
                index.unreadable[file] = exc.strerror or str(exc)
                continue
            for span in card_spans(data):
                card = data[span.start : span.end]
                external_id = _unique(_base_id(card), index.entries)
                index.entries[external_id] = _Entry(
                    external_id, file, span.start, span.end, sha256_hex(card)
                )
        self._cached = index
        return index

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if not os.access(self.path, os.R_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(self.path))
        found = [
            item
            for item in self.path.rglob("*")
            # A name starting with "." is hidden, e.g. macOS "._x.vcf" resource forks.
            if item.suffix.lower() in EXTENSIONS
            and not item.name.startswith(".")
            and item.is_file()
        ]
        return sorted(found, key=lambda item: item.relative_to(self.path).as_posix())

    @staticmethod
    def _signature(files: Sequence[Path]) -> str:
        return files_signature(files)

    def _no_cards_message(self) -> str:
        where = repr(str(self.path))
        if self.path.is_dir():
            count = len(self._files())
            if count == 0:
                return f"folder {where} holds no .vcf or .vcard file"
            return f"folder {where} holds no vCard: none of its {count} files has BEGIN:VCARD"
        with self.path.open("rb") as handle:
            head = handle.read(2)
        if head in _UTF16_BOMS:
            return f"{where} is UTF-16 text; export the address book as UTF-8 vCards"
        return f"{where} holds no vCard (no BEGIN:VCARD line)"

    def _gone_reason(self, external_id: str, index: _Index) -> str:
        reason = f"card {external_id} is no longer in {self.path}"
        if index.missing:
            return f"{reason} (the path does not exist)"
        if index.unreadable:
            file, why = next(iter(index.unreadable.items()))
            return f"{reason} (cannot read {str(file)!r}: {why})"
        return reason

    @staticmethod
    def _parse_cursor(cursor: str | None) -> int:
        if not cursor:
            return 0
        try:
            offset = int(cursor)
        except ValueError:
            offset = -1
        if offset < 0:
            raise SourceError(f"vCard cursor {cursor!r} is not a count of cards listed")
        return offset
