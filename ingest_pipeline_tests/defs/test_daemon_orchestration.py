"""Unattended orchestration under the real dagster-daemon and dagster-webserver, on a
Postgres-backed DAGSTER_HOME with the project's production dagster.yaml: the sensor adds
integrations and runs them, a schedule tick launches runs, a backfill over 3 days × 2
integrations completes, no two runs of one integration overlap, and a terminated run ends
CANCELED and its re-run imports exactly what an uninterrupted run imports."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.conftest import PROJECT_ROOT, SAMPLE_MBOX
from ingest_pipeline_tests.dagster_services import (
    dagster_services,
    graphql,
    instance_at,
    production_home,
    wait_for,
)
from ingest_pipeline_tests.mail_folders import BIG_DAY, big_eml_folder
from ingest_pipeline_tests.pipeline_runner import register_mailbox, run_days

# The daemon queues the derived assets' runs beside the ingest runs: on a loaded 2-core machine
# the whole flow takes longer than the suite's default timeout.
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

BACKFILL_DAYS = [dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)]
TERMINATE = """
mutation($runId: String!) {
  terminateRun(runId: $runId) {
    __typename
    ... on PythonError { message }
    ... on TerminateRunFailure { message }
  }
}
"""


def integration_rows(db_url: str, integration_id: int) -> dict[str, list[tuple[object, ...]]]:
    """What one integration imported, by natural keys (no surrogate ids, no timestamps)."""
    queries = {
        "ledger": "select external_id, partition_day, status, step, attempts, last_error,"
        " content_hash from ingest_items where integration_id = :i",
        "messages": "select message_key, subject, sender_email, body_text, defects"
        " from messages where integration_id = :i",
        "attachments": "select m.message_key, a.ordinal, a.filename, a.sha256, a.text"
        " from attachments a join messages m on m.id = a.message_id where m.integration_id = :i",
        "job_postings": "select m.message_key, p.title, p.company, p.skills, p.confidence"
        " from job_postings p join messages m on m.id = p.message_id where p.integration_id = :i",
    }
    with get_engine(db_url).connect() as c:
        return {
            name: sorted((tuple(r) for r in c.execute(sa.text(q), {"i": integration_id})), key=repr)
            for name, q in queries.items()
        }


def dagster_cli(env: dict[str, str], args: list[str]) -> None:
    """One `dagster` command on the project's workspace."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            *args[:2],
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            *args[2:],
        ],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def backfill(env: dict[str, str], partitions: list[str], *, tags: str = "{}") -> None:
    """Launch a backfill of ``ingest_mail_job`` the documented way: `dagster job backfill`."""
    dagster_cli(
        env,
        [
            "job",
            "backfill",
            "-j",
            "ingest_mail_job",
            "--partitions",
            ",".join(partitions),
            "--noprompt",
            "--tags",
            tags,
        ],
    )


def runs_by_tag(instance: dg.DagsterInstance, key: str, value: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter(tags={key: value})))


def all_done(runs: list[dg.DagsterRun], count: int) -> list[dg.DagsterRun] | None:
    finished = [r for r in runs if r.is_finished]
    return runs if len(runs) >= count and len(finished) == len(runs) else None


