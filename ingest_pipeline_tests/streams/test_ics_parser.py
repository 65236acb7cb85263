"""The calendar-event parser: fields a person reads, reasons a person can act on, and the
whole real-world calendar corpus read through the ICS source without a crash."""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import pytest

from ingest_pipeline.domain import RawItem, Window
from ingest_pipeline.sources.ics.ics_source import IcsSource
from ingest_pipeline.streams.calendar_events.event_record import (
    EventPerson,
    ParsedEvent,
    UnparseableEvent,
)
from ingest_pipeline.streams.calendar_events.ics_parser import parse_occurrence

DAYS_PER_FILE = 20


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def _event(*lines: str) -> bytes:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", *lines, "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(body) + "\r\n").encode("utf-8")


def test_fields_of_an_invitation() -> None:
    event = parse_occurrence(
        _event(
            "UID:kickoff-42@example.com",
            "SUMMARY:Kick-off: Zoë's team\\, Q4\\; bring notes",
            "DESCRIPTION:Agenda:\\n1. Intros\\n2. Roadmap",
            "LOCATION:Room 4\\, 2nd floor",
            "DTSTART;TZID=Europe/Berlin:20261102T100000",
            "DTEND;TZID=Europe/Berlin:20261102T113000",
            "ORGANIZER;CN=Dana Whitfield:MAILTO:Dana.Whitfield@Example.com",
            "ATTENDEE;CN=Morgan Lee;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:"
            "mailto:morgan.lee@example.com",
            'ATTENDEE;CN="Ortiz, Sam";PARTSTAT=TENTATIVE;ROLE=OPT-PARTICIPANT:'
            "mailto:sam.ortiz@example.org",
            "ATTENDEE:mailto:room-4@example.com",
            "SEQUENCE:3",
        )
    )
    assert event == ParsedEvent(
        uid="kickoff-42@example.com",
        summary="Kick-off: Zoë's team, Q4; bring notes",
        description="Agenda:\n1. Intros\n2. Roadmap",
        location="Room 4, 2nd floor",
        start=_utc(2026, 11, 2, 9),
        end=_utc(2026, 11, 2, 10, 30),
        timezone="Europe/Berlin",
        organizer=EventPerson(email="dana.whitfield@example.com", name="Dana Whitfield"),
        attendees=(
            EventPerson("morgan.lee@example.com", "Morgan Lee", "accepted", "req-participant"),
            EventPerson("sam.ortiz@example.org", "Ortiz, Sam", "tentative", "opt-participant"),
            EventPerson("room-4@example.com"),
        ),
        sequence=3,
    )


def test_what_the_source_wrote_is_read_back() -> None:
    event = parse_occurrence(
        _event(
            "UID:standup",
            "DTSTART:20261105T190000Z",
            "DTEND:20261105T191500Z",
            "RECURRENCE-ID:20261106T143000Z",
            "X-INGEST-TZID:America/New_York",
            "X-INGEST-DEFECT:RRULE 'FREQ=NEVER' is ignored: Expected frequency, got: NEVER",
        )
    )
    assert event.recurrence_id == "2026-11-06T14:30:00+00:00"
    assert event.timezone == "America/New_York"
    assert event.defects == ("RRULE 'FREQ=NEVER' is ignored: Expected frequency, got: NEVER",)


def test_an_all_day_event_without_an_end_lasts_its_day() -> None:
    event = parse_occurrence(_event("UID:fair", "DTSTART;VALUE=DATE:20261106", "SUMMARY:Fair"))
    assert event.all_day and (event.start, event.end) == (_utc(2026, 11, 6), _utc(2026, 11, 7))
    assert event.recurrence_id is None and event.status == "confirmed"


def test_a_cancelled_occurrence_is_kept_marked_cancelled() -> None:
    cancelled = parse_occurrence(
        _event("UID:c", "DTSTART:20261103T200000Z", "STATUS:CANCELLED", "SUMMARY:Screening")
    )
    assert cancelled.cancelled and cancelled.status == "cancelled"
    assert cancelled.summary == "Screening"
    tentative = parse_occurrence(_event("UID:t", "DTSTART:20261103T200000Z", "STATUS:TENTATIVE"))
    assert tentative.status == "tentative" and not tentative.cancelled
    odd = parse_occurrence(_event("UID:o", "DTSTART:20261103T200000Z", "STATUS:MAYBE-LATER"))
    assert odd.status == "confirmed"
    assert odd.defects == ("STATUS 'MAYBE-LATER' is not an event status; it is read as confirmed",)


