"""The iCalendar-file source: occurrences on the UTC day they start, each exactly once."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from ingest_pipeline.domain import FetchError, ItemRef, RawItem, Window
from ingest_pipeline.sources.base import SourceError
from ingest_pipeline.sources.ics.ics_source import PAGE_SIZE, IcsSource
from ingest_pipeline.streams.calendar_events.event_record import UnparseableEvent
from ingest_pipeline.streams.calendar_events.ics_parser import parse_occurrence

SAMPLE = (
    Path(__file__).resolve().parents[2] / "ingest_pipeline" / "sample_data" / "sample_calendar.ics"
)
STANDUP = "recruiting-standup@calendar.example.com"
WEEK = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(7)]


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def _write(path: Path, *events: str, header: str = "") -> Path:
    """A calendar file holding ``events`` (VEVENT bodies without BEGIN/END), CRLF ended."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN"]
    lines += [line for line in header.splitlines() if line]
    for body in events:
        lines += ["BEGIN:VEVENT", *[line for line in body.splitlines() if line], "END:VEVENT"]
    lines.append("END:VCALENDAR")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def _set_mtime(path: Path, moment: dt.datetime) -> None:
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def _refs(source: IcsSource, day: dt.date) -> list[ItemRef]:
    return [ref for page in source.enumerate(Window.for_day(day), None) for ref in page.items]


def _ids(source: IcsSource, day: dt.date) -> list[str]:
    return [ref.external_id for ref in _refs(source, day)]


def _fetch_one(source: IcsSource, ref: ItemRef) -> RawItem:
    (item,) = source.fetch([ref])
    assert isinstance(item, RawItem), item
    return item


def test_check_names_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        IcsSource(tmp_path / "nowhere.ics").check()


def test_check_rejects_a_file_without_a_calendar(tmp_path: Path) -> None:
    path = tmp_path / "notes.ics"
    path.write_text("BEGIN:VCARD\r\nFN:Not a calendar\r\nEND:VCARD\r\n")
    with pytest.raises(SourceError, match="holds no VCALENDAR"):
        IcsSource(path).check()


