"""Google Contacts and Google Calendar through the Dagster jobs against the local Google
server, and one person across Google, Microsoft and vCard sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.defs.ingest_ops import items_cap
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.store.models import Contact, ContactSourceRow, Interaction, Notification
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail
from ingest_pipeline_tests.fakes.graph_server import FakeGraph
from ingest_pipeline_tests.gmail_fixtures import USER, credentials_key
from ingest_pipeline_tests.google_fixtures import (
    SAMPLE_OCCURRENCES,
    SAMPLE_PEOPLE,
    WEEK,
    google,
    register_google,
)
from ingest_pipeline_tests.graph_fixtures import MAILBOX, graph, register_graph
from ingest_pipeline_tests.pipeline_runner import ledger_rows, register_source, run_days

__all__ = ["credentials_key", "google", "graph"]  # fixtures, imported for pytest

Google = tuple[FakeGmail, dict[str, Any]]


def count(db_url: str, sql: str) -> int:
    with get_engine(db_url).connect() as c:
        return int(c.execute(sa.text(sql)).scalar_one())


def snapshot_run(db_url: str, instance: dg.DagsterInstance, key: str) -> Any:
    [outcome] = run_days(db_url, instance, key, None, stream="contacts")
    assert outcome.success, outcome.error
    return outcome


@pytest.mark.slow
def test_contacts_with_20_percent_faults_import_everyone_once_and_follow_changes(
    db_url: str, dagster_instance: dg.DagsterInstance, google: Google, credentials_key: str
) -> None:
    server, info = google
    key = register_google(db_url, server, info, credentials_key, provider="google-contacts")
    server.faults.share = 0.2
    server.faults.next_statuses = [429, 503]  # at least two faults, whatever the draw

    first = snapshot_run(db_url, dagster_instance, key)

    rows = ledger_rows(db_url)
    assert len(rows) == len(SAMPLE_PEOPLE) and {r["status"] for r in rows} == {"done"}
    assert count(db_url, "select count(*) from contacts") == len(SAMPLE_PEOPLE)  # 2 Alex Kims
    assert first.metrics["contacts_created"] == len(SAMPLE_PEOPLE)
    assert server.stats.status_counts[429] + server.stats.status_counts[503] >= 2

    server.faults.share = 0.0
    gets = server.stats.by_method["people.getBatchGet"]
    again = snapshot_run(db_url, dagster_instance, key)
    assert again.metrics["enumerated"] == 0
    assert server.stats.by_method["people.getBatchGet"] == gets  # nothing fetched again

    with session_scope(db_url) as session:
        by_name = {
            r.data["full_name"]: r.external_id for r in session.scalars(sa.select(ContactSourceRow))
        }
    server.update_person(USER, by_name["Bo Chen"], {"phoneNumbers": [{"value": "+1 212 555 0199"}]})
    server.delete_person(USER, by_name["Eve Moss"])
    server.expire_sync_tokens()

    third = snapshot_run(db_url, dagster_instance, key)

    assert "expired" in third.metrics.get("enumerate_notes", "")
    # The full listing after the expiry lacks Eve: she is marked removed, not lost.
    assert third.metrics["changed_items"] == 1 and third.metrics["removed_items"] == 1
    assert third.metrics["new_items"] == 0
    with session_scope(db_url) as session:
        contacts = {c.display_name: c for c in session.scalars(sa.select(Contact))}
        assert contacts["Bo Chen"].phones == ["+12125550199"]
        assert contacts["Eve Moss"].deleted
    assert count(db_url, "select count(*) from contacts") == len(SAMPLE_PEOPLE)


@pytest.mark.slow
def test_calendar_days_with_20_percent_faults_import_every_occurrence_once(
    db_url: str, dagster_instance: dg.DagsterInstance, google: Google, credentials_key: str
) -> None:
    server, info = google
    key = register_google(db_url, server, info, credentials_key, provider="google-calendar")
    server.faults.share = 0.2
    server.faults.next_statuses = [429, 503]

    outcomes = run_days(db_url, dagster_instance, key, WEEK, stream="calendar_events")

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    assert count(db_url, "select count(*) from calendar_events") == SAMPLE_OCCURRENCES
    assert {r["status"] for r in ledger_rows(db_url)} == {"done"}
    with session_scope(db_url) as session:
        meetings = len(
            set(
                session.scalars(sa.select(Interaction.external_id).where(Interaction.email != USER))
            )
        )
    assert meetings == 4  # the intro, the review, the debrief and the Sunday sync
    server.faults.share = 0.0
    listings = server.stats.by_method["calendar.events.list"]

    again = run_days(db_url, dagster_instance, key, WEEK, stream="calendar_events")

    assert sum(o.metrics.get("calendar_events_inserted", 0) for o in again) == 0
    # One listing per day for enumerate; fetch asks nothing for finished occurrences.
    assert server.stats.by_method["calendar.events.list"] - listings == len(WEEK)


def test_revoked_google_access_disables_the_integration_and_asks_to_reconnect(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, google: Google, credentials_key: str
) -> None:
    server, info = google
    key = register_google(sqlite_url, server, info, credentials_key, provider="google-calendar")
    server.revoke(info["refresh_token"])

    [outcome] = run_days(sqlite_url, dagster_instance, key, [WEEK[0]], stream="calendar_events")

    assert not outcome.success and "reconnect" in (outcome.error or "").lower()
    with session_scope(sqlite_url) as session:
        assert find_integration(session, key).status == "disabled"
        [note] = session.scalars(sa.select(Notification)).all()
        assert "Reconnect your Google account" in note.message


@pytest.mark.slow
def test_one_person_across_google_microsoft_and_a_vcard_is_one_contact(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    google: Google,
    graph: FakeGraph,
    credentials_key: str,
    tmp_path: Path,
) -> None:
    server, info = google
    card = tmp_path / "ann.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nEMAIL:ANN.LEE@talent.example\r\n"
        "TEL:+1 (415) 555-0100\r\nEND:VCARD\r\n"
    )
    calendar = register_google(
        sqlite_url, server, info, credentials_key, provider="google-calendar"
    )
    # Meetings first: their people are linked to contacts once those arrive.
    assert all(
        o.success
        for o in run_days(sqlite_url, dagster_instance, calendar, WEEK, stream="calendar_events")
    )
    keys = [
        register_google(sqlite_url, server, info, credentials_key, provider="google-contacts"),
        register_graph(sqlite_url, graph, credentials_key, provider="microsoft-contacts"),
        register_source(sqlite_url, card, provider="vcard", stream="contacts"),
    ]
    for key in keys:
        snapshot_run(sqlite_url, dagster_instance, key)

    with session_scope(sqlite_url) as session:
        anns = session.scalars(sa.select(Contact).where(Contact.display_name == "Ann Lee")).all()
        assert len(anns) == 1
        [ann] = anns
        sources = session.scalars(
            sa.select(ContactSourceRow).where(ContactSourceRow.contact_id == ann.id)
        ).all()
        assert len(sources) == 3  # Google, Microsoft and the vCard keep their own ids
        alexes = session.scalars(sa.select(Contact).where(Contact.display_name == "Alex Kim")).all()
        assert len(alexes) == 2  # same name, different emails: two people
        meetings = session.scalars(
            sa.select(Interaction).where(Interaction.email == "ann.lee@talent.example")
        ).all()
        assert len(meetings) == 2 and {m.contact_id for m in meetings} == {ann.id}
        google_ann = next(s.external_id for s in sources if s.external_id.startswith("people/"))

    server.delete_person(USER, google_ann)
    snapshot_run(sqlite_url, dagster_instance, keys[0])

    with session_scope(sqlite_url) as session:
        ann = session.get_one(Contact, ann.id)
        assert not ann.deleted  # still in Outlook and in the vCard
        gone = session.scalars(
            sa.select(ContactSourceRow).where(ContactSourceRow.external_id == google_ann)
        ).one()
        assert gone.deleted
    assert MAILBOX  # the Outlook address book is the graph fixture's


def test_a_google_calendar_run_fetches_at_most_2000_items_and_the_next_continues() -> None:
    assert items_cap(None, "google-calendar") == 2000
    assert items_cap(500, "google-calendar") == 500  # INGEST_MAX_ITEMS_PER_RUN is lower
    assert items_cap(None, "gmail") is None and items_cap(40, "gmail") == 40
