"""The Outlook source against a local Graph-compatible server over TLS, through msal and
httpx: day listings, today's delta, batched MIME downloads within the mailbox's limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ingest_pipeline.domain import FetchError, RawItem, Window
from ingest_pipeline.sources.base import CredentialsRevoked, SourceError
from ingest_pipeline.sources.microsoft import outlook_source as outlook_module
from ingest_pipeline.sources.microsoft.graph_mailbox import GraphAccount, MailboxLimits
from ingest_pipeline.sources.microsoft.ms_credentials import GraphEndpoint
from ingest_pipeline.sources.microsoft.outlook_source import OutlookOptions, OutlookSource
from ingest_pipeline_tests.fakes.graph_server import FakeGraph, GraphFaults
from ingest_pipeline_tests.gmail_fixtures import fast_sleep, sample_messages
from ingest_pipeline_tests.graph_fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    MAILBOX,
    TENANT,
    app_credentials,
    graph,
    graph_options,
    outlook_source,
    received_on,
)

__all__ = ["graph"]  # the fixture, imported for pytest

DAY = dt.date(2026, 11, 2)


def direct(
    server: FakeGraph,
    *,
    now: dt.datetime | None = None,
    sync_state: dict[str, Any] | None = None,
    keywords: tuple[str, ...] = (),
    **limits: Any,
) -> OutlookSource:
    """An Outlook source with injected time and short backoff sleeps."""
    options = graph_options(server)
    account = GraphAccount(
        credentials=app_credentials(),
        mailbox=MAILBOX,
        endpoint=GraphEndpoint(
            graph_url=options["graph_url"],
            authority_host=options["authority_host"],
            ca_bundle=str(server.ca_path),
        ),
        limits=MailboxLimits(**limits),
    )
    return OutlookSource(
        account,
        options=OutlookOptions(keywords=keywords),
        sync_state=sync_state,
        sleep=fast_sleep,
        now=(lambda: now) if now else (lambda: dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
    )


def listed(source: OutlookSource, day: dt.date, cursor: str | None = None) -> list[Any]:
    return [ref for page in source.enumerate(Window.for_day(day), cursor) for ref in page.items]


def test_a_past_day_lists_exactly_its_messages_by_receipt_time(graph: FakeGraph) -> None:
    refs = listed(outlook_source(graph), DAY)

    assert len(refs) == len({r.external_id for r in refs}) == received_on(DAY)
    assert all(Window.for_day(DAY).contains(r.received_at) for r in refs)
    assert graph.stats.requests["messages.list"] == 1


def test_listing_pages_and_resumes_from_each_cursor(
    graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outlook_module, "PAGE_SIZE", 3)
    pages = list(outlook_source(graph).enumerate(Window.for_day(DAY), None))
    assert len(pages) >= 3

    for at, page in enumerate(pages[:-1]):
        rest = listed(outlook_source(graph), DAY, page.cursor)
        assert [r.external_id for r in rest] == [
            r.external_id for p in pages[at + 1 :] for r in p.items
        ]


def test_fetch_returns_the_exact_mime_in_batches_of_20_at_most_4_at_once(
    graph: FakeGraph,
) -> None:
    source = outlook_source(graph)
    refs = [r for day in range(1, 10) for r in listed(source, dt.date(2026, 11, day))]
    expected = sorted(raw for raw, _ in sample_messages())

    items = list(source.fetch(refs))

    assert sorted(i.data for i in items if isinstance(i, RawItem)) == expected
    assert graph.stats.requests["batch"] >= len(refs) / 20
    assert graph.stats.batch_parts == len(refs)
    assert max(graph.stats.max_in_flight.values()) <= 4


def test_throttled_parts_are_asked_again_and_every_message_arrives_once(
    graph: FakeGraph,
) -> None:
    source = direct(graph)
    refs = [r for day in range(1, 10) for r in listed(source, dt.date(2026, 11, day))]
    graph.faults = GraphFaults(
        seed=3, throttle_rate=0.2, unavailable_rate=0.05, concurrency_rate=0.05
    )

    items = list(source.fetch(refs))

    raw = [i for i in items if isinstance(i, RawItem)]
    assert len(raw) == len({i.external_id for i in raw}) == len(refs)
    assert sum(graph.stats.throttled.values()) > 0 and source.requests_retried > 0


def test_a_deleted_message_is_a_permanent_fetch_error(graph: FakeGraph) -> None:
    source = outlook_source(graph)
    refs = listed(source, DAY)
    graph.delete_message(MAILBOX, refs[0].external_id)

    outcomes = {o.external_id: o for o in source.fetch(refs)}

    gone = outcomes[refs[0].external_id]
    assert isinstance(gone, FetchError) and not gone.retryable
    assert "no longer exists" in gone.reason
    assert all(isinstance(outcomes[r.external_id], RawItem) for r in refs[1:])


def test_today_lists_through_the_delta_and_then_only_new_mail(graph: FakeGraph) -> None:
    noon = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
    first = direct(graph, now=noon)
    refs = listed(first, DAY)
    assert len(refs) == received_on(DAY)
    state = first.sync_state()
    assert state["mail_delta"]["day"] == DAY.isoformat()

    late = b"Subject: Staff engineer opening\nMessage-ID: <late@x>\n\nApply now.\n"
    new_id = graph.add_message(MAILBOX, late, noon + dt.timedelta(hours=1))
    second = direct(graph, now=noon + dt.timedelta(hours=2), sync_state=state)

    assert [r.external_id for r in listed(second, DAY)] == [new_id]
    assert graph.stats.requests["messages.delta"] >= 2


def test_an_expired_delta_falls_back_to_the_day_window_with_a_note(graph: FakeGraph) -> None:
    noon = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
    first = direct(graph, now=noon)
    listed(first, DAY)
    graph.expire_deltas()

    again = direct(graph, now=noon, sync_state=first.sync_state())
    refs = listed(again, DAY)

    assert len(refs) == received_on(DAY)
    assert again.notes and "expired" in again.notes[0]


def test_keywords_list_only_mail_that_mentions_them(graph: FakeGraph) -> None:
    noon = dt.datetime.combine(dt.date(2026, 11, 20), dt.time(12), tzinfo=dt.UTC)
    subjects = ["Data Engineer role", "Rust developer wanted", "Lunch on Friday"]
    ids = [
        graph.add_message(MAILBOX, f"Subject: {s}\nMessage-ID: <{n}@k>\n\nHi\n".encode(), noon)
        for n, s in enumerate(subjects)
    ]
    source = direct(graph, keywords=("data engineer", "rust"))

    assert sorted(r.external_id for r in listed(source, noon.date())) == sorted(ids[:2])


def test_a_revoked_app_secret_asks_to_reconnect(graph: FakeGraph) -> None:
    graph.revoke_app("outlook-import-app")

    with pytest.raises(CredentialsRevoked, match="reconnect your Microsoft account"):
        outlook_source(graph).check()


def test_an_unknown_mailbox_and_a_plain_http_url_are_explained(graph: FakeGraph) -> None:
    with pytest.raises(SourceError, match="no mailbox"):
        direct_with_mailbox(graph, "nobody@contoso.example").check()
    with pytest.raises(SourceError, match="must be an https:// URL"):
        outlook_source(graph, graph_url=graph.graph_url.replace("https://", "http://"))


def test_without_the_servers_ca_the_connection_is_refused(
    graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INGEST_MS_CA_BUNDLE")
    with pytest.raises(SourceError, match=r"(?i)certificate"):
        outlook_source(graph).check()


def direct_with_mailbox(server: FakeGraph, mailbox: str) -> OutlookSource:
    options = graph_options(server)
    account = GraphAccount(
        credentials=app_credentials(),
        mailbox=mailbox,
        endpoint=GraphEndpoint(
            graph_url=options["graph_url"],
            authority_host=options["authority_host"],
            ca_bundle=str(server.ca_path),
        ),
    )
    return OutlookSource(account, sleep=fast_sleep)


def test_a_signed_in_user_reads_their_own_mailbox_until_the_grant_is_revoked(
    graph: FakeGraph,
) -> None:
    refresh = graph.add_delegated_user(TENANT, CLIENT_ID, CLIENT_SECRET, MAILBOX)
    delegated = {
        "type": "refresh_token",
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh,
    }
    source = outlook_source(graph, credentials=delegated)

    assert source.profile()["userPrincipalName"] == MAILBOX
    assert len(listed(source, DAY)) == received_on(DAY)
    assert graph.stats.token_grants["refresh_token"] == 1

    graph.revoke_refresh_token(refresh)
    with pytest.raises(CredentialsRevoked, match="70008") as revoked:
        outlook_source(graph, credentials=delegated).check()
    assert "reconnect your Microsoft account" in str(revoked.value)
