"""What parse_message reads from a message's headers about automation and threads."""

from __future__ import annotations

import json

import pytest

from ingest_pipeline.domain import ParsedMessage
from ingest_pipeline.parsing.mime_message import parse_message

PERSON_HEADERS = (
    b"From: Ann Example <ann@example.org>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: Lunch on Friday?\r\n"
    b"Date: Tue, 05 Mar 2024 14:30:00 +0100\r\n"
    b"Message-ID: <lunch-1@example.org>\r\n"
)


def parse(extra_headers: bytes = b"", body: bytes = b"Shall we meet at noon?\r\n") -> ParsedMessage:
    """A person-to-person message with ``extra_headers`` added, parsed."""
    return parse_message(PERSON_HEADERS + extra_headers + b"\r\n" + body)


# ---------------------------------------------------------------- automation markers


def test_a_plain_message_between_people_has_no_automation_markers() -> None:
    assert parse().automation == ()


def test_an_auto_reply_is_marked_automated() -> None:
    parsed = parse(b"Auto-Submitted: auto-replied\r\n")
    assert parsed.automation == ("Auto-Submitted: auto-replied",)


def test_auto_submitted_no_is_not_a_marker() -> None:
    assert parse(b"Auto-Submitted: no\r\n").automation == ()


def test_list_id_and_list_unsubscribe_mark_list_mail() -> None:
    parsed = parse(
        b"List-Id: Team news <team.lists.example.org>\r\n"
        b"List-Unsubscribe: <mailto:leave@lists.example.org>\r\n"
    )
    assert parsed.automation == (
        "List-Id: Team news <team.lists.example.org>",
        "List-Unsubscribe: <mailto:leave@lists.example.org>",
    )


@pytest.mark.parametrize("precedence", ["bulk", "list", "junk", "Bulk"])
def test_bulk_precedence_marks_the_message(precedence: str) -> None:
    parsed = parse(f"Precedence: {precedence}\r\n".encode())
    assert parsed.automation == (f"Precedence: {precedence}",)


def test_first_class_precedence_is_not_a_marker() -> None:
    assert parse(b"Precedence: first-class\r\n").automation == ()


def test_a_bounce_is_marked_automated() -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        b"To: ann@example.org\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@mx.example.net>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n'
        b"\r\n"
        b"--B1\r\n"
        b"Content-Type: text/plain\r\n"
        b"\r\n"
        b"Your message could not be delivered.\r\n"
        b"--B1\r\n"
        b"Content-Type: message/delivery-status\r\n"
        b"\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n"
        b"\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\n"
        b"Action: failed\r\n"
        b"Status: 5.1.1\r\n"
        b"--B1--\r\n"
    )
    parsed = parse_message(raw)
    assert len(parsed.automation) == 1
    assert "multipart/report" in parsed.automation[0]
    assert "delivery-status" in parsed.automation[0]


# ---------------------------------------------------------------- threads


def test_folded_references_are_kept_oldest_first_and_the_first_is_the_thread() -> None:
    parsed = parse(
        b"In-Reply-To: <reply-2@example.net>\r\n"
        b"References: <root-1@example.org>\r\n"
        b"\t<reply-2@example.net>\r\n"
    )
    assert parsed.references == ("<root-1@example.org>", "<reply-2@example.net>")
    assert parsed.thread_key == "<root-1@example.org>"


def test_without_references_the_thread_is_the_message_replied_to() -> None:
    parsed = parse(b"In-Reply-To: <earlier@example.net>\r\n")
    assert parsed.references == ()
    assert parsed.thread_key == "<earlier@example.net>"


def test_a_message_that_replies_to_nothing_starts_its_own_thread() -> None:
    parsed = parse()
    assert parsed.thread_key == "<lunch-1@example.org>"


# ---------------------------------------------------------------- stored parse results


def test_references_and_automation_survive_a_round_trip_through_json() -> None:
    parsed = parse(
        b"References: <root-1@example.org> <reply-2@example.net>\r\n"
        b"In-Reply-To: <reply-2@example.net>\r\n"
        b"List-Id: <team.lists.example.org>\r\n"
    )
    assert parsed.references and parsed.automation
    stored = json.loads(json.dumps(parsed.to_json()))
    restored = ParsedMessage.from_json(stored)
    assert restored == parsed
    assert restored.references == ("<root-1@example.org>", "<reply-2@example.net>")
    assert restored.automation == ("List-Id: <team.lists.example.org>",)


def test_a_parse_stored_before_references_and_automation_loads_with_none() -> None:
    stored = json.loads(json.dumps(parse(b"List-Id: <team.lists.example.org>\r\n").to_json()))
    del stored["references"]
    del stored["automation"]
    restored = ParsedMessage.from_json(stored)
    assert restored.references == ()
    assert restored.automation == ()
    assert restored.thread_key == "<lunch-1@example.org>"
