"""Local mailboxes as a source: an mbox file, a Maildir, or a folder of ``.eml`` files.

Each message is windowed on its *receipt* time, as a provider defines it (Gmail's
internalDate): the mbox ``From `` line, the Maildir delivery time (the leading timestamp of
its file name, else the file's modification time), or a ``.eml`` file's modification time.
The ``Date`` header never decides the day, so a message with a garbage or false Date still
lands in exactly one day.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window, sha256_hex
from ingest_pipeline.sources.base import SourceError, SourceLimits, require_window
from ingest_pipeline.sources.file_signature import files_signature
from ingest_pipeline.sources.mailbox.mbox_reader import BOM, from_line_time, read_span, scan_mbox

PAGE_SIZE = 200
_MAILDIR_TIME = re.compile(r"^(\d{9,11})(?:\.|$)")


@dataclass(frozen=True)
class _Entry:
    """One message found in the mailbox: its id, receipt time and how to read its bytes."""

    external_id: str
    received_at: dt.datetime
    locator: str


class MailboxChanged(Exception):
    """The mbox was rewritten between listing and reading; reading again will work."""


def _utc_from_timestamp(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, tz=dt.UTC)


class MailboxSource:
    """Reads messages from a local mailbox path (mbox, Maildir or ``.eml`` folder)."""

    streams = frozenset({"mail"})
    limits = SourceLimits(fetch_batch_size=200, max_concurrency=1)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._entries: dict[str, _Entry] | None = None
        self._signature: tuple[int, int] | None = None

    @property
    def kind(self) -> str:
        """``mbox``, ``maildir`` or ``eml``; raises `SourceError` when the path is none of them."""
        if self.path.is_file():
            return "mbox"
        if self.path.is_dir():
            if (self.path / "cur").is_dir() and (self.path / "new").is_dir():
                return "maildir"
            return "eml"
        raise SourceError(f"mailbox path {str(self.path)!r} does not exist")

    def check(self) -> None:
        kind = self.kind
        if not os.access(self.path, os.R_OK):
            raise SourceError(
                f"mailbox path {str(self.path)!r} is not readable (permission denied)"
            )
        if kind == "mbox":
            try:
                with self.path.open("rb") as handle:
                    head = handle.read(len(BOM) + 5).removeprefix(BOM)[:5]
            except OSError as exc:
                raise SourceError(f"cannot read mbox {str(self.path)!r}: {exc.strerror}") from exc
            if head and head != b"From ":
                raise SourceError(
                    f"{str(self.path)!r} is a file but not an mbox (it must start with 'From ')"
                )
        elif kind == "eml":
            try:
                next(iter(os.scandir(self.path)), None)
            except OSError as exc:
                raise SourceError(f"cannot list {str(self.path)!r}: {exc.strerror}") from exc

    def sync_state(self) -> dict[str, Any] | None:
        """A local mailbox keeps no provider state: each day is listed from the files."""
        return None

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        """Pages of the messages received in ``window``, by receipt time then id.

        The cursor is the number of in-window messages already listed.
        """
        window = require_window(window, what="a mailbox")
        entries = sorted(
            (e for e in self._index().values() if window.contains(e.received_at)),
            key=lambda e: (e.received_at, e.external_id),
        )
        offset = int(cursor) if cursor else 0
        while offset < len(entries):
            chunk = entries[offset : offset + PAGE_SIZE]
            offset += len(chunk)
            yield Page(
                items=[
                    ItemRef(external_id=e.external_id, received_at=e.received_at) for e in chunk
                ],
                cursor=str(offset),
            )

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        index = self._index()
        for ref in refs:
            entry = index.get(ref.external_id)
            if entry is None:
                yield FetchError(ref.external_id, "message is no longer in the mailbox")
                continue
            try:
                data = self._read(entry)
            except MailboxChanged as exc:
                yield FetchError(ref.external_id, str(exc), retryable=True)
                continue
            except (OSError, KeyError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                yield FetchError(ref.external_id, f"cannot read message: {reason}")
                continue
            yield RawItem(external_id=entry.external_id, data=data, received_at=entry.received_at)

    def receipt_days(self) -> list[dt.date]:
        """Every UTC day on which at least one message was received, oldest first."""
        return sorted({e.received_at.date() for e in self._index().values()})

    def _index(self) -> dict[str, _Entry]:
        """The mailbox's messages by id, read again when an mbox file changed size or time
        (a mail client compacting it moves every message's byte offsets)."""
        signature = self._mbox_signature()
        if self._entries is None or signature != self._signature:
            self.check()
            self._signature = signature
            scan = {"mbox": self._scan_mbox, "maildir": self._scan_maildir, "eml": self._scan_eml}
            self._entries = {e.external_id: e for e in scan[self.kind]()}
        return self._entries

    def probe_signature(self) -> str:
        """Changes when the mailbox does: the mbox file's size and modification time, or
        every message file's of a Maildir or .eml folder (one ``stat`` each, no read)."""
        self.check()
        if self.kind == "mbox":
            return files_signature([self.path])
        if self.kind == "maildir":
            files = [f for sub in ("new", "cur") for f in sorted((self.path / sub).iterdir())]
        else:
            files = sorted(self.path.rglob("*.eml"))
        return files_signature(files)

    def _mbox_signature(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_size, stat.st_mtime_ns) if self.path.is_file() else None

    def _scan_mbox(self) -> Iterator[_Entry]:
        mtime = _utc_from_timestamp(self.path.stat().st_mtime)
        for span in scan_mbox(self.path):
            data = read_span(self.path, span.start, span.end)
            received = from_line_time(span.from_line) or mtime
            yield _Entry(sha256_hex(data), received, f"{span.start}:{span.end}")

    def _scan_maildir(self) -> Iterator[_Entry]:
        for sub in ("new", "cur"):
            folder = self.path / sub
            for item in sorted(folder.iterdir()):
                if not item.is_file() or item.name.startswith("."):
                    continue
                unique = re.split(r"[:!]2,", item.name, maxsplit=1)[0]
                stamp = _MAILDIR_TIME.match(unique)
                seconds = int(stamp.group(1)) if stamp else item.stat().st_mtime
                yield _Entry(unique, _utc_from_timestamp(seconds), str(item.relative_to(self.path)))

    def _scan_eml(self) -> Iterator[_Entry]:
        for item in sorted(self.path.rglob("*.eml")):
            if item.is_file():
                rel = item.relative_to(self.path).as_posix()
                yield _Entry(rel, _utc_from_timestamp(item.stat().st_mtime), rel)

    def _read(self, entry: _Entry) -> bytes:
        if self.kind == "mbox":
            start, end = (int(part) for part in entry.locator.split(":"))
            data = read_span(self.path, start, end)
            # An mbox message's id is its content hash: other bytes mean the file moved under
            # us between the index and this read.
            if sha256_hex(data) != entry.external_id:
                raise MailboxChanged(
                    "the mbox changed while it was read; it is read again next run"
                )
            return data
        return (self.path / entry.locator).read_bytes()
