"""Mail becomes interactions and contacts downstream of ingest/mail, through Dagster: the
account's own mail is outbound, threads follow References, bounces, list mail and role
accounts are no relationship, people become (or join) contacts, a name alone only suggests;
a re-run with nothing new changes nothing; each check fails on a corrupted table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.derived.registry import DERIVED
from ingest_pipeline.derived.timeline import contact_addresses, timeline_for
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail
from ingest_pipeline_tests.gmail_fixtures import (
    USER,
    credentials_info,
    credentials_key,
    register_gmail,
)
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    corrupt_with,
    count_rows,
    derive,
    register_mailbox,
    register_source,
    run_days,
    snapshot,
)

DAY = dt.date(2026, 11, 16)
ME = "morgan.lee@example.com"
__all__ = ["credentials_key"]  # a fixture, imported for pytest


def _message(from_line: str, headers: str, body: str = "Hello.") -> str:
    return f"From {from_line} Mon Nov 16 10:00:00 2026\n{headers.strip()}\n\n{body}\n\n"


MAILBOX = "".join(
    [
        _message(
            "priya@example.net",
            """
From: "Priya Raman" <Priya@Example.net>
To: Morgan Lee <morgan.lee@example.com>
Cc: Sam Ortiz <sam.ortiz@example.org>
Subject: Platform role
Date: Mon, 16 Nov 2026 09:00:00 +0000
Message-ID: <first@example.net>
""",
        ),
        _message(
            "morgan.lee@example.com",
            """
From: Morgan Lee <MORGAN.LEE@example.com>
To: "Raman, Priya" <priya@example.net>
Subject: Re: Platform role
Date: Mon, 16 Nov 2026 09:30:00 +0000
Message-ID: <reply@example.com>
In-Reply-To: <first@example.net>
References: <first@example.net>
""",
        ),
        _message(
            "MAILER-DAEMON@mx.example.com",
            """
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: morgan.lee@example.com
Subject: Undelivered Mail Returned to Sender
Date: Mon, 16 Nov 2026 09:31:00 +0000
Message-ID: <bounce@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"
""",
            "--b\nContent-Type: text/plain\n\nThe mail could not be delivered.\n--b--",
        ),
        _message(
            "news@weekly.example.org",
            """
From: The Weekly <news@weekly.example.org>
To: morgan.lee@example.com
Subject: Issue 12
Date: Mon, 16 Nov 2026 09:40:00 +0000
Message-ID: <issue12@weekly.example.org>
List-Id: The Weekly <weekly.example.org>
""",
        ),
        _message(
            "alex@second.example.com",
            """