def test_daemon_runs_sensor_schedule_backfill_and_termination(
    tmp_path: Path,
    postgres_url: str,
    make_db: Callable[[str], str],
    dagster_storage_url: str,
    dagster_instance: dg.DagsterInstance,
) -> None:
    folder = tmp_path / "big"
    big_eml_folder(folder)
    big_key = register_mailbox(postgres_url, folder)  # id 1, like the reference below
    first, second = (
        register_mailbox(postgres_url, SAMPLE_MBOX),
        register_mailbox(postgres_url, SAMPLE_MBOX, task="job_application", job_id=7),
    )
    home = production_home(tmp_path / "dagster_home")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": dagster_storage_url,
        "INGEST_DATABASE_URL": postgres_url,
        "INGEST_TODAY_CRON": "* * * * *",
        "INGEST_SENSOR_INTERVAL_SECONDS": "5",
        "INGEST_BATCH_SIZE": "2",
    }
    os.environ["DAGSTER_PG_URL"] = dagster_storage_url
    instance = instance_at(home)

    with dagster_services(env, tmp_path) as port:
        # The derived assets' runs that follow each ingest run are proven by
        # test_derived_automation; here they would only double the runs a loaded machine
        # queues, so their sensor is stopped (as a user would, from the CLI or the UI).
        dagster_cli(env, ["sensor", "stop", "derived_automation_sensor"])
        # The sensor turns every active integration into a partition with a first run.
        first_runs = wait_for(
            "first runs of the three integrations",
            lambda: all_done(runs_by_tag(instance, "ingest/trigger", "new-integration"), 3),
            timeout=240,
        )
        assert {r.status for r in first_runs} == {dg.DagsterRunStatus.SUCCESS}
        assert set(instance.get_dynamic_partitions("mail_integrations")) == {big_key, first, second}

        # A schedule tick (every minute here) launches today's partition for each.
        ticked = wait_for(
            "a schedule tick's runs",
            lambda: all_done(runs_by_tag(instance, "ingest/trigger", "every-15-minutes"), 3),
            timeout=180,
        )
        assert dg.DagsterRunStatus.SUCCESS in {r.status for r in ticked}
        # Proven: stop it, so that a tick a minute (each followed by the derived assets'
        # runs) does not keep the run queue of a loaded machine full for the rest.
        dagster_cli(env, ["schedule", "stop", "mail_today_schedule"])

        # A backfill of 3 days × 2 integrations through `dagster job backfill`.
        partitions = [
            f"{day.isoformat()}|{key}" for day in BACKFILL_DAYS for key in (first, second)
        ]
        backfill(env, partitions)
        backfill_runs = wait_for(
            "the backfill's six runs",
            lambda: all_done([r for r in instance.get_runs() if r.tags.get("dagster/backfill")], 6),
            timeout=300,
        )
        assert {r.tags["dagster/partition"] for r in backfill_runs} == set(partitions)
        assert {r.status for r in backfill_runs} == {dg.DagsterRunStatus.SUCCESS}

        # A run of the big mailbox, terminated while it persists, ends CANCELED. The test
        # holds a lock on job_postings so the run is provably mid-persist when terminated.
        big_partition = f"{BIG_DAY.isoformat()}|{big_key}"
        blocker = get_engine(postgres_url).connect()
        blocking = blocker.begin()
        blocker.execute(sa.text("LOCK TABLE job_postings IN EXCLUSIVE MODE"))
        try:
            backfill(env, [big_partition], tags='{"ingest/test": "terminate"}')
            [victim] = wait_for(
                "the big run to block in persist",
                lambda: (
                    _waiting_on_job_postings(postgres_url)
                    and runs_by_tag(instance, "ingest/test", "terminate")
                ),
                timeout=240,
                every=0.5,
            )
            answer = graphql(port, TERMINATE, {"runId": victim.run_id})["terminateRun"]
            assert answer["__typename"] == "TerminateRunSuccess", answer
        finally:
            blocking.rollback()
            blocker.close()
        canceled = wait_for(
            "the terminated run to end",
            lambda: (r := instance.get_run_by_id(victim.run_id)) and r.is_finished and r,
            timeout=120,
        )
        assert canceled.status == dg.DagsterRunStatus.CANCELED
        assert _ended(postgres_url) < 240

        backfill(env, [big_partition], tags='{"ingest/test": "rerun"}')
        [rerun] = wait_for(
            "the re-run",
            lambda: all_done(runs_by_tag(instance, "ingest/test", "rerun"), 1),
            timeout=300,
        )
        assert rerun.status == dg.DagsterRunStatus.SUCCESS

    reference_url = make_db("postgres")
    reference_key = register_mailbox(reference_url, folder)
    assert reference_key == big_key
    assert all(o.success for o in run_days(reference_url, dagster_instance, big_key, [BIG_DAY]))
    assert integration_rows(postgres_url, 1) == integration_rows(reference_url, 1)

    # One run per integration at a time: no two runs of an integration overlap.
    records = instance.get_run_records()
    by_integration: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        key = record.dagster_run.tags.get("dagster/partition/integration")
        if key and record.start_time and record.end_time:
            by_integration.setdefault(key, []).append((record.start_time, record.end_time))
    for key, spans in by_integration.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, f"runs of {key} overlapped"


def _waiting_on_job_postings(db_url: str) -> bool:
    """Whether some session waits for the lock the test holds on job_postings."""
    with get_engine(db_url).connect() as c:
        return bool(
            c.execute(
                sa.text(
                    "select count(*) from pg_locks where not granted"
                    " and relation = 'job_postings'::regclass"
                )
            ).scalar_one()
        )


def _ended(db_url: str) -> int:
    with get_engine(db_url).connect() as c:
        return int(
            c.execute(
                sa.text(
                    "select count(*) from ingest_items where integration_id = 1"
                    " and status in ('done', 'skipped', 'failed')"
                )
            ).scalar_one()
        )
