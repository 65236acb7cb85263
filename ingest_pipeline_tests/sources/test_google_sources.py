"""Google Contacts and Google Calendar against the local Google server, through the real
googleapiclient (bundled discovery documents) and google-auth."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from ingest_pipeline.domain import FetchError, RawItem, Window
from ingest_pipeline.sources.base import CredentialsRevoked
from ingest_pipeline.streams.calendar_events.json_events import parse_json_event
from ingest_pipeline.streams.contacts.json_contacts import parse_json_contact
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail
from ingest_pipeline_tests.gmail_fixtures import USER, credentials_info
from ingest_pipeline_tests.google_fixtures import (
    SAMPLE_OCCURRENCES,
    SAMPLE_PEOPLE,
    WEEK,
    google,
    google_source,
)

__all__ = ["google"]  # the fixture, imported for pytest

Google = tuple[FakeGmail, dict[str, Any]]


def contacts(server: FakeGmail, info: dict[str, Any], state: dict[str, Any] | None = None) -> Any:
    return google_source(server, info, "google-contacts", sync_state=state)


def refs_of(source: Any, window: Window | None = None, cursor: str | None = None) -> list[Any]:
    return [ref for page in source.enumerate(window, cursor) for ref in page.items]


def test_contacts_list_everyone_once_then_only_changes(google: Google) -> None:
    server, info = google
    first = contacts(server, info)
    refs = refs_of(first)
    assert len(refs) == len({r.external_id for r in refs}) == len(SAMPLE_PEOPLE)
    people = {
        parse_json_contact(i.data).full_name + "|" + i.external_id: i
        for i in first.fetch(refs)
        if isinstance(i, RawItem)
    }
    assert len(people) == len(SAMPLE_PEOPLE)
    state = first.sync_state()
    assert state["people_sync_token"]

    ann = next(key.split("|")[1] for key in people if key.startswith("Ann Lee"))
    eve = next(key.split("|")[1] for key in people if key.startswith("Eve Moss"))
    server.update_person(
        USER, ann, {"organizations": [{"name": "Talent Partners", "title": "Head"}]}
    )
    server.delete_person(USER, eve)

    second = contacts(server, info, state)
    changes = {r.external_id: r for r in refs_of(second)}
    assert set(changes) == {ann, eve}
    assert changes[eve].version == "removed"
    fetched = {i.external_id: i for i in second.fetch(list(changes.values()))}
    assert parse_json_contact(fetched[ann].data).title == "Head"  # type: ignore[union-attr]
    assert parse_json_contact(fetched[eve].data).deleted  # type: ignore[union-attr]
    assert second.sync_state()["people_sync_token"] != state["people_sync_token"]


def test_an_expired_sync_token_lists_everyone_again_with_a_note(google: Google) -> None:
    server, info = google
    first = contacts(server, info)
    refs_of(first)
    server.expire_sync_tokens()

    again = contacts(server, info, first.sync_state())
    assert len(refs_of(again)) == len(SAMPLE_PEOPLE)
    assert again.notes and "expired" in again.notes[0]


def test_a_contact_deleted_since_listing_is_a_permanent_fetch_error(google: Google) -> None:
    server, info = google
    source = contacts(server, info)
    refs = refs_of(source)
    server.delete_person(USER, refs[0].external_id)

    outcomes = {o.external_id: o for o in source.fetch(refs)}
    gone = outcomes[refs[0].external_id]
    assert isinstance(gone, FetchError) and not gone.retryable
    assert sum(isinstance(o, RawItem) for o in outcomes.values()) == len(refs) - 1


def test_calendar_days_hold_the_occurrences_that_start_on_them(google: Google) -> None:
    server, info = google
    source = google_source(server, info, "google-calendar")
    per_day = {day: refs_of(source, Window.for_day(day)) for day in WEEK}

    assert sum(len(refs) for refs in per_day.values()) == SAMPLE_OCCURRENCES
    assert len(per_day[WEEK[0]]) == 2  # the intro call and the first stand-up
    assert len(per_day[WEEK[3]]) == 1  # the debrief from the night before is not here
    events = {
        day: [parse_json_event(i.data) for i in source.fetch(refs) if isinstance(i, RawItem)]
        for day, refs in per_day.items()
    }
    standups = [e for day in WEEK for e in events[day] if e.summary == "Stand-up"]
    assert len(standups) == 5 and all(e.recurrence_id for e in standups)
    assert len({e.uid for e in standups}) == 1
    [offsite] = [e for e in events[WEEK[4]] if e.all_day]
    assert offsite.all_day and offsite.start == dt.datetime(2026, 11, 6, tzinfo=dt.UTC)
    [review] = [e for e in events[WEEK[1]] if e.summary == "Pipeline review"]
    assert {a.email for a in review.attendees} == {
        USER,
        "ann.lee@talent.example",
        "bo@chen.example",
    }


def test_a_moved_meeting_changes_day_and_a_cancelled_one_is_listed_cancelled(
    google: Google,
) -> None:
    server, info = google
    source = google_source(server, info, "google-calendar")
    [intro] = [r for r in refs_of(source, Window.for_day(WEEK[0])) if "_" not in r.external_id]
    event_id = intro.external_id.split("|", 1)[1]
    [review] = [r for r in refs_of(source, Window.for_day(WEEK[1])) if "_" not in r.external_id]
    server.update_event(
        USER,
        "primary",
        event_id,
        {
            "start": {"dateTime": "2026-11-05T10:00:00Z"},
            "end": {"dateTime": "2026-11-05T10:30:00Z"},
        },
    )
    server.cancel_event(USER, "primary", review.external_id.split("|", 1)[1])

    moved = [
        r for r in refs_of(source, Window.for_day(WEEK[3])) if r.external_id == intro.external_id
    ]
    [cancelled] = [r for r in refs_of(source, Window.for_day(WEEK[1])) if "_" not in r.external_id]

    assert moved and moved[0].version != intro.version
    assert all(r.external_id != intro.external_id for r in refs_of(source, Window.for_day(WEEK[0])))
    assert cancelled.external_id == review.external_id and cancelled.version != review.version
    [item] = source.fetch([cancelled])
    assert isinstance(item, RawItem) and parse_json_event(item.data).cancelled


def test_revoked_google_grants_ask_to_reconnect(google: Google) -> None:
    server, info = google
    server.revoke(info["refresh_token"])
    for provider in ("google-contacts", "google-calendar"):
        with pytest.raises(CredentialsRevoked, match="reconnect your Google account"):
            google_source(server, info, provider).check()


def test_calendar_events_are_stored_with_their_calendar(google: Google) -> None:
    server, info = google
    source = google_source(server, info, "google-calendar")
    [item, *_] = [i for i in source.fetch(refs_of(source, Window.for_day(WEEK[0])))]
    assert isinstance(item, RawItem)
    assert json.loads(item.data)["calendarId"] == "primary"


def test_a_large_address_book_is_fetched_200_people_a_call() -> None:
    with FakeGmail() as server:
        token = server.add_user(USER)
        for n in range(450):
            server.add_person(
                USER,
                {
                    "names": [{"givenName": "Person", "familyName": str(n)}],
                    "emailAddresses": [{"value": f"person{n}@example.com"}],
                },
            )
        source = contacts(server, credentials_info(server, token))
        refs = refs_of(source)
        size = source.limits.fetch_batch_size
        items = [i for at in range(0, len(refs), size) for i in source.fetch(refs[at : at + size])]

    assert len(refs) == 450
    assert sum(isinstance(i, RawItem) for i in items) == 450
    # 450 people: one listing page, then batchGets of 200, 200 (one fetch of 400) and 50.
    assert server.stats.by_method["people.getBatchGet"] == 3