From: Alex Kim <alex@second.example.com>
To: morgan.lee@example.com
Cc: Careers <careers@second.example.com>
Subject: Coffee?
Date: Mon, 16 Nov 2026 11:00:00 +0000
Message-ID: <coffee@second.example.com>
""",
        ),
    ]
)
# Alex Kim of the address book has another address: same name, maybe not the same person.
ADDRESS_BOOK = """BEGIN:VCARD
VERSION:3.0
FN:Alex Kim
EMAIL:alex.kim@first.example.com
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Sam Ortiz
EMAIL:sam.ortiz@example.org
TEL:+1 415 555 0100
END:VCARD
"""


def _mailbox(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "morgan.mbox"
    path.write_text(MAILBOX)
    return register_mailbox(db_url, path, task=None, own_addresses=[ME])


def _rows(db_url: str, sql: str) -> list[dict[str, object]]:
    with get_engine(db_url).connect() as c:
        return [dict(r._mapping) for r in c.execute(sa.text(sql))]


def _import_and_derive(
    db_url: str, instance: dg.DagsterInstance, tmp_path: Path, *, book_first: bool = True
) -> tuple[str, dict[str, object]]:
    if book_first:
        book = tmp_path / "book.vcf"
        book.write_text(ADDRESS_BOOK)
        contacts = register_source(db_url, book, provider="vcard", stream="contacts")
        [imported] = run_days(db_url, instance, contacts, None, stream="contacts")
        assert imported.success, imported.error
    key = _mailbox(db_url, tmp_path)
    [ingested] = run_days(db_url, instance, key, [DAY])
    assert ingested.success, ingested.error
    [derived] = derive(db_url, instance, key, [DAY])
    assert derived.success, derived.error
    return key, derived.metrics


def test_mail_becomes_interactions_with_direction_threads_and_automation(
    db_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    _key, metrics = _import_and_derive(db_url, dagster_instance, tmp_path)

    rows = _rows(
        db_url,
        "select i.email, i.role, i.direction, i.thread_key, i.automated, i.display_name, "
        "i.title from interactions i where stream = 'mail' order by occurred_at, email",
    )
    people = {(r["title"], r["email"]): r for r in rows}
    priya_in = people[("Platform role", "priya@example.net")]
    assert (priya_in["role"], priya_in["direction"]) == ("from", "inbound")
    assert priya_in["display_name"] == "Priya Raman" and priya_in["automated"] is None
    assert people[("Platform role", "sam.ortiz@example.org")]["role"] == "cc"
    priya_out = people[("Re: Platform role", "priya@example.net")]
    assert (priya_out["role"], priya_out["direction"]) == ("to", "outbound")
    assert priya_out["display_name"] == "Priya Raman"  # "Raman, Priya" read the right way
    assert priya_out["thread_key"] == priya_in["thread_key"] == "<first@example.net>"
    # The account itself is never a participant, however its address is spelt.
    assert not [r for r in rows if r["email"] == ME]
    bounce = people[("Undelivered Mail Returned to Sender", "mailer-daemon@mx.example.com")]
    assert "delivery-status" in str(bounce["automated"])
    assert str(people[("Issue 12", "news@weekly.example.org")]["automated"]).startswith("List-Id")
    assert "role account" in str(people[("Coffee?", "careers@second.example.com")]["automated"])
    assert people[("Coffee?", "alex@second.example.com")]["automated"] is None
    assert metrics["mail_interactions.interactions_inserted"] == len(rows) == 7
    assert metrics["mail_interactions.automated"] == 3


def test_people_in_mail_become_contacts_joining_those_other_sources_know(
    db_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    _key, metrics = _import_and_derive(db_url, dagster_instance, tmp_path)

    contacts = {
        r["display_name"]: r
        for r in _rows(db_url, "select id, display_name, seen_in_mail from contacts")
    }
    # Priya and the second Alex Kim are new; Sam is the address book's Sam (same email).
    assert metrics["contacts_from_mail.contacts_created"] == 2
    assert metrics["contacts_from_mail.contacts_matched"] == 1
    assert contacts["Priya Raman"]["seen_in_mail"] and contacts["Sam Ortiz"]["seen_in_mail"]
    assert count_rows(db_url, "select count(*) from contacts where display_name = 'Sam Ortiz'") == 1
    # Two Alex Kims with different addresses stay two; the new one is suggested as the other.
    alexes = _rows(db_url, "select id, seen_in_mail from contacts where display_name = 'Alex Kim'")
    assert len(alexes) == 2
    [suggestion] = _rows(
        db_url, "select contact_id, similar_contact_id, reason from contact_suggestions"
    )
    new_alex = next(a["id"] for a in alexes if a["seen_in_mail"])
    old_alex = next(a["id"] for a in alexes if not a["seen_in_mail"])
    assert (suggestion["contact_id"], suggestion["similar_contact_id"]) == (new_alex, old_alex)
    # Automated mail makes no contact; every relationship is linked to its contact.
    for address in (
        "mailer-daemon@mx.example.com",
        "news@weekly.example.org",
        "careers@second.example.com",
    ):
        assert (
            count_rows(
                db_url,
                "select count(*) from contact_identities where identity = :identity",
                identity=f"email:{address}",
            )
            == 0
        )
    assert (
        count_rows(
            db_url,
            "select count(*) from interactions where automated is null and contact_id is null",
        )
        == 0
    )


def test_a_card_imported_after_the_mail_joins_the_contact_mail_created(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    _import_and_derive(sqlite_url, dagster_instance, tmp_path, book_first=False)
    book = tmp_path / "later.vcf"
    book.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Priya Raman\nORG:Acme\nEMAIL:priya@example.net\nEND:VCARD\n"
    )
    contacts = register_source(sqlite_url, book, provider="vcard", stream="contacts")

    [imported] = run_days(sqlite_url, dagster_instance, contacts, None, stream="contacts")

    assert imported.metrics["contacts_updated"] == 1
    assert imported.metrics.get("contacts_created", 0) == 0
    [priya] = _rows(
        sqlite_url,
        "select organization, seen_in_mail from contacts where display_name = 'Priya Raman'",
    )
    assert priya == {"organization": "Acme", "seen_in_mail": 1}


def test_a_rerun_with_nothing_new_leaves_every_derived_table_identical(
    db_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    key, _ = _import_and_derive(db_url, dagster_instance, tmp_path)
    before = snapshot(db_url)

    [ingested] = run_days(db_url, dagster_instance, key, [DAY])
    [derived] = derive(db_url, dagster_instance, key, [DAY])

    assert ingested.success and derived.success
    assert snapshot(db_url) == before
    changed = {
        k: v
        for k, v in derived.metrics.items()
        if k.endswith(("_inserted", "_updated", "_deleted", "_created", "_linked"))
    }
    assert set(changed.values()) == {0}
    assert set(check_results(dagster_instance, derived.run_id).values()) == {True}


MEETING = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:call-1@example.com
DTSTAMP:20261110T000000Z
DTSTART:20261116T150000Z
DTEND:20261116T153000Z
SUMMARY:Platform role: first call
ORGANIZER;CN=Morgan Lee:mailto:morgan.lee@example.com
ATTENDEE;CN=Priya Raman:mailto:priya@example.net
END:VEVENT
END:VCALENDAR
"""


