"""The typed record the calendar parser makes from one event occurrence."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class EventPerson:
    """The organizer or an attendee: ``email`` lowercased without ``mailto:``; ``status`` is
    the PARTSTAT (``accepted``, ``declined``, ``needs-action``...) lowercased, or empty."""

    email: str
    name: str = ""
    status: str = ""
    role: str = ""


@dataclass(frozen=True)
class ParsedEvent:
    """One occurrence of a calendar event.

    ``start``/``end`` are UTC for timed events; an all-day event has ``all_day`` true and
    ``start``/``end`` at UTC midnight of its dates (its day is its date, whatever the time
    zone). ``recurrence_id`` is the original start of this occurrence when the event
    recurs (UTC ISO, or a date), so a moved occurrence keeps its identity. ``status`` is
    ``confirmed``, ``tentative`` or ``cancelled``; a cancelled occurrence is kept, marked.
    ``timezone`` is the TZID the event was written in (empty for UTC or floating).
    """

    uid: str
    summary: str
    start: dt.datetime
    end: dt.datetime | None = None
    all_day: bool = False
    recurrence_id: str | None = None
    status: str = "confirmed"
    description: str = ""
    location: str = ""
    timezone: str = ""
    organizer: EventPerson | None = None
    attendees: tuple[EventPerson, ...] = ()
    sequence: int = 0
    defects: tuple[str, ...] = ()

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat() if self.end else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedEvent:
        organizer = data.get("organizer")
        return cls(
            **{
                **data,
                "start": dt.datetime.fromisoformat(data["start"]),
                "end": dt.datetime.fromisoformat(data["end"]) if data.get("end") else None,
                "organizer": EventPerson(**organizer) if organizer else None,
                "attendees": tuple(EventPerson(**a) for a in data.get("attendees") or ()),
                "defects": tuple(data.get("defects") or ()),
            }
        )


class UnparseableEvent(ValueError):
    """An event occurrence with nothing usable (no readable start); the message says why."""
