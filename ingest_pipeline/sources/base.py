"""The Source contract every provider implements, and the errors sources raise."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window


class SourceError(Exception):
    """A problem a person must fix (bad path, bad credentials); retrying will not help."""


class CredentialsRevoked(SourceError):
    """The provider no longer accepts the stored authorization; the user must reconnect."""


@dataclass(frozen=True)
class SourceLimits:
    """A provider's limits as data: how many items one fetch call takes, and how many at once."""

    fetch_batch_size: int = 100
    max_concurrency: int = 1


def require_window(window: Window | None, *, what: str) -> Window:
    """The window of a dated stream's source; a snapshot call is a programming error."""
    if window is None:
        raise SourceError(f"{what} is listed by day: enumerate needs the partition's window")
    return window


@contextmanager
def closing(source: Source) -> Iterator[Source]:
    """``source``, closed afterwards when it holds a connection (an optional ``close()``,
    as the IMAP source's logout): a step or probe never leaves a server session open."""
    try:
        yield source
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


class Source(Protocol):
    """Lists a provider's items and downloads them.

    ``streams`` names the stream kinds it yields (``mail``, ``contacts``,
    ``calendar_events``). ``enumerate`` gets the partition's UTC day as a `Window` for
    dated streams, and ``None`` for snapshot streams (contacts), which list everything the
    account holds now (or what changed since the saved sync state).
    """

    streams: frozenset[str]
    limits: SourceLimits

    def check(self) -> None:
        """Raise `SourceError` with a clear message when the source cannot be read."""
        ...

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        """Yield pages of the items in ``window`` (all items when None), resuming after
        ``cursor``; each page's ``cursor`` resumes the listing after that page."""
        ...

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        """Yield one `RawItem` or `FetchError` per ref, in any order; an unknown id is a
        `FetchError`, never an exception."""
        ...

    def sync_state(self) -> dict[str, Any] | None:
        """Provider state to keep on the integration (history id, sync token), or None."""
        ...
