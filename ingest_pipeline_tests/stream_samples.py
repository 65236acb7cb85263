"""Test inputs for the contacts and calendar streams, written on disk: big address books and
calendars, and edits of the bundled samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest_pipeline_tests.conftest import PROJECT_ROOT

SAMPLE_VCF = PROJECT_ROOT / "ingest_pipeline" / "sample_data" / "sample_contacts.vcf"
SAMPLE_ICS = PROJECT_ROOT / "ingest_pipeline" / "sample_data" / "sample_calendar.ics"
SAMPLE_WEEK = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(7)]
BIG_DAY = dt.date(2026, 11, 10)


def big_vcard_file(path: Path, count: int) -> int:
    """``count`` distinct people as vCard 3.0 cards (every 50th card repeats an earlier
    person's email under a new UID: one person described twice); returns ``count``."""
    cards = []
    for n in range(count):
        email = f"person{n - 1 if n % 50 == 49 else n}@example.com"
        cards.append(
            "BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"UID:big-{n}\r\nFN:Person {n}\r\nN:{n};Person;;;\r\n"
            f"EMAIL;TYPE=INTERNET:{email}\r\n"
            f"TEL;TYPE=CELL:+1 212 555 {n % 10000:04d}\r\nORG:Company {n % 7}\r\n"
            "END:VCARD\r\n"
        )
    path.write_text("".join(cards), encoding="utf-8")
    return count


def big_ics_file(path: Path, count: int, *, day: dt.date = BIG_DAY) -> int:
    """``count`` one-hour events spread over ``day`` (UTC); returns ``count``."""
    events = []
    for n in range(count):
        start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC) + dt.timedelta(
            seconds=n * 86_400 // count
        )
        stamp = start.strftime("%Y%m%dT%H%M%SZ")
        end = (start + dt.timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
        events.append(
            "BEGIN:VEVENT\r\n"
            f"UID:big-event-{n}@example.com\r\nDTSTAMP:20261101T000000Z\r\n"
            f"DTSTART:{stamp}\r\nDTEND:{end}\r\nSUMMARY:Meeting {n}\r\n"
            f"ATTENDEE;CN=Person {n}:mailto:person{n}@example.com\r\n"
            "END:VEVENT\r\n"
        )
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ingest tests//EN\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n",
        encoding="utf-8",
    )
    return count
