"""Transient failures are retried with backoff and the run still imports everything once;
permanent ones fail at once, without retries, and say why."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.defs.ingest_ops import ingest_ops_for, transient_retry
from ingest_pipeline.defs.local_launch import RunOutcome
from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.dagster_services import wait_for
from ingest_pipeline_tests.mail_folders import BIG_DAY, big_eml_folder
from ingest_pipeline_tests.pipeline_runner import register_mailbox, run_days, snapshot


def _event_types(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterEventType]:
    return [e.dagster_event_type for e in instance.all_logs(run_id) if e.dagster_event_type]


def test_provider_and_llm_ops_retry_with_exponential_backoff_and_jitter() -> None:
    assert transient_retry.max_retries == 3
    assert transient_retry.backoff == dg.Backoff.EXPONENTIAL
    assert transient_retry.jitter == dg.Jitter.PLUS_MINUS
    enumerate_op, fetch_op, _, gpt_op, _ = ingest_ops_for("mail")
    for op in (enumerate_op, fetch_op, gpt_op):
        assert op.retry_policy == transient_retry


def test_permanent_failure_is_not_retried_and_says_why(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    key = register_mailbox(sqlite_url, tmp_path / "gone")
    [outcome] = run_days(sqlite_url, dagster_instance, key, [BIG_DAY])
    assert not outcome.success
    assert "does not exist" in (outcome.error or "")
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in _event_types(
        dagster_instance, outcome.run_id
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_dropped_database_connections_are_retried_and_nothing_is_lost(
    postgres_url: str,
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "big"
    big_eml_folder(folder)
    reference_url = make_db("postgres")
    reference_key = register_mailbox(reference_url, folder)
    run_days(reference_url, dagster_instance, reference_key, [BIG_DAY])
    key = register_mailbox(postgres_url, folder)

    outcomes: list[RunOutcome] = []
    runner = threading.Thread(
        target=lambda: outcomes.extend(
            run_days(postgres_url, dagster_instance, key, [BIG_DAY], batch_size=2)
        )
    )
    runner.start()
    database = sa.make_url(postgres_url).database
    with get_engine(postgres_url).connect() as watcher:
        wait_for(
            "the run to be fetching",
            lambda: (
                watcher.execute(
                    sa.text("select count(*) from ingest_items where step <> 'none'")
                ).scalar_one()
                >= 20
            ),
            timeout=120,
            every=0.05,
        )
        watcher.commit()
        # Hold the ledger so the run's next statement waits on it, then cut that connection
        # mid-statement: a failover or network blip that hits a query in flight.
        watcher.execute(sa.text("lock table ingest_items in access exclusive mode"))
        waiting = sa.text(
            "select pid from pg_stat_activity where datname = :db"
            " and pid <> pg_backend_pid() and wait_event_type = 'Lock'"
        )
        with get_engine(postgres_url).connect() as observer:
            wait_for(
                "a run statement to wait on the ledger",
                lambda: bool(observer.execute(waiting, {"db": database}).all()),
                timeout=120,
                every=0.05,
            )
            killed = observer.execute(
                sa.text(
                    "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                    " where datname = :db and pid <> pg_backend_pid()"
                    " and wait_event_type = 'Lock'"
                ),
                {"db": database},
            ).scalar_one()
        watcher.commit()
    runner.join(timeout=300)

    assert killed >= 1
    [outcome] = outcomes
    assert outcome.success, outcome.error
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY in _event_types(dagster_instance, outcome.run_id)
    assert snapshot(postgres_url, natural=True) == snapshot(reference_url, natural=True)