def test_a_persons_timeline_gathers_their_mail_and_meetings(
    db_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    _import_and_derive(db_url, dagster_instance, tmp_path)
    calendar = tmp_path / "calendar.ics"
    calendar.write_text(MEETING)
    key = register_source(db_url, calendar, provider="ics", stream="calendar_events")
    [ingested] = run_days(db_url, dagster_instance, key, [DAY], stream="calendar_events")
    assert ingested.success, ingested.error
    [derived] = derive(db_url, dagster_instance, key, [DAY], stream="calendar_events")
    assert derived.success, derived.error

    with session_scope(db_url) as session:
        name, addresses = contact_addresses(session, "default", "PRIYA@example.net")
        entries = timeline_for(session, "default", addresses)

    assert name == "Priya Raman"
    assert [(e.kind, e.label) for e in entries] == [
        ("email_in", "← Platform role"),
        ("email_out", "→ Re: Platform role"),
        ("meeting", "Platform role: first call"),
    ]
    # Automated mail puts nothing on anyone's timeline.
    with session_scope(db_url) as session:
        _, bounce = contact_addresses(session, "default", "mailer-daemon@mx.example.com")
        assert timeline_for(session, "default", bounce) == []
    assert check_results(dagster_instance, derived.run_id) == {
        "calendar_events_relationships_on_the_timeline": True,
        "calendar_events_contacts_have_insights": True,
    }


CORRUPTIONS = {
    "an interaction vanished": (
        "interactions_match_messages",
        corrupt_with("delete from interactions where email = 'sam.ortiz@example.org'"),
    ),
    "an interaction without its message": (
        "interactions_match_messages",
        corrupt_with(
            "insert into interactions (tenant_id, integration_id, stream, external_id, email, "
            "kind, role, occurred_at, title, cancelled) select tenant_id, integration_id, stream,"
            " external_id, 'ghost@example.com', kind, role, occurred_at, title, cancelled "
            "from interactions where email = 'sam.ortiz@example.org'"
        ),
    ),
    "one person spelt twice in one message": (
        "one_interaction_per_person",
        corrupt_with(
            "insert into interactions (tenant_id, integration_id, stream, external_id, email, "
            "kind, role, occurred_at, title, cancelled) select tenant_id, integration_id, stream,"
            " external_id, 'Sam.Ortiz@example.org', kind, role, occurred_at, title, cancelled "
            "from interactions where email = 'sam.ortiz@example.org'"
        ),
    ),
    "a timeline event vanished": (
        "mail_relationships_on_the_timeline",
        corrupt_with("delete from timeline_events where email = 'priya@example.net'"),
    ),
    "a person lost their contact": (
        "every_person_has_a_contact",
        corrupt_with("update interactions set contact_id = null where email = 'priya@example.net'"),
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_each_derived_check_fails_on_the_corruption_it_guards_against(
    case: str, sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    name, corrupt = CORRUPTIONS[case]
    key, _ = _import_and_derive(sqlite_url, dagster_instance, tmp_path)
    [check] = [c for d in DERIVED for c in d.checks if c.name == name]
    with session_scope(sqlite_url) as session:
        inputs = DeriveInputs(session, integrations.find_integration(session, key), DAY)
        assert check.find(inputs) == []

    corrupt(sqlite_url)

    with session_scope(sqlite_url) as session:
        inputs = DeriveInputs(session, integrations.find_integration(session, key), DAY)
        problems = check.find(inputs)
    assert problems and all(("message" in p or "item" in p) for p in problems)
    # Computing the partition again repairs it, and its checks in that run pass.
    [repaired] = derive(sqlite_url, dagster_instance, key, [DAY])
    assert check_results(dagster_instance, repaired.run_id)[name] is True


def _gmail_message(headers: str) -> bytes:
    return (headers.strip().replace("\n", "\r\n") + "\r\n\r\nHello.\r\n").encode()


def test_people_in_gmail_headers_and_the_address_book_are_one_contact(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, credentials_key: str, tmp_path: Path
) -> None:
    at = dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC)
    with FakeGmail() as server:
        token = server.add_user(USER)
        server.add_message(
            USER,
            _gmail_message(f"""
From: Recruiting <{USER}>
To: Dana Fox <DANA@fox.example.org>
Subject: Your application
Date: Mon, 16 Nov 2026 09:00:00 +0000
Message-ID: <sent-1@example.com>
"""),
            internal_date=at,
        )
        server.add_message(
            USER,
            _gmail_message(f"""
From: "Fox, Dana" <dana@fox.example.org>
To: {USER}
Subject: Re: Your application
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <reply-1@fox.example.org>
References: <sent-1@example.com>
"""),
            internal_date=at + dt.timedelta(hours=1),
        )
        key = register_gmail(sqlite_url, server, credentials_info(server, token), credentials_key)
        [ingested] = run_days(sqlite_url, dagster_instance, key, [DAY])
        assert ingested.success, ingested.error
        [derived] = derive(sqlite_url, dagster_instance, key, [DAY])
        assert derived.success, derived.error
    book = tmp_path / "book.vcf"
    book.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Dana Fox\nEMAIL:dana@fox.example.org\n"
        "EMAIL:dana.fox@home.example.net\nTEL:+1 415 555 0199\nEND:VCARD\n"
    )
    contacts = register_source(sqlite_url, book, provider="vcard", stream="contacts")
    [imported] = run_days(sqlite_url, dagster_instance, contacts, None, stream="contacts")
    assert imported.success, imported.error

    # The Gmail account's own address makes its mail outbound; both messages are one thread.
    rows = _rows(
        sqlite_url,
        "select direction, role, thread_key from interactions order by occurred_at",
    )
    assert [(r["direction"], r["role"]) for r in rows] == [("outbound", "to"), ("inbound", "from")]
    assert {r["thread_key"] for r in rows} == {"<sent-1@example.com>"}
    # One person: the contact mail created, joined by the card (both emails, the phone).
    [dana] = _rows(
        sqlite_url, "select id, display_name, emails, phones, seen_in_mail from contacts"
    )
    assert dana["display_name"] == "Dana Fox" and dana["seen_in_mail"]
    assert "dana.fox@home.example.net" in str(dana["emails"]) and "+14155550199" in str(
        dana["phones"]
    )
    linked = count_rows(
        sqlite_url, "select count(*) from interactions where contact_id = :c", c=dana["id"]
    )
    assert linked == 2
