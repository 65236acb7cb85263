"""Microsoft contacts through Graph's contact delta, against the local server over TLS:
every folder listed once, later runs see only changes, removals read as deleted."""

from __future__ import annotations

import json
from typing import Any

from ingest_pipeline.domain import ItemRef, RawItem
from ingest_pipeline.streams.contacts.json_contacts import parse_json_contact
from ingest_pipeline_tests.fakes.graph_server import FakeGraph
from ingest_pipeline_tests.graph_fixtures import MAILBOX, SAMPLE_CONTACTS, graph, outlook_source

__all__ = ["graph"]  # the fixture, imported for pytest


def contacts_source(server: FakeGraph, sync_state: dict[str, Any] | None = None) -> Any:
    return outlook_source(server, provider="microsoft-contacts", sync_state=sync_state)


def listing(source: Any, cursor: str | None = None) -> list[ItemRef]:
    return [ref for page in source.enumerate(None, cursor) for ref in page.items]


def test_the_first_listing_covers_every_folder_and_fetches_parseable_json(
    graph: FakeGraph,
) -> None:
    source = contacts_source(graph)
    refs = listing(source)

    assert len(refs) == len({r.external_id for r in refs}) == len(SAMPLE_CONTACTS)
    assert all(r.version for r in refs)
    names = sorted(
        parse_json_contact(item.data).full_name
        for item in source.fetch(refs)
        if isinstance(item, RawItem)
    )
    assert names == sorted(str(fields["displayName"]) for fields, _ in SAMPLE_CONTACTS)
    assert set(source.sync_state()["contacts_delta"]) >= {"default"}
    assert len(source.sync_state()["contacts_delta"]) == 2  # default + "Candidates"


def test_later_listings_hold_only_changes_and_removals_read_as_deleted(
    graph: FakeGraph,
) -> None:
    first = contacts_source(graph)
    refs = {r.external_id: r for r in listing(first)}
    ann = next(
        i
        for i in first.fetch(list(refs.values()))
        if isinstance(i, RawItem) and b"Ann Lee" in i.data
    ).external_id
    bo = next(r for r in refs if r != ann)
    graph.update_contact(MAILBOX, ann, {"jobTitle": "Head of Talent"})
    graph.delete_contact(MAILBOX, bo)

    second = contacts_source(graph, sync_state=first.sync_state())
    changes = {r.external_id: r for r in listing(second)}

    assert set(changes) == {ann, bo}
    assert changes[ann].version != refs[ann].version
    assert changes[bo].version == "removed"
    fetched = {i.external_id: i for i in second.fetch(list(changes.values()))}
    assert isinstance(fetched[ann], RawItem) and isinstance(fetched[bo], RawItem)
    assert parse_json_contact(fetched[ann].data).title == "Head of Talent"
    assert parse_json_contact(fetched[bo].data).deleted
    assert json.loads(fetched[bo].data)["@removed"] == {"reason": "deleted"}


def test_an_expired_delta_lists_the_folder_in_full_with_a_note(graph: FakeGraph) -> None:
    first = contacts_source(graph)
    listing(first)
    graph.expire_deltas()

    again = contacts_source(graph, sync_state=first.sync_state())
    refs = listing(again)

    assert len({r.external_id for r in refs}) == len(SAMPLE_CONTACTS)
    assert again.notes and "expired" in again.notes[0]


def test_listing_resumes_from_each_cursor(graph: FakeGraph) -> None:
    source = contacts_source(graph)
    pages = list(source.enumerate(None, None))
    for at, page in enumerate(pages[:-1]):
        rest = listing(contacts_source(graph), page.cursor)
        assert [r.external_id for r in rest] == [
            r.external_id for p in pages[at + 1 :] for r in p.items
        ]
