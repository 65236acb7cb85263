"""Frozen types passed between the five steps (enumerate, fetch, parse, gpt, persist).

Nothing here touches a database, a provider or Dagster: these are the shapes of the data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")

ItemStatus = Literal["pending", "processing", "done", "failed", "skipped"]
ItemStep = Literal["none", "fetched", "parsed", "extracted", "persisted"]
TERMINAL_STATUSES: tuple[ItemStatus, ...] = ("done", "failed", "skipped")


def sha256_hex(data: bytes) -> str:
    """The content address used for raw items, parsed items and the extraction cache."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Window:
    """A half-open receipt-time interval ``[start, end)`` in UTC: one partition's day."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def for_day(cls, day: dt.date) -> Window:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
        return cls(start=start, end=start + dt.timedelta(days=1))

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class ItemRef:
    """One provider item listed by enumerate.

    ``external_id`` is the provider's stable id (unique within the integration's stream);
    ``received_at`` is when the provider received it (for calendar events: the occurrence's
    start), which decides its day; ``version`` is a provider version (an etag, a content
    hash) for items that can change after they were imported (contacts, calendar events):
    when it differs from the ledger's, the item is imported again. Mail has none.
    """

    external_id: str
    received_at: dt.datetime | None = None
    version: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of an enumeration; ``cursor`` resumes the listing after this page."""

    items: Sequence[T]
    cursor: str | None = None


@dataclass(frozen=True)
class RawItem:
    """The bytes of one item exactly as the provider returned them."""

    external_id: str
    data: bytes
    received_at: dt.datetime | None = None

    @property
    def content_hash(self) -> str:
        return sha256_hex(self.data)


# The version of an item the provider removed: listed as a removal (a Graph ``@removed``
# entry, a People ``metadata.deleted`` person) or missing from a complete snapshot listing.
# Fetch turns it into a `tombstone` without asking the provider.
REMOVED = "removed"


def tombstone(external_id: str) -> RawItem:
    """The raw item standing for a removed item: ``{"id", "@removed"}``, as Graph says it."""
    data = json.dumps({"id": external_id, "@removed": {"reason": "deleted"}}, sort_keys=True)
    return RawItem(external_id=external_id, data=data.encode("utf-8"))


@dataclass(frozen=True)
class FetchError:
    """An item the source could not download; ``retryable`` errors are tried again next run."""

    external_id: str
    reason: str
    retryable: bool = False
    skip: bool = False
    """The item is not to be imported at all (a prompt disabled before it was asked): it
    ends ``skipped`` with the reason instead of ``failed``."""


@dataclass(frozen=True)
class Address:
    """One mailbox in an address header; ``name`` is the display name, possibly empty."""

    name: str
    email: str


@dataclass(frozen=True)
class ParsedAttachment:
    """A leaf MIME part with a filename or a non-inline disposition.

    ``text`` is the extracted text (PDF, DOCX, plain text, TNEF contents), ``text_error``
    says why there is none, ``capped`` is true when the part exceeded the size cap and was
    neither decoded nor stored (``size`` is then the encoded size).
    """

    filename: str
    content_type: str
    size: int
    sha256: str
    text: str | None = None
    text_error: str | None = None
    capped: bool = False
    source: str = "mime"  # "mime", "tnef" (unpacked from winmail.dat) or "rfc822" (forwarded)


@dataclass(frozen=True)
class ParsedMessage:
    """A mail message turned into typed fields; ``defects`` lists what the parser tolerated."""

    message_id: str | None
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: dt.datetime | None
    in_reply_to: str | None
    body_text: str
    body_html_present: bool
    attachments: tuple[ParsedAttachment, ...] = ()
    forwarded_subjects: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    """The References header's msg-ids, oldest first (the first is the thread's root)."""
    automation: tuple[str, ...] = ()
    """Headers marking automated, bulk or list mail or a bounce (``mime_automation``)."""

    @property
    def thread_key(self) -> str | None:
        """The thread's root msg-id: References' first, else In-Reply-To, else its own."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.message_id

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["date"] = self.date.isoformat() if self.date else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedMessage:
        def addr(value: dict[str, str] | None) -> Address | None:
            return Address(**value) if value else None

        return cls(
            message_id=data["message_id"],
            subject=data["subject"],
            sender=addr(data["sender"]),
            to=tuple(Address(**a) for a in data["to"]),
            cc=tuple(Address(**a) for a in data["cc"]),
            date=dt.datetime.fromisoformat(data["date"]) if data["date"] else None,
            in_reply_to=data["in_reply_to"],
            body_text=data["body_text"],
            body_html_present=data["body_html_present"],
            attachments=tuple(ParsedAttachment(**a) for a in data["attachments"]),
            forwarded_subjects=tuple(data["forwarded_subjects"]),
            defects=tuple(data["defects"]),
            # Parse results stored by parser version 1 have neither.
            references=tuple(data.get("references", ())),
            automation=tuple(data.get("automation", ())),
        )


@dataclass(frozen=True)
class ExtractionInput:
    """The text an extraction task reads, and its content hash (the cache key's first part).

    ``model`` names the registry model this input must be answered by when the stream
    chooses one per item (prompt runs); None: the run's extractor's model.
    """

    task: str
    text: str
    content_hash: str
    model: str | None = None

    @classmethod
    def of(
        cls, *, task: str, text: str, model: str | None = None, key: str | None = None
    ) -> ExtractionInput:
        """The input of ``text``; ``key`` replaces the text's hash as the cache key."""
        digest = key or sha256_hex(text.encode("utf-8"))
        return cls(task=task, text=text, content_hash=digest, model=model)


@dataclass(frozen=True)
class ExtractionOutcome:
    """What an extractor returned for one input: the validated result and what it cost."""

    result: dict[str, Any]
    model: str
    prompt_version: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