def test_duration_gives_the_end_and_an_invalid_one_is_a_defect() -> None:
    timed = parse_occurrence(_event("UID:d", "DTSTART:20261102T160000Z", "DURATION:PT30M"))
    assert timed.end == _utc(2026, 11, 2, 16, 30)
    broken = parse_occurrence(
        _event("UID:d", "DTSTART:20261102T160000Z", "DURATION:P999999999999999999W")
    )
    assert broken.start == _utc(2026, 11, 2, 16) and broken.end is None
    (defect,) = broken.defects
    assert defect.startswith("DURATION 'P999999999999999999W' is not a valid duration")
    assert defect.endswith("the end is unknown")


def test_tolerated_problems_are_defects() -> None:
    event = parse_occurrence(_event("DTSTART:20261102T090000", "SEQUENCE:two"))
    assert event.uid == "" and event.sequence == 0
    assert event.defects == (
        "DTSTART has no time zone (floating time); it is read as UTC",
        "UID is missing",
        "SEQUENCE 'two' is not a number; 0 is used",
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_event("UID:x", "SUMMARY:No start"), "DTSTART is missing"),
        (_event("UID:x", "DTSTART:xyz"), "DTSTART 'xyz' is not a date or time: "),
        (b"Subject: hello\r\n\r\nnot a calendar\r\n", "not an iCalendar event: "),
        (
            _event("UID:x").replace(b"VEVENT", b"VTODO"),
            "not an iCalendar event: the data holds no VEVENT",
        ),
        (
            _event(
                "X-INGEST-BROKEN:cannot read the VEVENT: Invalid content line",
                "DTSTART:20261102T090000Z",
            ),
            "cannot read the VEVENT: Invalid content line",
        ),
    ],
)
def test_an_occurrence_without_a_readable_start_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnparseableEvent) as caught:
        parse_occurrence(data)
    assert str(caught.value).startswith(reason)


def test_the_whole_calendar_corpus_is_accounted_for(corpus: Path) -> None:
    """Every VEVENT of every corpus file, listed on the days of its first occurrence, is
    fetched and either parsed or failed with a reason; nothing raises anything else."""
    counts: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    parsed: dict[tuple[str, str], ParsedEvent] = {}
    for path in sorted((corpus / "calendars").rglob("*.ics")):
        counts["files"] += 1
        source = IcsSource(path)
        for day in source.first_days()[:DAYS_PER_FILE]:
            refs = [r for page in source.enumerate(Window.for_day(day), None) for r in page.items]
            for item in source.fetch(refs):
                assert isinstance(item, RawItem), item
                counts["items"] += 1
                try:
                    event = parse_occurrence(item.data)
                except UnparseableEvent as exc:
                    assert str(exc), item.external_id
                    counts["unparseable"] += 1
                    reasons[str(exc).split(":")[0]] += 1
                    continue
                counts["parsed"] += 1
                assert event.start == item.received_at, item.external_id
                parsed[(path.name, item.external_id)] = event
    assert counts == {"files": 150, "items": 190, "parsed": 117, "unparseable": 73}
    assert reasons == {
        "DTSTART is missing": 69,
        "DTSTART is missing; a line could not be read": 1,
        "DTSTART 'INVALID-DATE' is not a date or time": 3,
    }

    google = parsed[("alarm_google_future.ics", "79fs7pkqvht9m5igs0vjv1sfra@google.com|single")]
    assert (google.summary, google.start) == ("event with alarms", _utc(2024, 10, 4, 18, 15))
    assert google.timezone == "Europe/London"
    weekly = parsed[
        ("x_location.ics", "BFE33ADD-5553-48B5-B5A5-F9DA5CA4C393|2016-10-28T12:00:00+00:00")
    ]
    assert weekly.summary == "Daily Sync" and weekly.timezone == "Europe/Zurich"
    assert weekly.location == "Roadstar 16\n12764 Happyville\nDenmark"
    mozilla = parsed[("issue_313_globally_unique_tzid.ics", "mozilla-lightning@issue-313|single")]
    assert mozilla.timezone == "America/New_York"
    assert mozilla.defects == (
        "vendor-prefixed time zone '/mozilla.org/20070129_1/America/New_York' is read as "
        "'America/New_York'",
    )
