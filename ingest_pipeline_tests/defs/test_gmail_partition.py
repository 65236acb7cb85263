"""Gmail integrations through the Dagster job against the local Gmail-compatible server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.cli import main
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.store.models import Notification
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail
from ingest_pipeline_tests.gmail_fixtures import (
    credentials_key,
    gmail,
    register_gmail,
    sample_messages,
    write_credentials,
)
from ingest_pipeline_tests.pipeline_runner import ledger_rows, run_days

__all__ = ["credentials_key", "gmail"]  # fixtures, imported for pytest

DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(7)]


def _count(db_url: str, sql: str) -> int:
    with get_engine(db_url).connect() as c:
        return int(c.execute(sa.text(sql)).scalar_one())


@pytest.mark.slow
def test_partitions_with_20_percent_faults_ingest_every_message_exactly_once(
    db_url: str,
    dagster_instance: dg.DagsterInstance,
    gmail: tuple[FakeGmail, dict[str, Any]],
    credentials_key: str,
) -> None:
    server, info = gmail
    key = register_gmail(db_url, server, info, credentials_key)
    server.faults.share = 0.2

    outcomes = run_days(db_url, dagster_instance, key, DAYS)

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    rows = ledger_rows(db_url)
    assert len(rows) == len(sample_messages()) == 62
    assert {r["status"] for r in rows} <= {"done", "skipped"}
    assert _count(db_url, "select count(*) from messages") == 60  # two duplicate deliveries
    assert _count(db_url, "select count(distinct content_hash) from ingest_items") == 62
    assert sum(server.stats.status_counts[s] for s in (429, 403, 500, 503)) > 0

    again = run_days(db_url, dagster_instance, key, DAYS)
    assert sum(o.metrics["inserted"] + o.metrics["extraction_calls"] for o in again) == 0


def test_revoked_access_disables_the_integration_and_asks_to_reconnect(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    gmail: tuple[FakeGmail, dict[str, Any]],
    credentials_key: str,
) -> None:
    server, info = gmail
    key = register_gmail(sqlite_url, server, info, credentials_key)
    server.revoke(info["refresh_token"])

    [outcome] = run_days(sqlite_url, dagster_instance, key, [DAYS[0]])

    assert not outcome.success
    assert "reconnect" in (outcome.error or "").lower()
    events = [e.dagster_event_type for e in dagster_instance.all_logs(outcome.run_id)]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in events
    with session_scope(sqlite_url) as session:
        row = find_integration(session, key)
        assert row.status == "disabled"
        notes = session.scalars(sa.select(Notification)).all()
        assert [n.kind for n in notes] == ["reconnect_account"]
        assert "Reconnect your Google account" in notes[0].message
    assert server.stats.token_refreshes <= 2  # no retry storm


def test_capped_run_says_so_and_the_next_run_continues(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    gmail: tuple[FakeGmail, dict[str, Any]],
    credentials_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, info = gmail
    key = register_gmail(sqlite_url, server, info, credentials_key)
    monkeypatch.setenv("INGEST_MAX_ITEMS_PER_RUN", "4")
    day = DAYS[0]

    [first] = run_days(sqlite_url, dagster_instance, key, [day])
    assert first.success
    assert first.metrics["capped"] is True
    assert "item cap of 4" in first.metrics["capped_reason"]
    assert first.metrics["fetched"] == 4

    monkeypatch.delenv("INGEST_MAX_ITEMS_PER_RUN")
    [second] = run_days(sqlite_url, dagster_instance, key, [day])
    assert second.success and second.metrics["capped"] is False
    rows = ledger_rows(sqlite_url)
    assert len(rows) == 10
    assert {r["status"] for r in rows} <= {"done", "skipped"}


def test_cli_adds_gmail_after_checking_the_connection(
    gmail: tuple[FakeGmail, dict[str, Any]],
    credentials_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, info = gmail
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("INGEST_DATA_DIR", str(tmp_path / ".ingest"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".ingest" / "dagster_home"))
    good = write_credentials(tmp_path / "good.json", info)
    bad = write_credentials(tmp_path / "bad.json", {**info, "refresh_token": "nope"})
    base = ["integrations", "add", "--provider", "gmail", "--api-endpoint", server.base_url]

    assert main([*base, "--credentials", str(bad)]) == 2
    assert "reconnect" in capsys.readouterr().err.lower()
    assert main(["integrations", "list"]) == 0
    assert "gmail" not in capsys.readouterr().out

    assert main([*base, "--credentials", str(good), "--query", "Requirement"]) == 0
    key = capsys.readouterr().out.strip()
    assert key == "gmail-1"
    assert main(["integrations", "list"]) == 0
    listing = capsys.readouterr().out
    assert "recruiting@example.com" in listing
    db = tmp_path / ".ingest" / "app.db"
    stored = db.read_bytes()
    assert info["refresh_token"].encode() not in stored
    assert info["client_secret"].encode() not in stored