def test_check_rejects_a_folder_without_calendars(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no \.ics files"):
        IcsSource(tmp_path).check()
    (tmp_path / "readme.ics").write_text("just text\n")
    with pytest.raises(SourceError, match=r"folder .* holds no VCALENDAR"):
        IcsSource(tmp_path).check()


def test_a_folder_is_read_recursively_whatever_the_extension_case(tmp_path: Path) -> None:
    _write(tmp_path / "work" / "TEAM.ICS", "UID:a\nDTSTART:20261102T090000Z")
    _write(tmp_path / "home.ics", "UID:b\nDTSTART:20261102T100000Z")
    (tmp_path / "home.ics.bak").write_text("BEGIN:VCALENDAR\r\n")
    source = IcsSource(tmp_path)
    source.check()
    assert _ids(source, dt.date(2026, 11, 2)) == ["a|single", "b|single"]


def test_every_occurrence_of_a_recurring_event_lands_in_exactly_one_day() -> None:
    """Three weeks around the end of US daylight saving time: each stand-up once, the one
    excluded by EXDATE never, the moved one on its new day."""
    source = IcsSource(SAMPLE)
    days = [dt.date(2026, 10, 24) + dt.timedelta(days=n) for n in range(17)]
    seen: dict[str, dt.date] = {}
    for day in days:
        for ref in _refs(source, day):
            assert ref.external_id not in seen, f"{ref.external_id} on {seen[ref.external_id]}"
            assert ref.received_at is not None and Window.for_day(day).contains(ref.received_at)
            seen[ref.external_id] = day
    standups = {i: d for i, d in seen.items() if i.startswith(STANDUP)}
    assert standups == {
        f"{STANDUP}|2026-10-26T13:30:00+00:00": dt.date(2026, 10, 26),
        f"{STANDUP}|2026-10-28T13:30:00+00:00": dt.date(2026, 10, 28),
        f"{STANDUP}|2026-10-30T13:30:00+00:00": dt.date(2026, 10, 30),
        f"{STANDUP}|2026-11-02T14:30:00+00:00": dt.date(2026, 11, 2),
        f"{STANDUP}|2026-11-06T14:30:00+00:00": dt.date(2026, 11, 5),
        f"{STANDUP}|2026-11-09T14:30:00+00:00": dt.date(2026, 11, 9),
    }
    assert len(seen) - len(standups) == 8  # the sample's one-off events


def test_the_occurrence_excluded_by_exdate_is_not_listed() -> None:
    source = IcsSource(SAMPLE)
    week_ids = {i for day in WEEK for i in _ids(source, day)}
    assert f"{STANDUP}|2026-11-02T14:30:00+00:00" in week_ids
    assert f"{STANDUP}|2026-11-04T14:30:00+00:00" not in week_ids
    assert _ids(source, dt.date(2026, 11, 4)) == []


def test_a_moved_occurrence_lands_on_its_new_day_with_its_original_recurrence_id() -> None:
    source = IcsSource(SAMPLE)
    assert not [i for i in _ids(source, dt.date(2026, 11, 6)) if i.startswith(STANDUP)]
    (moved,) = [r for r in _refs(source, dt.date(2026, 11, 5)) if r.external_id.startswith(STANDUP)]
    assert moved.external_id == f"{STANDUP}|2026-11-06T14:30:00+00:00"
    assert moved.received_at == _utc(2026, 11, 5, 19)
    event = parse_occurrence(_fetch_one(source, moved).data)
    assert event.summary.startswith("Recruiting stand-up (moved to Thursday")
    assert event.recurrence_id == "2026-11-06T14:30:00+00:00"
    assert (event.start, event.end) == (_utc(2026, 11, 5, 19), _utc(2026, 11, 5, 19, 15))


def test_an_evening_in_los_angeles_is_the_next_utc_day() -> None:
    source = IcsSource(SAMPLE)
    late_call = "seattle-sre-ryan-walsh-20261104@calendar.example.com|single"
    assert late_call not in _ids(source, dt.date(2026, 11, 4))
    (ref,) = [r for r in _refs(source, dt.date(2026, 11, 5)) if r.external_id == late_call]
    assert ref.received_at == _utc(2026, 11, 5, 4, 30)
    event = parse_occurrence(_fetch_one(source, ref).data)
    assert event.timezone == "America/Los_Angeles"
    assert event.start == _utc(2026, 11, 5, 4, 30)


def test_an_all_day_event_is_on_its_own_date_at_utc_midnight(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "tokyo.ics",
        "UID:holiday\nDTSTART;VALUE=DATE:20261103\nSUMMARY:Culture Day",
        header="X-WR-TIMEZONE:Asia/Tokyo",
    )
    source = IcsSource(path)
    assert _ids(source, dt.date(2026, 11, 2)) == []
    (ref,) = _refs(source, dt.date(2026, 11, 3))
    assert (ref.external_id, ref.received_at) == ("holiday|single", _utc(2026, 11, 3))
    event = parse_occurrence(_fetch_one(source, ref).data)
    assert event.all_day and event.end == _utc(2026, 11, 4)


def test_google_floating_times_are_read_in_the_calendars_x_wr_timezone(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "google.ics",
        "UID:g1@google.com\nDTSTART:20261102T230000\nDTEND:20261103T000000\nSUMMARY:Late",
        header="X-WR-TIMEZONE:Europe/Berlin",
    )
    (ref,) = _refs(IcsSource(path), dt.date(2026, 11, 2))
    assert ref.received_at == _utc(2026, 11, 2, 22)
    assert parse_occurrence(_fetch_one(IcsSource(path), ref).data).timezone == "Europe/Berlin"


def test_listing_resumes_after_the_cursor_without_loss_or_repeat(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "busy.ics", "UID:tick\nDTSTART:20261102T000000Z\nRRULE:FREQ=MINUTELY;COUNT=450"
    )
    source = IcsSource(path)
    window = Window.for_day(dt.date(2026, 11, 2))
    everything = [r.external_id for p in source.enumerate(window, None) for r in p.items]
    assert len(everything) == len(set(everything)) == 450
    first = next(iter(source.enumerate(window, None)))
    assert len(first.items) == PAGE_SIZE
    resumed = [
        r.external_id for p in IcsSource(path).enumerate(window, first.cursor) for r in p.items
    ]
    assert [r.external_id for r in first.items] + resumed == everything


def test_fetch_reports_an_unknown_or_vanished_event_as_a_fetch_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "cal.ics",
        "UID:stays\nDTSTART:20261102T090000Z",
        "UID:goes\nDTSTART:20261102T100000Z",
    )
    source = IcsSource(path)
    refs = _refs(source, dt.date(2026, 11, 2))
    _write(path, "UID:stays\nDTSTART:20261102T090000Z")
    _set_mtime(path, _utc(2026, 11, 3))
    unknown = ItemRef("nobody|single", received_at=_utc(2026, 11, 2, 9))
    results = {r.external_id: r for r in source.fetch([*refs, unknown])}
    assert isinstance(results["stays|single"], RawItem)
    for missing in ("goes|single", "nobody|single"):
        error = results[missing]
        assert isinstance(error, FetchError) and not error.retryable
        assert error.reason == f"event {missing!r} is no longer in {str(path)!r}"


