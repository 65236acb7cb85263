"""Shared Microsoft Graph test setup: a local Graph-compatible server over TLS holding the
sample mailbox and a small address book, credentials for it, and integrations pointed at it.

The server's test CA reaches msal and httpx through ``INGEST_MS_CA_BUNDLE``, as a
deployment behind its own CA would pass one; nothing turns verification off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from ingest_pipeline.sources.registry import build_source
from ingest_pipeline.store import integrations
from ingest_pipeline.store.credentials_vault import encrypt
from ingest_pipeline.store.database import session_scope
from ingest_pipeline_tests.fakes.graph_server import FakeGraph
from ingest_pipeline_tests.gmail_fixtures import sample_messages

TENANT = "contoso-tenant"
CLIENT_ID = "outlook-import-app"
CLIENT_SECRET = "app-secret-value"
MAILBOX = "recruiting@contoso.example"

# Five people, one of them in a named folder; Ann appears in the sample mailbox too.
SAMPLE_CONTACTS: tuple[tuple[dict[str, Any], str | None], ...] = (
    (
        {
            "displayName": "Ann Lee",
            "givenName": "Ann",
            "surname": "Lee",
            "emailAddresses": [{"name": "Ann Lee", "address": "ann.lee@talent.example"}],
            "mobilePhone": "+1 415 555 0100",
            "companyName": "Talent Partners",
            "jobTitle": "Recruiter",
        },
        None,
    ),
    (
        {
            "displayName": "Bo Chen",
            "emailAddresses": [
                {"name": "Bo", "address": "bo@chen.example"},
                {"name": "Bo (work)", "address": "bo.chen@work.example"},
            ],
            "businessPhones": ["(212) 555-0101"],
        },
        None,
    ),
    ({"displayName": "Alex Kim", "emailAddresses": [{"address": "alex@kim.example"}]}, None),
    (
        {"displayName": "Alex Kim", "emailAddresses": [{"address": "alex.kim@other.example"}]},
        None,
    ),
    (
        {"displayName": "Dee Patel", "homePhones": ["+44 20 7946 0958"]},
        "Candidates",
    ),
)


def app_credentials() -> dict[str, Any]:
    """App-only (client credentials) access to every mailbox of the tenant."""
    return {
        "type": "client_credentials",
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


def graph_options(server: FakeGraph) -> dict[str, Any]:
    """An integration's options pointing at the local server."""
    return {
        "graph_url": server.graph_url,
        "authority_host": server.authority(TENANT).rsplit("/", 1)[0],
    }


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    """A running server with the sample mailbox and address book for MAILBOX; its CA is
    the one msal and httpx verify against."""
    with FakeGraph() as server:
        monkeypatch.setenv("INGEST_MS_CA_BUNDLE", str(server.ca_path))
        server.add_app(TENANT, CLIENT_ID, CLIENT_SECRET)
        server.add_mailbox(MAILBOX, address=MAILBOX)
        for raw, received in sample_messages():
            server.add_message(MAILBOX, raw, received)
        for fields, folder in SAMPLE_CONTACTS:
            server.add_contact(MAILBOX, dict(fields), folder=folder)
        yield server


def outlook_source(
    server: FakeGraph,
    *,
    provider: str = "outlook",
    sync_state: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    """The provider's source for MAILBOX, built through the registry as runs build it."""
    return build_source(
        provider=provider,
        account=MAILBOX,
        options={**graph_options(server), **options},
        credentials=credentials if credentials is not None else app_credentials(),
        sync_state=sync_state,
    )


def impatient_graph_source(server: FakeGraph, provider: str = "outlook") -> Any:
    """The provider's source with short backoff sleeps and three attempts per request."""
    from ingest_pipeline.sources.microsoft.graph_mailbox import GraphAccount, MailboxLimits
    from ingest_pipeline.sources.microsoft.ms_contacts_source import MicrosoftContactsSource
    from ingest_pipeline.sources.microsoft.ms_credentials import GraphEndpoint
    from ingest_pipeline.sources.microsoft.outlook_source import OutlookSource
    from ingest_pipeline_tests.gmail_fixtures import fast_sleep

    options = graph_options(server)
    account = GraphAccount(
        credentials=app_credentials(),
        mailbox=MAILBOX,
        endpoint=GraphEndpoint(
            graph_url=options["graph_url"],
            authority_host=options["authority_host"],
            ca_bundle=str(server.ca_path),
        ),
        limits=MailboxLimits(max_attempts=3, base_backoff_seconds=0.01),
    )
    if provider == "outlook":
        return OutlookSource(account, sleep=fast_sleep)
    return MicrosoftContactsSource(account, sleep=fast_sleep)


def register_graph(
    db_url: str, server: FakeGraph, key: str, *, provider: str = "outlook", **options: Any
) -> str:
    """An active Outlook (or Microsoft contacts) integration pointed at the local server."""
    stream = "mail" if provider == "outlook" else "contacts"
    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session,
            provider=provider,
            stream=stream,
            account=MAILBOX,
            task="job_posting" if stream == "mail" else None,
            options={**graph_options(server), **options},
            credentials=encrypt(app_credentials(), key=key),
        )
        return row.partition_key or ""


def received_on(day: dt.date) -> int:
    """How many sample messages were received on ``day``."""
    return sum(1 for _, received in sample_messages() if received.date() == day)
