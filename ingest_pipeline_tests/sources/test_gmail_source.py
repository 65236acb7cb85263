"""The Gmail source against a local Gmail-compatible server, through the real
googleapiclient and google-auth."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ingest_pipeline.domain import FetchError, RawItem, Window
from ingest_pipeline.sources.base import CredentialsRevoked
from ingest_pipeline.sources.quota_budget import QuotaBudget
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail
from ingest_pipeline_tests.gmail_fixtures import (
    USER,
    credentials_info,
    gmail,
    gmail_source,
    sample_messages,
)

__all__ = ["gmail"]  # the fixture, imported for pytest

DAY = dt.date(2026, 11, 2)


def _ids(pages: Any) -> list[str]:
    return [ref.external_id for page in pages for ref in page.items]


def test_enumerate_lists_exactly_the_days_messages(gmail: tuple[FakeGmail, dict[str, Any]]) -> None:
    server, info = gmail
    expected = sum(1 for _, received in sample_messages() if received.date() == DAY)
    source = gmail_source(server, info)

    ids = _ids(source.enumerate(Window.for_day(DAY), None))

    assert len(ids) == len(set(ids)) == expected
    assert server.stats.by_method["messages.list"] >= 1


def test_keywords_narrow_the_listing_to_messages_that_mention_any_of_them() -> None:
    with FakeGmail() as server:
        token = server.add_user(USER)
        noon = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
        subjects = ["Data Engineer role", "Rust developer wanted", "Lunch on Friday", "Sales"]
        for n, subject in enumerate(subjects):
            raw = f"Subject: {subject}\nMessage-ID: <{n}@x>\n\nHello\n".encode()
            server.add_message(USER, raw, internal_date=noon + dt.timedelta(minutes=n))
        source = gmail_source(
            server, credentials_info(server, token), keywords=("data engineer", "Rust")
        )

        refs = [ref for page in source.enumerate(Window.for_day(DAY), None) for ref in page.items]
        fetched = list(source.fetch(refs))

    assert sorted(
        item.data.split(b"\n", 1)[0] for item in fetched if isinstance(item, RawItem)
    ) == [b"Subject: Data Engineer role", b"Subject: Rust developer wanted"]


def test_enumerate_pages_and_resumes_from_its_cursor() -> None:
    with FakeGmail() as server:
        token = server.add_user(USER)
        noon = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
        for n in range(1100):
            raw = f"Subject: n{n}\nMessage-ID: <{n}@x>\n\nbody {n}\n".encode()
            server.add_message(USER, raw, internal_date=noon + dt.timedelta(seconds=n))
        source = gmail_source(server, credentials_info(server, token))
        pages = list(source.enumerate(Window.for_day(DAY), None))
        assert [len(p.items) for p in pages] == [500, 500, 100]

        resumed = gmail_source(server, credentials_info(server, token))
        rest = _ids(resumed.enumerate(Window.for_day(DAY), pages[0].cursor))
        assert rest == _ids(pages[1:])


def test_fetch_returns_raw_bytes_in_batches_of_at_most_50(
    gmail: tuple[FakeGmail, dict[str, Any]],
) -> None:
    server, info = gmail
    source = gmail_source(server, info)
    refs = [
        ref
        for day in range(2, 9)
        for page in source.enumerate(Window.for_day(dt.date(2026, 11, day)), None)
        for ref in page.items
    ]

    outcomes = list(source.fetch(refs))

    assert all(isinstance(o, RawItem) for o in outcomes)
    raw = sorted(o.data for o in outcomes if isinstance(o, RawItem))
    assert raw == sorted(data for data, _ in sample_messages())
    assert server.stats.max_batch_size <= 50
    assert all(o.received_at is not None for o in outcomes if isinstance(o, RawItem))


def test_faults_inside_batches_are_retried_until_every_message_arrives(
    gmail: tuple[FakeGmail, dict[str, Any]],
) -> None:
    server, info = gmail
    source = gmail_source(server, info)
    refs = [ref for page in source.enumerate(Window.for_day(DAY), None) for ref in page.items]
    server.faults.share = 0.3

    outcomes = list(source.fetch(refs))

    assert sorted(o.external_id for o in outcomes) == sorted(r.external_id for r in refs)
    assert all(isinstance(o, RawItem) for o in outcomes)
    assert source.requests_retried > 0
    faulted = {s for s in server.stats.status_counts if s in (429, 403, 500, 503)}
    assert faulted


def test_deleted_message_is_a_permanent_fetch_error(
    gmail: tuple[FakeGmail, dict[str, Any]],
) -> None:
    server, info = gmail
    from ingest_pipeline.domain import ItemRef

    [outcome] = list(gmail_source(server, info).fetch([ItemRef(external_id="deadbeef00")]))
    assert isinstance(outcome, FetchError)
    assert not outcome.retryable
    assert "no longer exists" in outcome.reason


def test_history_after_a_full_day_then_fallback_when_it_expires(
    gmail: tuple[FakeGmail, dict[str, Any]],
) -> None:
    server, info = gmail
    now = dt.datetime.now(dt.UTC)
    today = Window.for_day(now.date())
    first = gmail_source(server, info)
    assert _ids(first.enumerate(today, None)) == []
    state = first.sync_state()
    assert state.get("history_id")

    new_id = server.add_message(USER, b"Subject: new\n\nhello\n", internal_date=now)
    incremental = gmail_source(server, info, sync_state=state)
    before = server.stats.by_method["messages.list"]
    assert _ids(incremental.enumerate(today, None)) == [new_id]
    assert server.stats.by_method["messages.list"] == before  # listed from history only
    assert int(incremental.sync_state()["history_id"]) > int(state["history_id"])

    later_id = server.add_message(USER, b"Subject: later\n\nagain\n", internal_date=now)
    server.expire_history(USER)
    fallback = gmail_source(server, info, sync_state=incremental.sync_state())
    assert sorted(_ids(fallback.enumerate(today, None))) == sorted([new_id, later_id])
    assert any("expired" in note for note in fallback.notes)


def test_revoked_refresh_token_raises_credentials_revoked(
    gmail: tuple[FakeGmail, dict[str, Any]],
) -> None:
    server, info = gmail
    server.revoke(info["refresh_token"])
    with pytest.raises(CredentialsRevoked, match="reconnect"):
        gmail_source(server, info).check()


def test_quota_budget_never_lets_a_minute_pass_the_limit() -> None:
    clock = [0.0]
    spent: list[tuple[float, int]] = []

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    budget = QuotaBudget(limit=15_000, capacity=250, clock=lambda: clock[0], sleep=sleep)
    for _ in range(400):
        budget.acquire(250)
        spent.append((clock[0], 250))
    for start, _ in spent:
        window = sum(units for moment, units in spent if start <= moment < start + 60)
        assert window <= 15_000
    rate = sum(u for _, u in spent) / (clock[0] + 1e-9) * 60
    assert rate >= 0.9 * 15_000


def test_service_account_with_domain_wide_delegation_reads_the_subjects_mailbox(
    gmail: tuple[FakeGmail, dict[str, Any]],
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    server, _ = gmail
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    server.add_service_account("ingest@project.iam.example.com", key.public_key())
    info = {
        "type": "service_account",
        "client_email": "ingest@project.iam.example.com",
        "private_key": pem,
        "private_key_id": "k1",
        "token_uri": server.token_uri,
        "subject": USER,
    }

    source = gmail_source(server, info)

    assert source.profile()["emailAddress"] == USER
    assert _ids(source.enumerate(Window.for_day(DAY), None))
