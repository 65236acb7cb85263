"""The vCard parser on cards written by hand, the bundled sample, and the real-world corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest_pipeline.domain import RawItem
from ingest_pipeline.sources.vcard.vcard_source import VCardSource
from ingest_pipeline.streams.contacts.contact_record import (
    ContactPhone,
    ParsedContact,
    UnparseableCard,
)
from ingest_pipeline.streams.contacts.normalize import clean_name, normalize_email, normalize_phone
from ingest_pipeline.streams.contacts.vcard_lines import card_body, read_properties
from ingest_pipeline.streams.contacts.vcard_parser import parse_card, unescape

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "ingest_pipeline" / "sample_data"


def vcard(*lines: str, newline: str = "\r\n") -> bytes:
    return newline.join(["BEGIN:VCARD", *lines, "END:VCARD", ""]).encode("utf-8")


def test_vcard_21_quoted_printable_with_bare_type_parameters() -> None:
    contact = parse_card(
        vcard(
            "VERSION:2.1",
            "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Herrera;Tom=C3=A1s;;;",
            "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Tom=C3=A1s =",
            "Herrera",
            "ORG:Herrera, Lopez & Co;Sales",
            "TEL;CELL;WORK:+44 (0)20 7946 0958",
            "EMAIL;PREF;INTERNET:Tomas.Herrera@Example.net",
        ),
        default_region="US",
    )
    assert contact.full_name == "Tomás Herrera"
    assert (contact.given_name, contact.family_name) == ("Tomás", "Herrera")
    assert contact.organization == "Herrera, Lopez & Co"
    assert contact.phones == (ContactPhone("+442079460958", e164=True, kind="cell"),)
    assert contact.emails == ("tomas.herrera@example.net",)
    assert contact.defects == ()


def test_a_card_vobject_rejects_is_read_leniently_and_says_so() -> None:
    contact = parse_card(
        vcard(
            "VERSION:2.1",
            "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen",
            "FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen M=FCller",
            "ORG;ENCODING=QUOTED-PRINTABLE:Caf=E9 Noir",
            "TEL;WORK;VOICE:+49 30 901820",
            "PHOTO;ENCODING=BASE64;TYPE=JPEG:",
            "/9j/4AAQSkZJRgABAQAAAQABAAD",
            "AAAAAAAAAAAAAAAA",
            "",
            "this line is not a property",
            "EMAIL;INTERNET:juergen@example.de",
        )
    )
    assert contact.full_name == "Jürgen Müller"
    assert contact.given_name == "Jürgen"
    assert contact.organization == "Café Noir"
    assert contact.phones == (ContactPhone("+4930901820", e164=True, kind="work"),)
    assert contact.emails == ("juergen@example.de",)
    assert contact.photo_urls == ()
    assert contact.defects[0].startswith("not strict vCard (")
    assert contact.defects[1:] == (
        "ORG: quoted-printable value is not UTF-8; read as Windows-1252",
        "skipped a line that is not a property: 'this line is not a property'",
    )


def test_vcard_30_apple_export_with_groups_escapes_and_folds() -> None:
    contact = parse_card(
        vcard(
            "VERSION:3.0",
            "PRODID:-//Apple Inc.//macOS 14.0//EN",
            "N:O'Neill;Kevin;;;",
            "FN:Kevin O'Neill",
            "ORG:Acme\\, Inc.;Platform",
            "TITLE:Staff Engineer\\nBackend",
            "item1.EMAIL;type=INTERNET;type=pref:Kevin.ONeill@Example.com",
            "item1.X-ABLabel:_$!<Other>!$_",
            "item2.TEL;type=CELL;type=VOICE;type=pref:(415) 555-0199",
            "item2.X-ABLabel:_$!<Mobile>!$_",
            "EMAIL;type=INTERNET;type=WORK:kevin.oneill@work.exa",
            " mple.com",
            "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD",
            " /4QBYRXhpZgAATU0AKgAA",
            "UID:ABCD-1234",
        ),
        default_region="US",
    )
    assert contact == ParsedContact(
        full_name="Kevin O'Neill",
        given_name="Kevin",
        family_name="O'Neill",
        emails=("kevin.oneill@example.com", "kevin.oneill@work.example.com"),
        phones=(ContactPhone("+14155550199", e164=True, kind="cell"),),
        organization="Acme, Inc.",
        title="Staff Engineer Backend",
        uid="ABCD-1234",
    )


def test_vcard_40_uris_and_photo_links() -> None:
    contact = parse_card(
        vcard(
            "VERSION:4.0",
            "KIND:individual",
            "FN:Simone Weil",
            "N:Weil;Simone;;;",
            "EMAIL;TYPE=work;PREF=1:mailto:Simone@Example.org",
            'TEL;VALUE=uri;TYPE="cell,voice":tel:+44-20-7946-0958;ext=12',
            "TEL;TYPE=home:020 7946 0000",
            "PHOTO:https://photos.example.com/simone.png",
            "PHOTO:data:image/png;base64,iVBORw0KGgo=",
            "UID:urn:uuid:0c4b4c5e-4a5f-4f0e-9d3e-2b9a1f6c7d80",
            newline="\n",
        ),
        default_region="GB",
    )
    assert contact.emails == ("simone@example.org",)
    assert contact.phones == (
        ContactPhone("+442079460958", e164=True, kind="cell"),
        ContactPhone("+442079460000", e164=True, kind="home"),
    )
    assert contact.photo_urls == ("https://photos.example.com/simone.png",)
    assert contact.uid == "urn:uuid:0c4b4c5e-4a5f-4f0e-9d3e-2b9a1f6c7d80"
    assert contact.defects == ()


def test_unescaped_commas_do_not_cut_names_short() -> None:
    contact = parse_card(vcard("VERSION:2.1", "FN:Doe, John", "TITLE:CEO, Founder"))
    assert (contact.full_name, contact.title) == ("Doe, John", "CEO, Founder")


def test_name_from_n_when_fn_is_missing_and_agent_cards_stay_out() -> None:
    contact = parse_card(
        vcard(
            "VERSION:2.1",
            "N:Boss;Pat;Q.;Dr.;",
            "AGENT:",
            "BEGIN:VCARD",
            "VERSION:2.1",
            "FN:Sam Assistant",
            "EMAIL:sam@example.com",
            "END:VCARD",
            "TEL;HOME:212.555.0147",
        ),
        default_region="US",
    )
    assert contact.full_name == "Dr. Pat Q. Boss"
    assert contact.emails == ()
    assert contact.phones == (ContactPhone("+12125550147", e164=True, kind="home"),)


def test_a_card_that_is_not_utf8_is_read_as_windows_1252() -> None:
    data = vcard("VERSION:3.0", "FN:José Núñez").decode().encode("cp1252")
    contact = parse_card(data)
    assert contact.full_name == "José Núñez"
    assert contact.defects == ("card is not UTF-8; read as Windows-1252",)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (vcard("VERSION:3.0", "FN:", "NOTE:call back"), "card has no name, email or phone"),
        (
            vcard("VERSION:3.0", "EMAIL:not-an-address"),
            "card has no name, email or phone (dropped EMAIL 'not-an-address': not an address)",
        ),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Short\r\n", "card is truncated: no END:VCARD"),
        (vcard("VERSION:3.0", "FN:Wide").decode().encode("utf-16"), "card is not text"),
        (b"FN:No Envelope\r\n", "not a vCard: no BEGIN:VCARD line"),
        (vcard("VERSION:4.0", "KIND:group", "FN:Family"), "card is a contact group"),
    ],
)
def test_unusable_cards_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnparseableCard) as raised:
        parse_card(data)
    assert str(raised.value).startswith(reason)


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("(201) 555-0143", "US", ContactPhone("+12015550143", e164=True)),
        ("(201) 555-0143", None, ContactPhone("2015550143", e164=False)),
        ("+44 20 7946 0958", None, ContactPhone("+442079460958", e164=True)),
        ("020 7946 0958", "gb", ContactPhone("+442079460958", e164=True)),
        ("tel:+1-418-656-9254;ext=102", None, ContactPhone("+14186569254", e164=True)),
        ("555 555 1111", "US", ContactPhone("5555551111", e164=False)),
        ("555-0100 x 23", "US", ContactPhone("5550100", e164=False)),
        ("BusinessPhone", "US", ContactPhone("", e164=False)),
    ],
)
def test_phones_become_e164_when_valid(
    value: str, region: str | None, expected: ContactPhone
) -> None:
    assert normalize_phone(value, default_region=region) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" <Ann.Lee@Example.COM> ", "ann.lee@example.com"),
        ("mailto:Bo@Example.org?subject=hi", "bo@example.org"),
        ("Ann Lee <ann@example.com>", "ann@example.com"),
        ("not an address", None),
        ("ann@localhost", None),
        ("ann..lee@example.com", None),
    ],
)
def test_emails_are_normalised_or_refused(value: str, expected: str | None) -> None:
    assert normalize_email(value) == expected


def test_names_are_cleaned() -> None:
    assert clean_name('  "Ravi   Kumar" ') == "Ravi Kumar"
    assert clean_name("Kevin O'Neill") == "Kevin O'Neill"
    assert clean_name("Line\nBreak") == "Line Break"


def _parse_all(source: VCardSource) -> dict[str, ParsedContact | str]:
    refs = [ref for page in source.enumerate(None, None) for ref in page.items]
    outcomes: dict[str, ParsedContact | str] = {}
    for item in source.fetch(refs):
        assert isinstance(item, RawItem), item
        try:
            outcomes[item.external_id] = parse_card(item.data, default_region="US")
        except UnparseableCard as exc:
            outcomes[item.external_id] = str(exc)
    assert len(outcomes) == len(refs)
    return outcomes


def test_the_bundled_sample_address_book() -> None:
    outcomes = _parse_all(VCardSource(SAMPLE_DATA / "sample_contacts.vcf"))
    contacts = [o for o in outcomes.values() if isinstance(o, ParsedContact)]
    assert len(outcomes) == 13
    assert [o for o in outcomes.values() if isinstance(o, str)] == [
        "card has no name, email or phone"
    ]
    by_name: dict[str, list[ParsedContact]] = {}
    for contact in contacts:
        by_name.setdefault(contact.full_name, []).append(contact)
    assert [c.emails for c in by_name["Alex Chen"]] == [
        ("alex.chen@example.net",),
        ("alex.chen@northwind.example.org",),
    ]
    assert len(by_name["Laura Bennett"][0].emails) == 2
    assert by_name["Tomás Herrera"][0].phones[0].number == "+441614960754"
    senders = set(
        re.findall(rb"^From: .*<([^>]+)>", (SAMPLE_DATA / "sample.mbox").read_bytes(), re.M)
    )
    linked = {email for c in contacts for email in c.emails if email.encode() in senders}
    assert len(linked) == 11


def test_every_corpus_card_parses_or_says_why(corpus: Path) -> None:
    folder = corpus / "contacts" / "ez-vcard"
    outcomes = _parse_all(VCardSource(folder))
    begins = sum(
        len(re.findall(rb"^begin:vcard\r*$", f.read_bytes(), re.I | re.M))
        for f in folder.glob("*.vcf")
    )
    parsed = [o for o in outcomes.values() if isinstance(o, ParsedContact)]
    assert all(o for o in outcomes.values() if isinstance(o, str))
    assert (len(outcomes), begins, len(parsed)) == (26, 26, 26)
    assert sum(1 for c in parsed if any(d.startswith("not strict") for d in c.defects)) == 1
    assert sum(1 for c in parsed if c.defects) == 3

    gmail = _parse_all(VCardSource(folder / "gmail-list.vcf"))
    chris = [c for c in gmail.values() if isinstance(c, ParsedContact)][1]
    assert (chris.full_name, chris.given_name, chris.family_name) == (
        "Chris Beatle",
        "Chris",
        "Beatle",
    )
    assert chris.emails == ("chrisy55d@yahoo.com",)


def test_the_lenient_reader_agrees_with_vobject_on_the_corpus(corpus: Path) -> None:
    for path in sorted((corpus / "contacts" / "ez-vcard").glob("*.vcf")):
        source = VCardSource(path)
        refs = [ref for page in source.enumerate(None, None) for ref in page.items]
        for item in source.fetch(refs):
            assert isinstance(item, RawItem)
            contact = parse_card(item.data)
            body = card_body(item.data.decode("utf-8", errors="replace"))
            properties, _ = read_properties(body)
            emails = [normalize_email(unescape(p.value)) for p in properties if p.name == "EMAIL"]
            names = [clean_name(unescape(p.value)) for p in properties if p.name == "FN"]
            assert list(contact.emails) == list(dict.fromkeys(e for e in emails if e)), path
            assert contact.full_name == (names[0] if names else contact.full_name), path