def test_the_version_changes_only_for_the_event_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    meeting = "UID:m\nDTSTART:20261102T090000Z\nSUMMARY:Planning"
    party = "UID:p\nDTSTART:20261102T170000Z\nSUMMARY:Party"
    _write(path, f"{meeting}\nDTSTAMP:20261101T000000Z", party)
    source = IcsSource(path)
    day = dt.date(2026, 11, 2)
    before = {r.external_id: r.version for r in _refs(source, day)}
    _write(path, f"{meeting}\nDTSTAMP:20261102T080000Z", party)  # re-exported, same event
    _set_mtime(path, _utc(2026, 11, 2, 8))
    assert {r.external_id: r.version for r in _refs(source, day)} == before
    _write(path, f"{meeting}\nDTSTAMP:20261102T080000Z", party.replace("Party", "Farewell party"))
    _set_mtime(path, _utc(2026, 11, 2, 9))
    after = {r.external_id: r.version for r in _refs(source, day)}
    assert after["m|single"] == before["m|single"]
    assert after["p|single"] != before["p|single"]


def test_raw_bytes_are_the_same_from_two_instances() -> None:
    def week_bytes() -> dict[str, bytes]:
        source = IcsSource(SAMPLE)
        refs = [ref for day in WEEK for ref in _refs(source, day)]
        return {i.external_id: i.data for i in source.fetch(refs) if isinstance(i, RawItem)}

    first, second = week_bytes(), week_bytes()
    assert len(first) == 10 and first == second


def test_one_broken_vevent_does_not_lose_the_rest_of_its_file(tmp_path: Path) -> None:
    """A stray line makes icalendar reject the whole file; the good events are still read,
    and the one without a readable start is listed on the file's day and fails with why."""
    path = _write(
        tmp_path / "cal.ics",
        "UID:before\nDTSTART:20261102T090000Z\nSUMMARY:Before",
        "UID:bad\nDTSTART:tomorrow-ish\nSUMMARY:Bad start",
        "UID:after\nDTSTART:20261103T090000Z\nSUMMARY:After",
    )
    path.write_bytes(
        path.read_bytes().replace(b"END:VEVENT\r\nBEGIN", b"END:VEVENT\r\nX\r\nBEGIN", 1)
    )
    _set_mtime(path, _utc(2026, 11, 4, 12))
    source = IcsSource(path)
    assert _ids(source, dt.date(2026, 11, 2)) == ["before|single"]
    assert _ids(source, dt.date(2026, 11, 3)) == ["after|single"]
    (broken,) = _refs(source, dt.date(2026, 11, 4))
    assert broken.external_id.startswith("broken:")
    assert broken.received_at == _utc(2026, 11, 4, 12)
    raw = _fetch_one(source, broken)
    assert b"SUMMARY:Bad start" in raw.data
    with pytest.raises(UnparseableEvent, match="DTSTART 'tomorrow-ish' is not a date or time"):
        parse_occurrence(raw.data)
    assert source.first_days() == [dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)]


