"""Every asset check can fail: each case imports a partition (the check passes), corrupts
the database the way a bug or a hand edit would, runs the partition again and sees the
check fail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    register_mailbox,
    register_source,
    run_days,
)
from ingest_pipeline_tests.stream_samples import SAMPLE_ICS, SAMPLE_VCF

NOV2 = dt.date(2026, 11, 2)
NOV5 = dt.date(2026, 11, 5)


def _sql(db_url: str, *statements: str) -> None:
    with get_engine(db_url).begin() as c:
        for statement in statements:
            c.execute(sa.text(statement))


@dataclass(frozen=True)
class Case:
    """A stream's partition, one of its checks, and a corruption that check must catch."""

    stream: str
    check: str
    corrupt: Callable[[str], None]
    limits: dict[str, Any] = field(default_factory=dict)


def _register(db_url: str, stream: str) -> tuple[str, list[dt.date] | None]:
    if stream == "mail":
        return register_mailbox(db_url, SAMPLE_MBOX), [NOV2]
    if stream == "contacts":
        return register_source(db_url, SAMPLE_VCF, provider="vcard", stream=stream), None
    return register_source(db_url, SAMPLE_ICS, provider="ics", stream=stream), [NOV5]


CASES = {
    "a stored message vanished": Case(
        "mail",
        "mail_counts_reconcile",
        lambda url: _sql(
            url,
            "delete from messages where id = (select min(id) from messages where id not in "
            "(select message_id from attachments) and id not in "
            "(select message_id from job_postings))",
        ),
    ),
    "one message stored under two keys": Case(
        "mail",
        "mail_no_hidden_duplicates",
        lambda url: _sql(
            url,
            "insert into messages (integration_id, message_key, source_item_id, subject, "
            "sender_email, sender_name, recipients, sent_at, received_at, body_text, has_html, "
            "defects, content_hash) select integration_id, 'resent-' || message_key, "
            "source_item_id, subject, sender_email, sender_name, recipients, sent_at, "
            "received_at, body_text, has_html, defects, content_hash from messages "
            "where id = (select min(id) from messages)",
        ),
    ),
    "one posting from two messages": Case(
        "mail",
        "mail_no_hidden_duplicates",
        lambda url: _sql(
            url,
            "update job_postings set title = 'Data Engineer', company = 'Acme', "
            "location = 'Remote' where id in (select id from job_postings order by id limit 2)",
        ),
    ),
    "an item failed without a reason": Case(
        "mail",
        "mail_items_accounted",
        lambda url: _sql(
            url,
            "update ingest_items set status = 'failed', last_error = null "
            "where id = (select min(id) from ingest_items)",
        ),
    ),
    "a contact's card vanished": Case(
        "contacts",
        "contacts_counts_reconcile",
        lambda url: _sql(
            url,
            "delete from contact_sources where id = (select min(id) from contact_sources)",
        ),
    ),
    "one person as two contacts": Case(
        "contacts",
        "contacts_no_hidden_duplicates",
        lambda url: _sql(
            url,
            "insert into contacts (tenant_id, contact_key, display_name, emails, phones, "
            "deleted) select tenant_id, 'source:hand-made', display_name, emails, phones, "
            "deleted from contacts where id = (select min(id) from contacts)",
        ),
    ),
    "more cards failed than allowed": Case(
        "contacts",
        "contacts_failed_share_within_bounds",
        lambda url: None,
        limits={"max_failed_share": 0.05},  # 1 bad card of 13 is 7.7 %
    ),
    "an occurrence vanished": Case(
        "calendar_events",
        "calendar_events_counts_reconcile",
        lambda url: _sql(
            url, "delete from calendar_events where id = (select min(id) from calendar_events)"
        ),
    ),
    "one occurrence under two ids": Case(
        "calendar_events",
        "calendar_events_no_hidden_duplicates",
        lambda url: _sql(
            url,
            "insert into calendar_events (integration_id, external_id, source_item_id, uid, "
            "recurrence_id, summary, description, location, start_at, end_at, all_day, "
            "timezone, status, organizer_email, attendees, sequence, content_hash) select "
            "integration_id, external_id || '#copy', source_item_id, uid, recurrence_id, "
            "summary, description, location, start_at, end_at, all_day, timezone, status, "
            "organizer_email, attendees, sequence, content_hash from calendar_events "
            "where id = (select min(id) from calendar_events)",
        ),
    ),
}


@pytest.mark.parametrize("case_name", list(CASES))
def test_check_fails_on_a_corrupted_database(
    case_name: str, sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    case = CASES[case_name]
    key, days = _register(sqlite_url, case.stream)
    [first] = run_days(sqlite_url, dagster_instance, key, days, stream=case.stream)
    assert first.success, first.error
    if not case.limits:
        assert check_results(dagster_instance, first.run_id)[case.check] is True

    case.corrupt(sqlite_url)
    [again] = run_days(sqlite_url, dagster_instance, key, days, stream=case.stream, **case.limits)

    assert check_results(dagster_instance, again.run_id)[case.check] is False
