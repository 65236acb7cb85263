"""The typed record the contacts parser makes from one address-book card."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ContactPhone:
    """A phone number: ``number`` is E.164 (``+14155550100``) when it could be parsed, else
    the digits and ``+`` as written; ``e164`` says which; ``kind`` is the card's type
    (``cell``, ``work``, ``home``...) lowercased, or empty."""

    number: str
    e164: bool
    kind: str = ""


@dataclass(frozen=True)
class ParsedContact:
    """One person as an address book describes them.

    ``emails`` are normalised (trimmed, lowercased, deduplicated, in card order);
    ``full_name`` is FN, or the N parts joined when FN is missing; ``uid`` is the card's
    UID when it has one; ``deleted`` is true when the source says the person was removed;
    ``defects`` lists what the parser tolerated (a bad line, an undecodable value).
    """

    full_name: str
    given_name: str = ""
    family_name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[ContactPhone, ...] = ()
    organization: str = ""
    title: str = ""
    uid: str | None = None
    photo_urls: tuple[str, ...] = ()
    deleted: bool = False
    defects: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedContact:
        return cls(
            **{
                **data,
                "emails": tuple(data.get("emails") or ()),
                "phones": tuple(ContactPhone(**p) for p in data.get("phones") or ()),
                "photo_urls": tuple(data.get("photo_urls") or ()),
                "defects": tuple(data.get("defects") or ()),
            }
        )


class UnparseableCard(ValueError):
    """A card with nothing usable in it; the message is the reason a person reads."""
