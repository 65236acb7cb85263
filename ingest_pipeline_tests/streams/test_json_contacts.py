"""Contacts that Graph and the People API hand out as JSON read like vCards do: the same
normalised emails and E.164 phones, and tombstones read as deleted."""

from __future__ import annotations

import json

import pytest

from ingest_pipeline.streams.contacts.json_contacts import is_json_contact, parse_json_contact
from ingest_pipeline.streams.contacts.vcard_parser import UnparseableCard
from ingest_pipeline.streams.registry import get_stream
from ingest_pipeline.streams.stream_kind import ParseOptions, UnparseableItem

GRAPH_CONTACT = {
    "@odata.etag": 'W/"EQAAABYAAAB"',
    "id": "AAMkADNmMTQ4LWZlNjMtNDYyZi04ZjIwLTM3MGMzMTVlMzZlNQBGAAAAAAA=",
    "changeKey": "EQAAABYAAAB",
    "displayName": "Dana Scully",
    "givenName": "Dana",
    "surname": "Scully",
    "emailAddresses": [
        {"name": "Dana Scully", "address": "Dana.Scully@FBI.example"},
        {"name": "dup", "address": "dana.scully@fbi.example"},
        {"name": "broken", "address": "not an address"},
    ],
    "businessPhones": ["(202) 555-0142"],
    "homePhones": [],
    "mobilePhone": "+44 20 7946 0958",
    "companyName": "FBI",
    "jobTitle": "Special Agent",
}
PEOPLE_PERSON = {
    "resourceName": "people/c5872389143",
    "etag": "%EgcBAgkLLjc9GgQBAgUHIgxHcnNqUUVkSmRqbz0=",
    "names": [{"displayName": "Fox Mulder", "givenName": "Fox", "familyName": "Mulder"}],
    "emailAddresses": [{"value": "fox@fbi.example", "type": "work"}],
    "phoneNumbers": [{"value": "202-555-0199", "type": "mobile"}],
    "organizations": [{"name": "FBI", "title": "Agent"}],
    "photos": [
        {"url": "https://lh3.googleusercontent.com/a/photo", "default": False},
        {"url": "https://lh3.googleusercontent.com/a/default-user", "default": True},
    ],
}


def as_bytes(value: object) -> bytes:
    return json.dumps(value).encode("utf-8")


def test_a_graph_contact_reads_with_normalised_emails_and_phones() -> None:
    card = parse_json_contact(as_bytes(GRAPH_CONTACT), default_region="US")

    assert card.full_name == "Dana Scully"
    assert (card.given_name, card.family_name) == ("Dana", "Scully")
    assert card.emails == ("dana.scully@fbi.example",)
    assert [(p.number, p.kind) for p in card.phones] == [
        ("+442079460958", "cell"),
        ("+12025550142", "work"),
    ]
    assert (card.organization, card.title) == ("FBI", "Special Agent")
    assert card.uid == GRAPH_CONTACT["id"]
    assert card.defects == ("dropped email 'not an address': not an address",)


def test_a_people_person_reads_without_the_default_photo() -> None:
    card = parse_json_contact(as_bytes(PEOPLE_PERSON), default_region="US")

    assert card.full_name == "Fox Mulder"
    assert card.emails == ("fox@fbi.example",)
    assert [p.number for p in card.phones] == ["+12025550199"]
    assert card.photo_urls == ("https://lh3.googleusercontent.com/a/photo",)
    assert card.uid == "people/c5872389143"


@pytest.mark.parametrize(
    "tombstone",
    [
        {"id": "AAMkAD=", "@removed": {"reason": "deleted"}},
        {"resourceName": "people/c1", "etag": "x", "metadata": {"deleted": True}},
    ],
)
def test_tombstones_read_as_deleted(tombstone: dict[str, object]) -> None:
    card = parse_json_contact(as_bytes(tombstone))
    assert card.deleted and card.full_name == "" and card.uid


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (as_bytes({"kind": "something"}), "neither a Graph contact nor a People person"),
        (
            as_bytes({"id": "x", "displayName": " ", "emailAddresses": []}),
            "no name, email or phone",
        ),
    ],
)
def test_unusable_json_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnparseableCard, match=reason):
        parse_json_contact(data)


def test_the_contacts_kind_reads_json_and_vcards_alike() -> None:
    kind = get_stream("contacts")
    options = ParseOptions(default_phone_region="US")
    vcard = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dana Scully\r\n"
        b"EMAIL:dana.scully@fbi.example\r\nEND:VCARD\r\n"
    )

    from_json = kind.parse(as_bytes(GRAPH_CONTACT), options)
    from_vcard = kind.parse(vcard, options)

    assert is_json_contact(b'  {"id": 1}') and not is_json_contact(vcard)
    assert list(from_json["emails"]) == list(from_vcard["emails"]) == ["dana.scully@fbi.example"]
    with pytest.raises(UnparseableItem, match="not valid JSON"):
        kind.parse(b"{oops", options)
