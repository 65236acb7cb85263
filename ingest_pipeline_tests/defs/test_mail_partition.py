"""The whole partition through Dagster on the bundled sample mailbox, on SQLite and Postgres."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from ingest_pipeline.defs.partitions import IngestPartition
from ingest_pipeline.sources.mailbox.mailbox_source import MailboxSource
from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    ledger_rows,
    register_mailbox,
    run_days,
    snapshot,
)

DAYS = MailboxSource(SAMPLE_MBOX).receipt_days()


def _count(db_url: str, table: str) -> int:
    with get_engine(db_url).connect() as c:
        return int(c.execute(sa.text(f"select count(*) from {table}")).scalar_one())  # noqa: S608


def test_sample_mailbox_imports_every_day_and_passes_checks(
    db_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    assert len(DAYS) == 7
    key = register_mailbox(db_url, SAMPLE_MBOX)

    outcomes = run_days(db_url, dagster_instance, key, DAYS)

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    for outcome in outcomes:
        assert check_results(dagster_instance, outcome.run_id) == {
            "mail_counts_reconcile": True,
            "mail_no_hidden_duplicates": True,
            "mail_items_accounted": True,
            "mail_failed_share_within_bounds": True,
        }
    rows = ledger_rows(db_url)
    assert len(rows) == 62
    assert all(r["status"] in {"done", "skipped", "failed"} for r in rows)
    assert all(r["last_error"] for r in rows if r["status"] != "done")
    assert _count(db_url, "messages") == 60  # two deliveries of two messages are stored once
    assert _count(db_url, "job_postings") >= 18
    assert _count(db_url, "attachments") >= 12

    materialization = dagster_instance.get_latest_materialization_event(
        dg.AssetKey(["ingest", "mail"])
    )
    assert materialization is not None
    metadata = materialization.asset_materialization.metadata  # type: ignore[union-attr]
    for name in (
        "enumerated",
        "fetched",
        "inserted",
        "updated",
        "skipped",
        "failed",
        "duration_seconds",
        "extraction_calls",
        "cache_hits",
    ):
        assert name in metadata, name


def test_rerun_changes_no_row_and_makes_no_extraction_call(
    db_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key = register_mailbox(db_url, SAMPLE_MBOX)
    run_days(db_url, dagster_instance, key, DAYS)
    before = snapshot(db_url)

    again = run_days(db_url, dagster_instance, key, DAYS)

    assert all(o.success for o in again)
    assert snapshot(db_url) == before
    assert sum(o.metrics["extraction_calls"] for o in again) == 0
    assert sum(o.metrics["inserted"] + o.metrics["updated"] for o in again) == 0


def test_duplicate_delivery_is_stored_once_and_skipped_with_reason(
    sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key = register_mailbox(sqlite_url, SAMPLE_MBOX)
    run_days(sqlite_url, dagster_instance, key, DAYS)
    duplicates = [
        r for r in ledger_rows(sqlite_url) if "duplicate delivery" in (r["last_error"] or "")
    ]
    assert len(duplicates) == 2
    assert all(r["status"] == "skipped" for r in duplicates)
    with get_engine(sqlite_url).connect() as c:
        stored = c.execute(
            sa.text(
                "select count(*) from messages"
                " where message_key like '<req01.%' or message_key like '<app03.%'"
            )
        ).scalar_one()
    assert stored == 2


def test_message_lands_on_its_receipt_day_whatever_its_date_header(
    sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key = register_mailbox(sqlite_url, SAMPLE_MBOX)
    run_days(sqlite_url, dagster_instance, key, DAYS)
    with get_engine(sqlite_url).connect() as c:
        rows = dict(
            c.execute(
                sa.text(
                    "select m.message_key, i.partition_day from messages m "
                    "join ingest_items i on i.id = m.source_item_id "
                    "where m.message_key like '<bad01.%' or m.message_key like '<personal07.%'"
                )
            )
            .tuples()
            .all()
        )
    days = {k.split(".")[0]: str(v)[:10] for k, v in rows.items()}
    assert days == {"<bad01": "2026-11-02", "<personal07": "2026-11-08"}


def test_job_application_task_creates_candidates_tied_to_the_job(
    db_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key = register_mailbox(db_url, SAMPLE_MBOX, task="job_application", job_id=42)
    outcomes = run_days(db_url, dagster_instance, key, DAYS)
    assert all(o.success for o in outcomes)
    with get_engine(db_url).connect() as c:
        jobs = {r[0] for r in c.execute(sa.text("select job_id from job_applications"))}
        with_email = c.execute(
            sa.text("select count(*) from candidates where email like '%@%'")
        ).scalar_one()
    assert jobs == {42}
    assert _count(db_url, "job_applications") >= 12
    assert with_email >= 12


def test_partition_of_a_disabled_integration_fails_with_a_clear_reason(
    sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    from ingest_pipeline.store.database import session_scope
    from ingest_pipeline.store.integrations import find_integration, set_status

    key = register_mailbox(sqlite_url, SAMPLE_MBOX)
    with session_scope(sqlite_url) as session:
        set_status(session, find_integration(session, key), "disabled")
    [outcome] = run_days(sqlite_url, dagster_instance, key, [dt.date(2026, 11, 2)])
    assert not outcome.success
    assert "disabled" in (outcome.error or "")
    assert IngestPartition(key, dt.date(2026, 11, 2)).key == f"2026-11-02|{key}"
