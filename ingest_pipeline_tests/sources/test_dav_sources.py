"""CalDAV and CardDAV sources against a real Radicale: discovery, several calendars, the
change probes, TLS, and what CardDAV's sync-collection does with edits, deletions, refused
tokens and deleted address books."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ingest_pipeline.domain import REMOVED, FetchError, ItemRef, RawItem, Window
from ingest_pipeline.sources.base import CredentialsRevoked, Source
from ingest_pipeline_tests.dav_fixtures import (
    PASSWORD,
    USER,
    dav_sample,
    dav_server,
    dav_source,
)
from ingest_pipeline_tests.radicale_server import RadicaleServer, radicale

__all__ = ["dav_sample", "dav_server"]  # fixtures, imported for pytest

DAY = dt.date(2026, 11, 3)


def event(uid: str, start: str, summary: str, rrule: str = "") -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"DTSTART:{start}",
        "DURATION:PT1H",
        f"SUMMARY:{summary}",
        *([f"RRULE:{rrule}"] if rrule else []),
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


def card(uid: str, name: str, email: str) -> bytes:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}", f"EMAIL:{email}"]
    return "\r\n".join([*lines, "END:VCARD", ""]).encode()


def listed(source: Source, window: Window | None = None) -> list[ItemRef]:
    return [ref for page in source.enumerate(window, None) for ref in page.items]


def fetched(source: Source, refs: list[ItemRef]) -> dict[str, RawItem | FetchError]:
    return {item.external_id: item for item in source.fetch(refs)}


def test_occurrences_of_every_calendar_on_their_start_day(dav_server: RadicaleServer) -> None:
    work = dav_server.make_collection(USER, "work", "calendar", "Work")
    home = dav_server.make_collection(USER, "home", "calendar", "Home")
    daily = event("standup", "20261102T090000Z", "Stand-up", "FREQ=DAILY;COUNT=3")
    dav_server.put(USER, work + "standup.ics", daily, "text/calendar")
    # The same UID in another calendar (an invitation copied there) stays its own event.
    dav_server.put(USER, home + "standup.ics", daily, "text/calendar")
    late = event("late", "20261103T233000Z", "Late call")
    dav_server.put(USER, home + "late.ics", late, "text/calendar")

    source = dav_source(dav_server, "caldav")
    refs = listed(source, Window.for_day(DAY))

    assert sorted(r.external_id for r in refs) == [
        f"/{USER}/home/|late|single",
        f"/{USER}/home/|standup|2026-11-03T09:00:00+00:00",
        f"/{USER}/work/|standup|2026-11-03T09:00:00+00:00",
    ]
    items = fetched(source, refs)
    assert all(isinstance(i, RawItem) and b"BEGIN:VEVENT" in i.data for i in items.values())
    # The occurrence that runs past midnight belongs to the day it starts on only.
    assert not [
        r
        for r in listed(source, Window.for_day(DAY + dt.timedelta(days=1)))
        if "late" in r.external_id
    ]

    only_work = dav_source(dav_server, "caldav", calendars=["Work"])
    assert [r.external_id for r in listed(only_work, Window.for_day(DAY))] == [
        f"/{USER}/work/|standup|2026-11-03T09:00:00+00:00"
    ]


def test_the_calendar_probe_changes_with_an_edit_and_not_otherwise(
    dav_server: RadicaleServer,
) -> None:
    work = dav_server.make_collection(USER, "work", "calendar")
    dav_server.put(USER, work + "a.ics", event("a", "20261103T090000Z", "A"), "text/calendar")
    source = dav_source(dav_server, "caldav")

    first = source.probe_signature()
    listed(source, Window.for_day(DAY))
    assert source.probe_signature() == first, "reading changes nothing"
    dav_server.put(USER, work + "a.ics", event("a", "20261104T090000Z", "A"), "text/calendar")
    moved = source.probe_signature()
    dav_server.make_collection(USER, "new", "calendar")
    fresh = dav_source(dav_server, "caldav")
    assert len({first, moved, fresh.probe_signature()}) == 3


def test_the_address_book_probe_changes_with_every_add_edit_and_delete(
    dav_sample: RadicaleServer,
) -> None:
    source = dav_source(dav_sample, "carddav")
    first = source.probe_signature()
    assert source.probe_signature() == first
    dav_sample.put(USER, f"/{USER}/contacts/new.vcf", card("n", "New", "n@x.test"), "text/vcard")
    added = dav_source(dav_sample, "carddav").probe_signature()
    dav_sample.delete(USER, f"/{USER}/contacts/new.vcf")
    deleted = dav_source(dav_sample, "carddav").probe_signature()
    assert len({first, added, deleted}) == 3


def sync_run(server: RadicaleServer, state: dict[str, Any] | None) -> tuple[Any, list[ItemRef]]:
    source = dav_source(server, "carddav", sync_state=state)
    return source, listed(source)


def test_sync_collection_lists_only_changes_and_deletions_after_the_first_run(
    dav_sample: RadicaleServer,
) -> None:
    first, everyone = sync_run(dav_sample, None)
    assert len(everyone) == 13 and first.listing_complete
    state = first.sync_state()

    second, nothing = sync_run(dav_sample, state)
    assert nothing == [] and not second.listing_complete

    gone = everyone[0].external_id
    dav_sample.delete(USER, gone)
    new = f"/{USER}/contacts/new.vcf"
    dav_sample.put(USER, new, card("new-1", "Neha Rao", "neha@x.test"), "text/vcard")
    third, changes = sync_run(dav_sample, state)

    assert {(r.external_id, r.version == REMOVED) for r in changes} == {
        (gone, True),
        (new, False),
    }
    items = fetched(third, changes)
    assert b'"@removed"' in items[gone].data  # type: ignore[union-attr]
    assert b"Neha Rao" in items[new].data  # type: ignore[union-attr]
    assert third.sync_state() != state


def test_a_refused_sync_token_lists_the_book_in_full_with_a_note(
    dav_sample: RadicaleServer,
) -> None:
    stale = {"carddav_sync": {f"/{USER}/contacts/": "http://radicale.org/ns/sync/" + "0" * 64}}
    source, refs = sync_run(dav_sample, stale)

    assert len(refs) == 13
    assert any("refused" in note for note in source.notes)
    book = f"/{USER}/contacts/"
    assert source.sync_state()["carddav_sync"][book] not in ("", stale["carddav_sync"][book])


def test_a_deleted_address_book_makes_the_listing_complete(dav_sample: RadicaleServer) -> None:
    other = dav_sample.make_collection(USER, "old", "addressbook")
    dav_sample.put(USER, other + "x.vcf", card("x", "Old Friend", "old@x.test"), "text/vcard")
    first, refs = sync_run(dav_sample, None)
    assert len(refs) == 14
    dav_sample.delete(USER, other)

    second, again = sync_run(dav_sample, first.sync_state())

    assert len(again) == 13 and second.listing_complete, "the old book's card is then removed"
    assert any("gone" in note for note in second.notes)


def test_a_card_deleted_after_listing_is_a_fetch_error_and_the_rest_come_back(
    dav_sample: RadicaleServer,
) -> None:
    source, refs = sync_run(dav_sample, None)
    dav_sample.delete(USER, refs[0].external_id)
    items = fetched(source, refs)
    failure = items[refs[0].external_id]
    assert isinstance(failure, FetchError) and not failure.retryable
    assert "no longer on the CardDAV server" in failure.reason
    assert sum(isinstance(i, RawItem) for i in items.values()) == 12


def test_tls_with_the_servers_ca_and_a_clear_error_for_a_wrong_password() -> None:
    with radicale({USER: PASSWORD}, tls=True) as server:
        server.make_collection(USER, "work", "calendar")
        server.make_collection(USER, "contacts", "addressbook")
        assert server.url.startswith("https://")
        for provider in ("caldav", "carddav"):
            dav_source(server, provider).check()
            with pytest.raises(CredentialsRevoked, match="refused the login of ann"):
                dav_source(server, provider, password="wrong").check()


def test_the_feed_names_the_days_changed_events_now_fall_on(dav_server: RadicaleServer) -> None:
    work = dav_server.make_collection(USER, "work", "calendar")
    dav_server.put(USER, work + "a.ics", event("a", "20261103T090000Z", "A"), "text/calendar")
    dav_server.put(USER, work + "b.ics", event("b", "20261104T090000Z", "B"), "text/calendar")
    source: Any = dav_source(dav_server, "caldav")
    span = {"first": dt.date(2026, 11, 1), "last": dt.date(2026, 11, 30)}

    days, feed = source.changed_days(None, **span)
    assert days is None and set(feed) == {f"/{USER}/work/"}  # no tokens yet: cannot tell
    assert source.changed_days(feed, **span) == ([], feed)  # nothing changed

    moved = event("a", "20261110T090000Z", "A", "FREQ=DAILY;COUNT=2")
    dav_server.put(USER, work + "a.ics", moved, "text/calendar")
    dav_server.delete(USER, work + "b.ics")
    days, after = source.changed_days(feed, **span)
    assert days == [dt.date(2026, 11, 10), dt.date(2026, 11, 11)]  # the deleted one has none
    assert after != feed

    stale = {path: "http://radicale.org/ns/sync/" + "0" * 64 for path in feed}
    days, renewed = source.changed_days(stale, **span)
    assert days is None and renewed == after  # refused: the usual days, a fresh token
