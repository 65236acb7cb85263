"""The 15-minute trigger asks each provider whether anything changed and runs only those
integrations: exactly the changed ones, none that is still running, a probe failure
recorded and run anyway, and a safety run once the interval has passed."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ingest_pipeline.defs.ingest_assets import stream_defs
from ingest_pipeline.defs.ingest_schedules import ingest_today_schedule
from ingest_pipeline.defs.integration_sensors import PROBE_FEED_TAG, PROBE_TOKEN_TAG
from ingest_pipeline.defs.resources import AppDatabaseResource, CredentialsResource
from ingest_pipeline.steps.change_probes import (
    ProbeOutcome,
    ProbeSettings,
    ProbeTarget,
    probe_all,
)
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import session_scope
from ingest_pipeline_tests import schedule_ticks
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.dav_fixtures import dav_server, register_dav
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail
from ingest_pipeline_tests.fakes.graph_server import FakeGraph
from ingest_pipeline_tests.gmail_fixtures import USER, credentials_key, gmail, register_gmail
from ingest_pipeline_tests.google_fixtures import google, google_source
from ingest_pipeline_tests.graph_fixtures import MAILBOX, SAMPLE_CONTACTS, graph, outlook_source
from ingest_pipeline_tests.pipeline_runner import register_mailbox
from ingest_pipeline_tests.radicale_server import RadicaleServer

MAIL = stream_defs("mail", history_start=dt.date(2020, 1, 1))
PROBES = ProbeSettings(workers=4, timeout_seconds=20, safety_interval=dt.timedelta(hours=6))
TRIGGER = ingest_today_schedule(MAIL, probes=PROBES)
TICK = dt.datetime(2026, 11, 5, 10, 15, tzinfo=dt.UTC)
__all__ = [
    "credentials_key",
    "dav_server",
    "gmail",
    "google",
    "graph",
]  # fixtures, imported for pytest


def tick(
    db_url: str, instance: dg.DagsterInstance, when: dt.datetime = TICK
) -> list[dg.RunRequest] | dg.SkipReason:
    resources = {"app_db": AppDatabaseResource(url=db_url), "credentials": CredentialsResource()}
    return schedule_ticks.tick(TRIGGER, when, resources, instance)


def keys_of(result: list[dg.RunRequest] | dg.SkipReason) -> dict[str, str]:
    """Integration key → the reason its run was requested."""
    assert not isinstance(result, dg.SkipReason), result.skip_message
    return {str(r.partition_key).split("|")[1]: r.tags["ingest/reason"] for r in result}


def succeed(db_url: str, requests: list[dg.RunRequest], when: dt.datetime = TICK) -> None:
    """What the run-success sensor records for each requested run that succeeded."""
    with session_scope(db_url) as session:
        for request in requests:
            key = str(request.partition_key).split("|")[1]
            row = integrations.find_integration(session, key)
            feed = request.tags.get(PROBE_FEED_TAG)
            integrations.record_sync(
                session,
                row.id,
                status="success",
                probe_token=request.tags.get(PROBE_TOKEN_TAG),
                probe_feed=json.loads(feed) if feed else None,
                now=when,
            )


def mailboxes(db_url: str, tmp_path: Path, count: int) -> list[tuple[str, Path]]:
    made = []
    for n in range(count):
        path = tmp_path / f"box{n}.mbox"
        shutil.copy(SAMPLE_MBOX, path)
        made.append((register_mailbox(db_url, path), path))
    return made


def add_message(path: Path) -> None:
    """New mail: the mbox grows (and its modification time moves on)."""
    stat = path.stat()
    with path.open("ab") as handle:
        handle.write(b"From new@example.com Thu Nov  5 10:20:00 2026\nSubject: new\n\nhello\n\n")
    later = stat.st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))


def test_only_the_changed_integration_runs_and_unchanged_ones_wait(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    (a, _), (b, b_path), (c, _) = mailboxes(sqlite_url, tmp_path, 3)

    first = tick(sqlite_url, dagster_instance)
    assert keys_of(first) == dict.fromkeys((a, b, c), "no successful run with a probe yet")
    assert isinstance(first, list) and all(PROBE_TOKEN_TAG in r.tags for r in first)
    succeed(sqlite_url, first)

    quiet = tick(sqlite_url, dagster_instance, TICK + dt.timedelta(minutes=15))
    assert isinstance(quiet, dg.SkipReason)
    assert "3 of 3 due mail integrations probed, none changed" in (quiet.skip_message or "")

    add_message(b_path)
    changed = tick(sqlite_url, dagster_instance, TICK + dt.timedelta(minutes=30))
    assert keys_of(changed) == {b: "changed"}
    with session_scope(sqlite_url) as session:
        rows = {r.partition_key: r for r in integrations.list_integrations(session)}
        assert all(r.probed_at is not None and r.probe_error is None for r in rows.values())


def test_an_integration_with_a_run_queued_or_running_is_not_asked_again(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    (a, a_path), (b, b_path) = mailboxes(sqlite_url, tmp_path, 2)
    succeed(sqlite_url, [r for r in tick(sqlite_url, dagster_instance)])  # type: ignore[union-attr]
    add_message(a_path)
    add_message(b_path)
    queued = dagster_instance.add_run(
        dg.DagsterRun(
            job_name=MAIL.job_name,
            run_id=str(uuid.uuid4()),
            status=dg.DagsterRunStatus.STARTED,
            tags={"dagster/partition/integration": a},
        )
    )
    assert queued.status == dg.DagsterRunStatus.STARTED

    result = tick(sqlite_url, dagster_instance, TICK + dt.timedelta(minutes=15))

    assert keys_of(result) == {b: "changed"}


def test_a_failing_probe_is_recorded_and_the_integration_still_runs(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    (a, a_path), (b, _) = mailboxes(sqlite_url, tmp_path, 2)
    succeed(sqlite_url, [r for r in tick(sqlite_url, dagster_instance)])  # type: ignore[union-attr]
    a_path.unlink()

    result = tick(sqlite_url, dagster_instance, TICK + dt.timedelta(minutes=15))

    reasons = keys_of(result)
    assert list(reasons) == [a] and reasons[a].startswith("probe failed (SourceError")
    with session_scope(sqlite_url) as session:
        row = integrations.find_integration(session, a)
        assert "does not exist" in (row.probe_error or "")
        assert integrations.find_integration(session, b).probe_error is None


def test_an_unchanged_integration_gets_its_safety_run_after_the_interval(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    [(a, _)] = mailboxes(sqlite_url, tmp_path, 1)
    succeed(sqlite_url, tick(sqlite_url, dagster_instance))  # type: ignore[arg-type]

    before = tick(sqlite_url, dagster_instance, TICK + dt.timedelta(hours=5, minutes=45))
    after = tick(sqlite_url, dagster_instance, TICK + dt.timedelta(hours=6))

    assert isinstance(before, dg.SkipReason)
    assert keys_of(after) == {a: "safety run"}


def test_a_failed_last_run_runs_again_even_without_a_change(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    [(a, _)] = mailboxes(sqlite_url, tmp_path, 1)
    succeed(sqlite_url, tick(sqlite_url, dagster_instance))  # type: ignore[arg-type]
    with session_scope(sqlite_url) as session:
        row = integrations.find_integration(session, a)
        integrations.record_sync(session, row.id, status="failed", error="boom")

    assert keys_of(tick(sqlite_url, dagster_instance, TICK + dt.timedelta(minutes=15))) == {
        a: "no successful run with a probe yet"
    }


def test_probes_run_in_parallel_and_a_slow_one_times_out_without_holding_the_tick() -> None:
    targets = [
        ProbeTarget(f"k{n}", "mailbox", "/x", {}, None, {}, None, None, None) for n in range(8)
    ]

    def slow_probe(target: ProbeTarget, *, credentials_key: str | None) -> ProbeOutcome:
        time.sleep(3.0 if target.key == "k7" else 0.5)
        return ProbeOutcome(target.key, token="t")

    started = time.monotonic()
    outcomes = probe_all(
        targets, credentials_key=None, workers=8, timeout_seconds=1.5, probe=slow_probe
    )
    took = time.monotonic() - started

    assert [outcomes[f"k{n}"].token for n in range(7)] == ["t"] * 7
    assert outcomes["k7"].error == "the probe took longer than 1.5 s"
    assert took < 2.9, "the tick waited for the slow probe"


@pytest.mark.parametrize("provider", ["vcard", "ics"])
def test_local_address_books_and_calendars_have_a_cheap_probe(
    provider: str, tmp_path: Path
) -> None:
    from ingest_pipeline.sources.registry import build_source

    sample = {"vcard": "sample_contacts.vcf", "ics": "sample_calendar.ics"}[provider]
    path = tmp_path / sample
    shutil.copy(SAMPLE_MBOX.parent / sample, path)
    source = build_source(provider=provider, account=str(path))
    token = source.probe_signature()  # type: ignore[attr-defined]
    assert source.probe_signature() == token  # type: ignore[attr-defined]
    add_message(path)
    assert source.probe_signature() != token  # type: ignore[attr-defined]


def test_a_gmail_mailbox_is_probed_by_its_history_id(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    gmail: tuple[FakeGmail, dict[str, Any]],
    credentials_key: str,
) -> None:
    server, info = gmail
    key = register_gmail(sqlite_url, server, info, credentials_key)

    def gmail_tick(when: dt.datetime) -> list[dg.RunRequest] | dg.SkipReason:
        resources = {
            "app_db": AppDatabaseResource(url=sqlite_url),
            "credentials": CredentialsResource(key=credentials_key),
        }
        return schedule_ticks.tick(TRIGGER, when, resources, dagster_instance)

    first = gmail_tick(TICK)
    assert isinstance(first, list)
    assert first[0].tags[PROBE_TOKEN_TAG] == str(server.history_id(USER))
    succeed(sqlite_url, first)
    assert isinstance(gmail_tick(TICK + dt.timedelta(minutes=15)), dg.SkipReason)

    server.add_message(USER, b"Subject: new\n\nhello\n", internal_date=TICK)

    assert keys_of(gmail_tick(TICK + dt.timedelta(minutes=30))) == {key: "changed"}


def test_google_contacts_and_calendars_probe_with_one_request_each(
    google: tuple[FakeGmail, dict[str, Any]],
) -> None:
    server, info = google
    people = google_source(server, info, "google-contacts")
    calendar = google_source(server, info, "google-calendar")
    before = (people.probe_signature(), calendar.probe_signature())
    assert (people.probe_signature(), calendar.probe_signature()) == before, "no change"

    first = server.add_person(USER, {"names": [{"givenName": "First", "familyName": "New"}]})
    after_add = people.probe_signature()
    second = server.add_person(USER, {"names": [{"givenName": "Second", "familyName": "New"}]})
    after_second = people.probe_signature()
    server.update_person(USER, first, {"names": [{"givenName": "Renamed"}]})
    after_edit = people.probe_signature()
    server.delete_person(USER, second)
    after_delete = people.probe_signature()
    signatures = {before[0], after_add, after_second, after_edit, after_delete}
    assert len(signatures) == 5, "every add, edit and delete shows"

    event = server.add_event(
        USER,
        "primary",
        {
            "summary": "New meeting",
            "start": {"dateTime": "2026-11-05T15:00:00Z"},
            "end": {"dateTime": "2026-11-05T16:00:00Z"},
        },
    )
    after_event = calendar.probe_signature()
    server.cancel_event(USER, "primary", event)
    assert len({before[1], after_event, calendar.probe_signature()}) == 3


def test_an_outlook_folder_probes_with_two_small_requests(graph: FakeGraph) -> None:
    source = outlook_source(graph)
    before = source.probe_signature()
    assert source.probe_signature() == before
    graph.add_message(
        MAILBOX, b"Subject: new\r\n\r\nhello\r\n", dt.datetime(2026, 11, 5, 10, 20, tzinfo=dt.UTC)
    )
    after = source.probe_signature()
    assert after != before and after.split(":")[0] == str(int(before.split(":")[0]) + 1)


def test_microsoft_contacts_probe_every_folder_with_one_request_each(graph: FakeGraph) -> None:
    source = outlook_source(graph, provider="microsoft-contacts")
    folders = 1 + len({folder for _, folder in SAMPLE_CONTACTS if folder})  # default + named

    def probe() -> tuple[str, int]:
        """The token and how many Graph requests it took."""
        before = len(graph.requests)
        token = source.probe_signature()
        return token, sum(1 for _, target in graph.requests[before:] if "/v1.0/" in target)

    first, requests = probe()
    assert requests == 1 + folders, "the folder listing, then one request per folder"
    listed = [ref.external_id for page in source.enumerate(None, None) for ref in page.items]
    assert source.sync_state()["contacts_delta"], "a run saved its delta links"
    assert probe() == (first, 1 + folders), "nothing changed: the same token"

    added = graph.add_contact(MAILBOX, {"displayName": "New Person"})
    after_add, _ = probe()
    graph.update_contact(MAILBOX, added, {"jobTitle": "Engineer"})  # within the same second
    after_edit, _ = probe()
    graph.delete_contact(MAILBOX, listed[0])
    after_delete, _ = probe()
    graph.add_contact(MAILBOX, {"displayName": "Filed Away"}, folder="Candidates")
    after_folder, requests = probe()

    tokens = [first, after_add, after_edit, after_delete, after_folder]
    assert len(set(tokens)) == len(tokens), "every add, edit and delete shows"
    assert requests == 1 + folders


CALENDARS = stream_defs("calendar_events", history_start=dt.date(2020, 1, 1), lookahead_days=14)
CALENDAR_TRIGGER = ingest_today_schedule(CALENDARS, probes=PROBES)


def calendar_event(uid: str, start: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\n"
        "SUMMARY:Interview loop\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_a_caldav_event_moved_ahead_runs_its_new_day_on_the_next_tick(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    dav_server: RadicaleServer,
    credentials_key: str,
) -> None:
    """CalDAV's sync-collection feed: the trigger asks what changed since the last
    successful run's tokens and runs the days those events now fall on, besides today."""
    work = dav_server.make_collection("ann", "work", "calendar")
    dav_server.put(
        "ann", work + "loop.ics", calendar_event("loop", "20261105T150000Z"), "text/calendar"
    )
    register_dav(sqlite_url, dav_server, credentials_key, "caldav")
    resources = {
        "app_db": AppDatabaseResource(url=sqlite_url),
        "credentials": CredentialsResource(key=credentials_key),
    }

    def tick_at(when: dt.datetime) -> list[dg.RunRequest] | dg.SkipReason:
        return schedule_ticks.tick(CALENDAR_TRIGGER, when, resources, dagster_instance)

    def days_of(result: list[dg.RunRequest] | dg.SkipReason) -> list[str]:
        assert not isinstance(result, dg.SkipReason), result.skip_message
        return [str(r.partition_key).split("|")[0] for r in result]

    first = tick_at(TICK)
    assert days_of(first) == ["2026-11-05"]  # the first run: today; the feed starts here
    assert isinstance(first, list)
    succeed(sqlite_url, first)

    later = TICK + dt.timedelta(minutes=15)
    quiet = tick_at(later)
    assert isinstance(quiet, dg.SkipReason), keys_of(quiet)  # nothing changed

    moved = calendar_event("loop", "20261112T150000Z")
    dav_server.put("ann", work + "loop.ics", moved, "text/calendar")
    after_move = tick_at(later + dt.timedelta(minutes=15))

    assert days_of(after_move) == ["2026-11-05", "2026-11-12"]
    assert isinstance(after_move, list)
    assert after_move[1].tags["ingest/reason"] == "changed on this day"
    succeed(sqlite_url, after_move, when=later)
    assert isinstance(tick_at(later + dt.timedelta(minutes=30)), dg.SkipReason)