def test_a_recurrence_that_cannot_be_read_is_tolerated_and_said_so(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "cal.ics",
        "UID:daily\nDTSTART:20261102T090000Z\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE:\nSUMMARY:Daily",
        "UID:odd\nDTSTART:20261102T100000Z\nRRULE:FREQ=FORTNIGHTLY\nSUMMARY:Odd rule",
        "UID:leap\nDTSTART;VALUE=DATE:20261104\nRRULE:RSCALE=GREGORIAN;FREQ=YEARLY;SKIP=FORWARD",
    )
    source = IcsSource(path)
    listed = {day.day: _refs(source, day) for day in WEEK[:4]}
    assert {day: [r.external_id for r in refs] for day, refs in listed.items()} == {
        2: ["daily|2026-11-02T09:00:00+00:00", "odd|2026-11-02T10:00:00+00:00"],
        3: ["daily|2026-11-03T09:00:00+00:00"],
        4: ["leap|2026-11-04", "daily|2026-11-04T09:00:00+00:00"],
        5: [],
    }
    defects = {
        ref.external_id.split("|")[0]: parse_occurrence(_fetch_one(source, ref).data).defects
        for ref in (listed[2][0], listed[2][1], listed[4][0])
    }
    assert defects["daily"] == ("EXDATE '' is ignored: Expected datetime, date, or time. Got: ''",)
    assert defects["odd"] == (
        "RRULE 'FREQ=FORTNIGHTLY' is ignored: Expected frequency, got: FORTNIGHTLY",
    )
    (leap,) = defects["leap"]
    assert leap.startswith("the recurrence cannot be expanded (BadRuleStringFormat")
    assert leap.endswith("only the occurrence at DTSTART is imported")


def test_events_without_uid_or_sharing_one_keep_distinct_stable_ids(tmp_path: Path) -> None:
    _write(
        tmp_path / "a.ics",
        "DTSTART:20261102T090000Z\nSUMMARY:No UID",
        "UID:same\nDTSTART:20261102T100000Z",
    )
    _write(tmp_path / "b.ics", "UID:same\nDTSTART:20261102T110000Z")
    ids = _ids(IcsSource(tmp_path), dt.date(2026, 11, 2))
    assert ids[1:] == ["same|single", "same#2|single"]
    assert ids[0].startswith("nouid-") and ids == _ids(IcsSource(tmp_path), dt.date(2026, 11, 2))


def test_days_with_events_and_the_first_day_of_every_vevent() -> None:
    source = IcsSource(SAMPLE)
    assert source.event_days(start=WEEK[0], end=WEEK[-1]) == [
        dt.date(2026, 11, d) for d in (2, 3, 5, 6, 7, 8)
    ]
    assert source.first_days() == [
        dt.date(2026, 10, 5),
        *(dt.date(2026, 11, d) for d in (2, 3, 5, 6, 7, 8)),
    ]


def test_the_probe_signature_changes_when_a_file_changes(tmp_path: Path) -> None:
    path = _write(tmp_path / "cal.ics", "UID:a\nDTSTART:20261102T090000Z")
    source = IcsSource(tmp_path)
    before = source.probe_signature()
    assert source.probe_signature() == before and source.sync_state() is None
    _write(tmp_path / "more.ics", "UID:b\nDTSTART:20261102T090000Z")
    assert source.probe_signature() != before
    after = source.probe_signature()
    _write(path, "UID:a\nDTSTART:20261102T100000Z")
    _set_mtime(path, _utc(2026, 11, 2, 10))
    assert source.probe_signature() != after
