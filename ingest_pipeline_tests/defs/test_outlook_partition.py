"""Outlook mail and Microsoft contacts through the Dagster jobs, against the local
Graph-compatible server over TLS."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.cli import main
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.store.models import Candidate, Contact, ContactSourceRow, Notification
from ingest_pipeline_tests.fakes.graph_server import FakeGraph, GraphFaults
from ingest_pipeline_tests.gmail_fixtures import credentials_key, sample_messages
from ingest_pipeline_tests.graph_fixtures import (
    CLIENT_ID,
    MAILBOX,
    SAMPLE_CONTACTS,
    app_credentials,
    graph,
    graph_options,
    register_graph,
)
from ingest_pipeline_tests.pipeline_runner import ledger_rows, run_days

__all__ = ["credentials_key", "graph"]  # fixtures, imported for pytest

DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(7)]


def count(db_url: str, sql: str) -> int:
    with get_engine(db_url).connect() as c:
        return int(c.execute(sa.text(sql)).scalar_one())


@pytest.mark.slow
def test_partitions_with_20_percent_faults_import_every_message_once(
    db_url: str, dagster_instance: dg.DagsterInstance, graph: FakeGraph, credentials_key: str
) -> None:
    key = register_graph(db_url, graph, credentials_key)
    graph.faults = GraphFaults(
        seed=7, throttle_rate=0.1, unavailable_rate=0.05, concurrency_rate=0.05, drop_rate=0.02
    )

    outcomes = run_days(db_url, dagster_instance, key, DAYS)

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    rows = ledger_rows(db_url)
    assert len(rows) == len(sample_messages()) == 62
    assert {r["status"] for r in rows} <= {"done", "skipped"}
    assert count(db_url, "select count(*) from messages") == 60  # two duplicate deliveries
    assert sum(graph.stats.throttled.values()) > 0
    assert max(graph.stats.value_served.values()) == 1  # no message downloaded twice

    served, batches = sum(graph.stats.value_served.values()), graph.stats.requests["batch"]
    again = run_days(db_url, dagster_instance, key, DAYS)
    assert sum(o.metrics["inserted"] + o.metrics["extraction_calls"] for o in again) == 0
    assert sum(graph.stats.value_served.values()) == served
    assert graph.stats.requests["batch"] == batches  # nothing fetched for finished items


@pytest.mark.slow
def test_mail_arriving_after_todays_run_comes_through_the_delta(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, graph: FakeGraph, credentials_key: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    start = dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC)
    early = start + (now - start) / 3
    graph.add_message(MAILBOX, b"Subject: first\nMessage-ID: <t1@x>\n\nHello\n", early)
    key = register_graph(sqlite_url, graph, credentials_key)

    [first] = run_days(sqlite_url, dagster_instance, key, [today])
    graph.add_message(MAILBOX, b"Subject: second\nMessage-ID: <t2@x>\n\nHello\n", early)
    [second] = run_days(sqlite_url, dagster_instance, key, [today])
    with session_scope(sqlite_url) as session:
        state = find_integration(session, key).sync_state
    graph.expire_deltas()
    graph.add_message(MAILBOX, b"Subject: third\nMessage-ID: <t3@x>\n\nHello\n", early)
    [third] = run_days(sqlite_url, dagster_instance, key, [today])
    [fourth] = run_days(sqlite_url, dagster_instance, key, [today])

    assert all(o.success for o in (first, second, third, fourth))
    assert state["mail_delta"]["day"] == today.isoformat()
    assert (first.metrics["enumerated"], second.metrics["enumerated"]) == (1, 1)
    assert "expired" in third.metrics.get("enumerate_notes", "")
    assert third.metrics["enumerated"] == 3 and third.metrics["new_items"] == 1
    # The next run starts a new delta from the day's start: the day again, nothing new.
    assert (fourth.metrics["enumerated"], fourth.metrics["new_items"]) == (3, 0)
    with session_scope(sqlite_url) as session:
        assert "mail_delta" in find_integration(session, key).sync_state
    assert count(sqlite_url, "select count(*) from messages") == 3


def test_revoked_access_disables_the_integration_and_asks_to_reconnect(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, graph: FakeGraph, credentials_key: str
) -> None:
    key = register_graph(sqlite_url, graph, credentials_key)
    graph.revoke_app(CLIENT_ID)

    [outcome] = run_days(sqlite_url, dagster_instance, key, [DAYS[0]])

    assert not outcome.success
    assert "reconnect" in (outcome.error or "").lower()
    events = [e.dagster_event_type for e in dagster_instance.all_logs(outcome.run_id)]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in events
    with session_scope(sqlite_url) as session:
        assert find_integration(session, key).status == "disabled"
        notes = session.scalars(sa.select(Notification)).all()
        assert [n.kind for n in notes] == ["reconnect_account"]
        assert "Reconnect your Microsoft account" in notes[0].message


@pytest.mark.slow
def test_contacts_import_once_then_follow_edits_and_deletions(
    db_url: str, dagster_instance: dg.DagsterInstance, graph: FakeGraph, credentials_key: str
) -> None:
    key = register_graph(db_url, graph, credentials_key, provider="microsoft-contacts")
    graph.faults = GraphFaults(seed=11, throttle_rate=0.2, unavailable_rate=0.05)

    [first] = run_days(db_url, dagster_instance, key, None, stream="contacts")
    assert first.success, first.error
    # Two different people called Alex Kim stay two contacts.
    assert count(db_url, "select count(*) from contacts") == len(SAMPLE_CONTACTS)
    assert count(db_url, "select count(*) from imported_contacts where action = 'created'") == 5

    with session_scope(db_url) as session:
        ids = {c.id for c in session.scalars(sa.select(Contact))}
        by_name = {
            row.data["full_name"]: row.external_id
            for row in session.scalars(sa.select(ContactSourceRow))
        }
    graph.faults = GraphFaults()
    ann, dee = by_name["Ann Lee"], by_name["Dee Patel"]
    graph.update_contact(MAILBOX, ann, {"jobTitle": "Head of Talent"})
    graph.delete_contact(MAILBOX, dee)

    [second] = run_days(db_url, dagster_instance, key, None, stream="contacts")

    assert second.success, second.error
    assert second.metrics["enumerated"] == 2
    with session_scope(db_url) as session:
        contacts = {c.display_name: c for c in session.scalars(sa.select(Contact))}
        assert contacts["Ann Lee"].title == "Head of Talent"
        assert contacts["Dee Patel"].deleted
        assert {c.id for c in contacts.values()} <= ids

    [third] = run_days(db_url, dagster_instance, key, None, stream="contacts")
    assert third.success and third.metrics["enumerated"] == 0


def test_cli_adds_outlook_after_checking_access(
    graph: FakeGraph,
    credentials_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("INGEST_DATA_DIR", str(tmp_path / ".ingest"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".ingest" / "dagster_home"))
    options = graph_options(graph)
    where = ["--graph-url", options["graph_url"], "--authority-host", options["authority_host"]]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**app_credentials(), "client_secret": "nope"}))
    base = ["integrations", "add", "--provider", "outlook", *where]

    assert main([*base, "--credentials", str(wrong), "--mailbox", MAILBOX]) == 2
    assert "reconnect your microsoft account" in capsys.readouterr().err.lower()
    assert main([*base, "--credentials", str(wrong)]) == 2
    assert "--mailbox" in capsys.readouterr().err

    for name, value in app_credentials().items():
        if name != "type":
            monkeypatch.setenv(f"MS_{name.upper()}", value)
    monkeypatch.setenv("MS_MAILBOX_USER_ID", MAILBOX)
    assert main([*base, "--keyword-search"]) == 0
    key = capsys.readouterr().out.strip()
    assert key == "outlook-1"
    assert main(["integrations", "list"]) == 0
    assert MAILBOX in capsys.readouterr().out
    stored = (tmp_path / ".ingest" / "app.db").read_bytes()
    assert app_credentials()["client_secret"].encode() not in stored

    http = ["--graph-url", options["graph_url"].replace("https://", "http://")]
    assert main(["integrations", "add", "--provider", "microsoft-contacts", *http]) == 2
    assert "https://" in capsys.readouterr().err


def test_keyword_search_follows_the_tenants_candidates_on_every_run(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, graph: FakeGraph, credentials_key: str
) -> None:
    day = dt.date(2026, 11, 20)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    for n, subject in enumerate(["Data Engineer role", "Rust developer wanted", "Lunch"]):
        raw = f"Subject: {subject}\nMessage-ID: <kw{n}@x>\n\nHello\n".encode()
        graph.add_message(MAILBOX, raw, noon + dt.timedelta(minutes=n))
    key = register_graph(sqlite_url, graph, credentials_key, keyword_search=True)
    with session_scope(sqlite_url) as session:
        session.add(
            Candidate(
                tenant_id="default",
                candidate_key="a@x",
                phones=[],
                skills=[],
                links=[],
                preferred_roles=["Data Engineer"],
            )
        )

    [first] = run_days(sqlite_url, dagster_instance, key, [day])
    with session_scope(sqlite_url) as session:
        session.add(
            Candidate(
                tenant_id="default",
                candidate_key="b@x",
                phones=[],
                skills=[],
                links=[],
                preferred_roles=["Rust developer"],
            )
        )
    [second] = run_days(sqlite_url, dagster_instance, key, [day])

    assert first.success and second.success
    assert first.metrics["enumerated"] == 1  # only the Data Engineer mail
    assert second.metrics["new_items"] == 1  # the Rust mail, found with the new keyword
    assert count(sqlite_url, "select count(*) from messages") == 2
