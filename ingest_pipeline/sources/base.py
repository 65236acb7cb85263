"""The Source contract every provider implements, and the errors sources raise."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

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


class Source(Protocol):
    """Lists a provider's items for a receipt-time window and downloads them."""

    limits: SourceLimits

    def check(self) -> None:
        """Raise `SourceError` with a clear message when the source cannot be read."""
        ...

    def enumerate(self, window: Window, cursor: str | None) -> Iterator[Page[ItemRef]]:
        """Yield pages of the items received in ``window``, resuming after ``cursor``."""
        ...

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        """Yield one `RawItem` or `FetchError` per ref, in any order."""
        ...
