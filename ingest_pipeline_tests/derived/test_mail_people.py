"""Who took part in a message, as the account sees it, and which of them are people."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest_pipeline.derived.display_names import clean_display_name, machine_reason, role_reason
from ingest_pipeline.derived.mail_people import (
    INBOUND,
    OUTBOUND,
    MailPerson,
    mail_people,
    own_addresses,
)
from ingest_pipeline.domain import ParsedMessage
from ingest_pipeline.parsing.mime_message import parse_message

ACCOUNT = "jane@example.org"


def message(**headers: str) -> ParsedMessage:
    """A parsed message with the usual headers (override or add with keyword arguments)."""
    fields = {
        "From": "Ann Example <ann@example.org>",
        "To": "Jane Doe <jane@example.org>",
        "Subject": "Project kickoff",
        "Date": "Tue, 05 Mar 2024 14:30:00 +0100",
        "Message-ID": "<kickoff-1@example.org>",
    }
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return parse_message(f"{head}\r\nSee you there.\r\n".encode())


# ---------------------------------------------------------------- display names


@pytest.mark.parametrize(
    "name",
    ['"Jane Doe"', "'Jane Doe'", "“Jane Doe”", "‘Jane Doe’", "\"'Jane Doe'\""],
)
def test_quotes_around_a_name_are_dropped(name: str) -> None:
    assert clean_display_name(name) == "Jane Doe"


@pytest.mark.parametrize("name", ["Jane Doe via LinkedIn", "Jane Doe (via Google Docs)"])
def test_the_service_a_message_came_through_is_dropped_from_the_name(name: str) -> None:
    assert clean_display_name(name) == "Jane Doe"


def test_a_reversed_name_is_put_in_reading_order() -> None:
    assert clean_display_name("Doe, Jane") == "Jane Doe"


def test_a_name_that_is_the_address_itself_is_no_name() -> None:
    assert clean_display_name("Jane@Example.org", "jane@example.org") == ""


def test_a_name_that_looks_like_another_address_is_no_name() -> None:
    assert clean_display_name("someone@elsewhere.example", "jane@example.org") == ""


def test_extra_whitespace_in_a_name_is_collapsed() -> None:
    assert clean_display_name("  Jane \t  Doe  ") == "Jane Doe"


@pytest.mark.parametrize("name", ["Ana María", "Olivia Vianello"])
def test_a_plain_name_is_kept_as_written(name: str) -> None:
    assert clean_display_name(name) == name


# ---------------------------------------------------------------- machine and role accounts


@pytest.mark.parametrize(
    "email",
    [
        "mailer-daemon@mx.example.net",
        "postmaster@example.net",
        "noreply@shop.example",
        "no-reply-123@shop.example",
        "notifications@github.example",
    ],
)
def test_machine_senders_are_recognised(email: str) -> None:
    reason = machine_reason(email)
    assert reason is not None
    assert email.split("@")[0] in reason


def test_a_person_is_no_machine_sender() -> None:
    assert machine_reason("jane@example.org") is None


@pytest.mark.parametrize(
    "email",
    ["info@acme.example", "jobs@acme.example", "support@acme.example", "careers-uk@acme.example"],
)
def test_shared_inboxes_are_role_accounts(email: str) -> None:
    reason = role_reason(email)
    assert reason is not None
    assert email.split("@")[0] in reason


@pytest.mark.parametrize("email", ["jane.doe@acme.example", "hr.smith@acme.example"])
def test_a_person_whose_address_starts_like_a_role_is_no_role_account(email: str) -> None:
    assert role_reason(email) is None


# ---------------------------------------------------------------- own addresses


def test_own_addresses_are_normalised_and_non_addresses_dropped() -> None:
    own = own_addresses(
        " Jane@Example.ORG ",
        ["Jane Doe <JANE.DOE@example.org>", "mailto:J@Example.org", "not an address"],
    )
    assert own == frozenset({"jane@example.org", "jane.doe@example.org", "j@example.org"})


def test_a_mailbox_path_as_the_account_gives_no_own_address() -> None:
    assert own_addresses("/home/jane/Mail/inbox.mbox") == frozenset()


# ---------------------------------------------------------------- people of a message


def test_an_inbound_message_lists_the_sender_and_cc_but_not_the_account() -> None:
    parsed = message(To="Jane Doe <JANE@Example.ORG>", Cc="Bob Stone <bob@example.net>")
    found = mail_people(parsed, own_addresses(ACCOUNT))
    assert found.direction == INBOUND
    assert found.people == (
        MailPerson(email="ann@example.org", name="Ann Example", role="from", automated=None),
        MailPerson(email="bob@example.net", name="Bob Stone", role="cc", automated=None),
    )
    assert found.title == "Project kickoff"
    assert found.thread_key == "<kickoff-1@example.org>"
    assert found.occurred_at == dt.datetime(2024, 3, 5, 13, 30, tzinfo=dt.UTC)


def test_a_message_the_account_sent_is_outbound_and_lists_its_recipients() -> None:
    parsed = message(
        From="Jane Doe <Jane@example.org>",
        To="Ann Example <ann@example.org>",
        Cc="Bob Stone <bob@example.net>",
    )
    found = mail_people(parsed, own_addresses(ACCOUNT))
    assert found.direction == OUTBOUND
    assert [(p.email, p.role) for p in found.people] == [
        ("ann@example.org", "to"),
        ("bob@example.net", "cc"),
    ]


def test_an_account_known_only_by_a_mailbox_path_sees_everyone_as_people() -> None:
    found = mail_people(message(), own_addresses("/home/jane/Mail/inbox.mbox"))
    assert found.direction == INBOUND
    assert [(p.email, p.role) for p in found.people] == [
        ("ann@example.org", "from"),
        ("jane@example.org", "to"),
    ]


def test_an_address_in_both_to_and_cc_is_counted_once_in_its_first_role() -> None:
    parsed = message(
        To="Jane Doe <jane@example.org>, Bob Stone <bob@example.net>",
        Cc="BOB@example.net, Carol <carol@example.com>",
    )
    found = mail_people(parsed, own_addresses(ACCOUNT))
    assert [(p.email, p.role) for p in found.people] == [
        ("ann@example.org", "from"),
        ("bob@example.net", "to"),
        ("carol@example.com", "cc"),
    ]


def test_everyone_in_list_mail_is_automated_with_the_list_as_the_reason() -> None:
    parsed = message(List_Id="<team.lists.example.org>", Cc="Bob Stone <bob@example.net>")
    found = mail_people(parsed, own_addresses(ACCOUNT))
    assert len(found.people) == 2
    assert {p.automated for p in found.people} == {"List-Id: <team.lists.example.org>"}


def test_mail_from_a_no_reply_address_is_automated() -> None:
    parsed = message(From="Acme Shop <noreply@shop.example>", Cc="Bob Stone <bob@example.net>")
    found = mail_people(parsed, own_addresses(ACCOUNT))
    sender = found.people[0]
    assert (sender.email, sender.role) == ("noreply@shop.example", "from")
    assert sender.automated is not None and "noreply@" in sender.automated
    assert all(p.automated == sender.automated for p in found.people)


def test_a_role_account_in_cc_is_automated_and_the_people_are_not() -> None:
    parsed = message(Cc="Acme Jobs <jobs@acme.example>, Bob Stone <bob@example.net>")
    found = mail_people(parsed, own_addresses(ACCOUNT))
    automated = {p.email: p.automated for p in found.people}
    assert automated["ann@example.org"] is None
    assert automated["bob@example.net"] is None
    role = automated["jobs@acme.example"]
    assert role is not None and "jobs@" in role
