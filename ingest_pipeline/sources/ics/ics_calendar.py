"""Reading one ``.ics`` file into its events, whatever shape the file is in.

The whole file is parsed first. When that raises, or silently yields fewer VEVENTs than the
text holds (an unterminated calendar parses to nothing), each VEVENT block is parsed alone
with the file's time zones, so one bad event never loses the rest of its file. What still
cannot be read becomes a `BrokenBlock`, to be listed and failed with its reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from icalendar import Calendar, Component, Event

from ingest_pipeline.domain import sha256_hex
from ingest_pipeline.sources.ics.ics_files import component_blocks, wr_timezone

_WRAPPER_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ingest_pipeline//block//EN\r\n"
_WRAPPER_TAIL = "END:VCALENDAR\r\n"


@dataclass(frozen=True)
class BrokenBlock:
    """A VEVENT that cannot be placed by its start: its text and why."""

    text: str
    reason: str


@dataclass
class CalendarEvents:
    """The VEVENTs of one calendar (or of a file read block by block) and its X-WR-TIMEZONE."""

    events: list[Event]
    wr_timezone: str | None = None
    defects: list[str] = field(default_factory=list)


@dataclass
class ReadFile:
    """What a file holds: calendars of readable events, and blocks that are broken."""

    calendars: list[CalendarEvents]
    broken: list[BrokenBlock]


def _parse(text: str) -> list[Component]:
    # icalendar warns when it has to guess (vendor-prefixed TZIDs); the guess is reported
    # per event as a defect instead, so the warnings would only be noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(Calendar.from_ical(text, multiple=True))


def _events(components: Sequence[Component]) -> list[Event]:
    return [e for c in components for e in c.walk("VEVENT") if isinstance(e, Event)]


def read_calendar_text(text: str) -> ReadFile:
    """Parse a file's text: whole when possible, else one VEVENT block at a time."""
    blocks = component_blocks(text, "VEVENT")
    try:
        calendars = _parse(text)
    except Exception:  # any parser failure means: read it block by block
        calendars = None
    if calendars is not None and len(_events(calendars)) >= len(blocks):
        return ReadFile(
            calendars=[
                CalendarEvents(
                    events=_events([calendar]),
                    wr_timezone=_text_or_none(calendar.get("X-WR-TIMEZONE")),
                )
                for calendar in calendars
            ],
            broken=[],
        )
    return _read_blocks(text, blocks)


def _text_or_none(value: object) -> str | None:
    """A calendar property as text; the first one when repeated; None when absent or empty."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    return str(value).strip() or None


def _read_blocks(text: str, blocks: list[str]) -> ReadFile:
    zones = [block for block in component_blocks(text, "VTIMEZONE") if _parses(block)]
    events: list[Event] = []
    broken: list[BrokenBlock] = []
    for block in blocks:
        parsed, error = _parse_block(block, zones)
        if parsed:
            events.extend(parsed)
        else:
            broken.append(BrokenBlock(text=block, reason=f"cannot read the VEVENT: {error}"))
    calendar = CalendarEvents(
        events=events,
        wr_timezone=wr_timezone(text),
        defects=["the file as a whole cannot be read; its events were read one by one"],
    )
    return ReadFile(calendars=[calendar], broken=broken)


def _parses(block: str) -> bool:
    try:
        _parse(_WRAPPER_HEAD + block + _WRAPPER_TAIL)
    except Exception:  # a time zone that cannot be read is left out
        return False
    return True


def _parse_block(block: str, zones: list[str]) -> tuple[list[Event], str]:
    """The events in ``block``, parsed with the file's time zones, else alone; or the error."""
    error = "no VEVENT found"
    for context in (zones, []):
        try:
            events = _events(_parse(_WRAPPER_HEAD + "".join(context) + block + _WRAPPER_TAIL))
        except Exception as exc:  # the reason is kept for the parse step
            error = str(exc) or type(exc).__name__
            continue
        if events:
            return events, ""
    return [], error


def event_text(event: Event) -> str:
    """The VEVENT serialized, for hashing and for listing it as broken."""
    return event.to_ical().decode("utf-8", errors="replace")


def text_hash(text: str) -> str:
    """The content hash that names a VEVENT without a UID, or a broken block."""
    return sha256_hex(text.encode("utf-8", errors="replace"))
