"""CalDAV calendars and CardDAV address books through the Dagster job against a real
Radicale: the sample data imports like the iCalendar and vCard providers, a moved event and
a deleted or edited card show in the next run without duplicates, a re-run fetches nothing,
and the shared corpus (what the server accepts of it) is accounted for like the files."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.cli import main
from ingest_pipeline.domain import Window
from ingest_pipeline.extraction.offline_extractor import OfflineExtractor
from ingest_pipeline.sources.base import closing
from ingest_pipeline.sources.ics.ics_source import IcsSource
from ingest_pipeline.steps.integration_source import open_source
from ingest_pipeline.steps.partition_runner import run_partition
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.models import Contact
from ingest_pipeline_tests.dav_fixtures import (
    CALENDAR,
    PASSWORD,
    USER,
    dav_sample,
    dav_server,
    load_calendars,
    load_cards,
    object_with_uid,
    register_dav,
)
from ingest_pipeline_tests.gmail_fixtures import credentials_key
from ingest_pipeline_tests.pipeline_runner import (
    count_rows,
    ledger_rows,
    register_source,
    run_days,
)
from ingest_pipeline_tests.radicale_server import RadicaleServer
from ingest_pipeline_tests.stream_samples import SAMPLE_ICS, SAMPLE_WEEK

__all__ = ["credentials_key", "dav_sample", "dav_server"]  # fixtures, imported for pytest

WEEK = list(SAMPLE_WEEK)


def _events(db_url: str) -> list[tuple[str, str]]:
    with get_engine(db_url).connect() as c:
        rows = c.execute(sa.text("select summary, start_at from calendar_events")).all()
    return sorted((summary, str(start)[:10]) for summary, start in rows)


def _statuses(db_url: str) -> Counter[str]:
    return Counter(r["status"] for r in ledger_rows(db_url))


@pytest.mark.slow
def test_the_sample_calendar_on_radicale_imports_like_the_ics_provider(
    sqlite_url: str,
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    dav_sample: RadicaleServer,
    credentials_key: str,
) -> None:
    key = register_dav(sqlite_url, dav_sample, credentials_key, "caldav")
    from_file = make_db("sqlite")
    file_key = register_source(from_file, SAMPLE_ICS, provider="ics", stream="calendar_events")

    outcomes = run_days(sqlite_url, dagster_instance, key, WEEK, stream="calendar_events")
    run_days(from_file, dagster_instance, file_key, WEEK, stream="calendar_events")

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    assert _events(sqlite_url) == _events(from_file) and _events(sqlite_url)
    assert _statuses(sqlite_url) == _statuses(from_file)
    assert all(
        r["external_id"].startswith(f"/{USER}/{CALENDAR}/|") for r in ledger_rows(sqlite_url)
    )

    again = run_days(sqlite_url, dagster_instance, key, WEEK, stream="calendar_events")
    assert sum(o.metrics["fetched"] + o.metrics["inserted"] for o in again) == 0


def test_an_event_moved_on_the_server_ends_on_its_new_day_once(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    dav_sample: RadicaleServer,
    credentials_key: str,
) -> None:
    key = register_dav(sqlite_url, dav_sample, credentials_key, "caldav")
    weekend = WEEK[-2:]
    run_days(sqlite_url, dagster_instance, key, weekend, stream="calendar_events")
    hike = [e for e in _events(sqlite_url) if e[0].startswith("Saturday hike")]
    assert [day for _, day in hike] == ["2026-11-07"]

    path = object_with_uid(
        dav_sample, f"/{USER}/{CALENDAR}/", "hike-cedar-ridge-20261107@calendar.example.com"
    )
    with dav_sample.client(USER) as http:
        moved = http.get(path).content.replace(b"20261107T", b"20261108T")
    assert dav_sample.put(USER, path, moved, "text/calendar").status_code in (201, 204)
    after = run_days(sqlite_url, dagster_instance, key, weekend, stream="calendar_events")

    assert all(o.success for o in after), [o.error for o in after]
    hike = [e for e in _events(sqlite_url) if e[0].startswith("Saturday hike")]
    assert [day for _, day in hike] == ["2026-11-08"]
    hikes = count_rows(
        sqlite_url, "select count(*) from ingest_items where external_id like '%hike-cedar%'"
    )
    assert hikes == 1
    again = run_days(sqlite_url, dagster_instance, key, weekend, stream="calendar_events")
    assert sum(o.metrics["fetched"] for o in again) == 0


def test_cards_import_once_then_follow_edits_and_deletions(
    db_url: str,
    dagster_instance: dg.DagsterInstance,
    dav_sample: RadicaleServer,
    credentials_key: str,
) -> None:
    key = register_dav(db_url, dav_sample, credentials_key, "carddav")

    [first] = run_days(db_url, dagster_instance, key, None, stream="contacts")

    assert first.success, first.error
    assert first.metrics["enumerated"] == 13  # the sample address book's cards
    with session_scope(db_url) as session:
        before = {c.display_name: c for c in session.scalars(sa.select(Contact))}
        assert before and not any(c.deleted for c in before.values())
    rows = {r["external_id"]: r for r in ledger_rows(db_url)}
    with dav_sample.client(USER) as http:
        cards = {path: http.get(path).content for path in rows}
    victim = next(p for p, card in cards.items() if b"FN:" in card)
    victim_name = next(
        n for n in before if n and n.encode() in cards[victim].replace(b"\r\n ", b"")
    )
    dav_sample.delete(USER, victim)
    edited_path, edited = next(
        (p, c) for p, c in cards.items() if p != victim and b"\nTITLE" not in c
    )
    at = edited.upper().rindex(b"END:VCARD")
    edited = edited[:at] + b"TITLE:Head of Talent\r\n" + edited[at:]
    assert dav_sample.put(USER, edited_path, edited, "text/vcard").status_code in (201, 204)

    [second] = run_days(db_url, dagster_instance, key, None, stream="contacts")

    assert second.success, second.error
    assert second.metrics["enumerated"] == 2  # only what changed, through sync-collection
    with session_scope(db_url) as session:
        after = {c.display_name: c for c in session.scalars(sa.select(Contact))}
        assert after[victim_name].deleted
        assert "Head of Talent" in {c.title for c in after.values()}
        assert {c.id for c in after.values()} == {c.id for c in before.values()}

    [third] = run_days(db_url, dagster_instance, key, None, stream="contacts")
    assert third.success and third.metrics["enumerated"] == 0


def test_cli_adds_caldav_and_carddav_after_signing_in(
    dav_sample: RadicaleServer,
    credentials_key: str,
    cli_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BAD_DAV_PASSWORD", "wrong")
    monkeypatch.setenv("DAV_PASSWORD", PASSWORD)
    base = ["integrations", "add", "--url", dav_sample.url, "--user", USER]

    assert main([*base, "--provider", "caldav", "--password-env", "BAD_DAV_PASSWORD"]) == 2
    assert "refused the login of ann" in capsys.readouterr().err
    calendar = [*base, "--provider", "caldav", "--password-env", "DAV_PASSWORD"]
    assert main([*calendar, "--calendar", "Holidays"]) == 2
    assert "no calendar named 'Holidays'" in capsys.readouterr().err
    assert main(["integrations", "add", "--provider", "carddav", "--user", USER]) == 2
    assert "needs --url, --user and --password-env" in capsys.readouterr().err

    assert main(calendar) == 0
    calendar_key = capsys.readouterr().out.strip()
    assert main([*base, "--provider", "carddav", "--password-env", "DAV_PASSWORD"]) == 0
    contacts_key = capsys.readouterr().out.strip()
    assert PASSWORD.encode() not in (cli_home / "app.db").read_bytes()
    assert main(["run", "--integration", calendar_key, "--date", "2026-11-07"]) == 0
    assert main(["run", "--integration", contacts_key]) == 0
    assert count_rows(f"sqlite:///{cli_home / 'app.db'}", "select count(*) from contacts") > 0


@pytest.mark.slow
def test_the_corpus_on_radicale_is_accounted_for_like_the_files(
    corpus: Path,
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    dav_server: RadicaleServer,
    credentials_key: str,
    tmp_path: Path,
) -> None:
    """The real-world calendars (in as few calendars as their UIDs allow) and address books
    PUT to Radicale:
    what the server stores ends done, skipped or failed with a reason, with the same tally
    as the same objects read from files by the ics and vcard providers. (The server refuses
    what its own parser cannot read; an object it stores that nobody can place by its start
    is listed on the days the server returns it for, not on the file's date: left out of
    the comparison, and failed with its reason when listed.)"""
    from ingest_pipeline.sources.ics.ics_files import calendar_files

    calendars = load_calendars(dav_server, calendar_files(corpus / "calendars"))
    cards = load_cards(dav_server, sorted((corpus / "contacts" / "ez-vcard").glob("*.vcf")))
    assert len(calendars.stored) >= 60 and len(cards.stored) >= 15, (calendars, cards)
    folder = tmp_path / "stored"
    stored = {f"calendars/{k}": v for k, v in calendars.stored.items()}
    stored.update({f"cards/{k}": v for k, v in cards.stored.items()})
    for name, data in stored.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    days = IcsSource(folder / "calendars").first_days()

    over_dav, from_files = make_db("sqlite"), make_db("sqlite")
    dav_key = register_dav(over_dav, dav_server, credentials_key, "carddav")
    file_key = register_source(from_files, folder / "cards", provider="vcard", stream="contacts")
    [served] = run_days(over_dav, dagster_instance, dav_key, None, stream="contacts")
    [read] = run_days(from_files, dagster_instance, file_key, None, stream="contacts")
    assert served.success and read.success, (served.error, read.error)
    assert served.metrics["enumerated"] == len(cards.stored)

    dav_key = register_dav(over_dav, dav_server, credentials_key, "caldav")
    file_key = register_source(
        from_files, folder / "calendars", provider="ics", stream="calendar_events"
    )
    for db, key in ((over_dav, dav_key), (from_files, file_key)):
        with session_scope(db) as session:
            info = IntegrationInfo.of(find_integration(session, key))
        for day in days:
            part = PartitionKey(info.id, day, "calendar_events")
            ctx = StepContext(db, info, part, uuid.uuid4().hex)
            with closing(open_source(ctx, credentials_key=credentials_key)) as source:
                run_partition(ctx, source, extractor=OfflineExtractor())

    rows = ledger_rows(over_dav)
    assert rows and all(r["status"] == "done" or r["last_error"] for r in rows)
    # Objects whose times the server cannot read (it stored them all the same) are in no
    # time-range answer; their occurrences are what the files have more.
    hidden = _never_in_a_time_range(dav_server, calendars.stored)
    assert len(hidden) <= 3, hidden
    expected = _tally(from_files)
    for name in hidden:
        for day in days:
            listed = IcsSource(folder / "calendars" / name).enumerate(Window.for_day(day), None)
            for page in listed:
                expected[("calendar_events", "done")] -= sum(
                    "broken:" not in ref.external_id for ref in page.items
                )
    assert _tally(over_dav) == +expected


def _never_in_a_time_range(server: RadicaleServer, stored: dict[str, bytes]) -> list[str]:
    """The stored objects (``calendar/object.ics``) no query from 1800 to 2200 returns."""
    import caldav

    client = caldav.DAVClient(server.url, username=USER, password=PASSWORD)
    found = set()
    for calendar in client.principal().calendars():
        for obj in calendar.search(
            start=dt.datetime(1800, 1, 1, tzinfo=dt.UTC),
            end=dt.datetime(2200, 1, 1, tzinfo=dt.UTC),
            event=True,
        ):
            found.add("/".join(str(obj.url).rstrip("/").split("/")[-2:]))
    return sorted(set(stored) - found)


def _tally(db_url: str) -> Counter[tuple[str, str]]:
    """How many items of each stream ended in each status (unplaceable objects aside)."""
    with get_engine(db_url).connect() as c:
        rows = c.execute(
            sa.text(
                "select stream, status from ingest_items where external_id not like 'broken:%'"
                " and external_id not like '%|broken:%'"
            )
        ).all()
    return Counter((stream, status) for stream, status in rows)
