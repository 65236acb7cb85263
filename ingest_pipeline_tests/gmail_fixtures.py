"""Shared Gmail test setup: a local Gmail-compatible server filled with the sample mailbox,
credentials for it, and sources and integrations pointed at it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest_pipeline.sources.gmail.gmail_client import GmailEndpoint
from ingest_pipeline.sources.gmail.gmail_source import GmailOptions, GmailSource
from ingest_pipeline.sources.mailbox.mbox_reader import from_line_time, read_span, scan_mbox
from ingest_pipeline.store import integrations
from ingest_pipeline.store.credentials_vault import encrypt, new_key
from ingest_pipeline.store.database import session_scope
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail

USER = "recruiting@example.com"


def sample_messages() -> list[tuple[bytes, dt.datetime]]:
    """The sample mailbox's messages with their receipt times."""
    found = []
    for span in scan_mbox(SAMPLE_MBOX):
        received = from_line_time(span.from_line)
        assert received is not None
        found.append((read_span(SAMPLE_MBOX, span.start, span.end), received))
    return found


def credentials_info(server: FakeGmail, refresh_token: str) -> dict[str, Any]:
    return {
        "type": "authorized_user",
        "client_id": "test-client",
        "client_secret": "test-secret",
        "refresh_token": refresh_token,
        "token_uri": server.token_uri,
    }


def fast_sleep(seconds: float) -> None:
    """Backoff pauses shortened for tests (the quota test uses real time)."""
    import time

    time.sleep(min(seconds, 0.02))


def gmail_source(
    server: FakeGmail,
    info: dict[str, Any],
    *,
    sync_state: dict[str, Any] | None = None,
    **options: Any,
) -> GmailSource:
    return GmailSource(
        info,
        options=GmailOptions(endpoint=GmailEndpoint(api_endpoint=server.base_url), **options),
        sync_state=sync_state,
        sleep=fast_sleep,
    )


@pytest.fixture
def gmail() -> Iterator[tuple[FakeGmail, dict[str, Any]]]:
    """A running server with the sample mailbox for USER, and credentials for it."""
    with FakeGmail() as server:
        token = server.add_user(USER)
        for raw, received in sample_messages():
            server.add_message(USER, raw, internal_date=received)
        yield server, credentials_info(server, token)


@pytest.fixture
def credentials_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = new_key()
    monkeypatch.setenv("INGEST_CREDENTIALS_KEY", key)
    return key


def register_gmail(
    db_url: str, server: FakeGmail, info: dict[str, Any], key: str, *, task: str = "job_posting"
) -> str:
    """An active Gmail integration pointed at the local server, credentials encrypted."""
    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session,
            provider="gmail",
            account=USER,
            task=task,
            options={"api_endpoint": server.base_url},
            credentials=encrypt(info, key=key),
        )
        return row.partition_key or ""


def write_credentials(path: Path, info: dict[str, Any]) -> Path:
    path.write_text(json.dumps(info))
    return path
