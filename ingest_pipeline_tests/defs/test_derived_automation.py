"""Under the real dagster-daemon, nobody launches the derived assets: after a backfill of
old days of `ingest/mail`, the automation sensor materializes `derived/mail_interactions` and
`derived/contacts_from_mail` for exactly those partitions, and their checks pass."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.dagster_services import (
    dagster_services,
    instance_at,
    production_home,
    wait_for,
)
from ingest_pipeline_tests.defs.test_daemon_orchestration import all_done, backfill, runs_by_tag
from ingest_pipeline_tests.pipeline_runner import register_mailbox

# The daemon queues the derived assets' runs beside the ingest runs: on a loaded 2-core machine
# the whole flow takes longer than the suite's default timeout.
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

OLD_DAYS = [dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
DERIVED = [
    dg.AssetKey(["derived", "mail_interactions"]),
    dg.AssetKey(["derived", "contacts_from_mail"]),
]


def _derived_runs(instance: dg.DagsterInstance, partitions: set[str]) -> list[dg.DagsterRun] | None:
    """The finished runs of the derived assets for ``partitions``, once each one ran."""
    runs = [
        r
        for r in instance.get_runs()
        if DERIVED[0] in (r.asset_selection or ()) and r.tags.get("dagster/partition") in partitions
    ]
    covered = {r.tags["dagster/partition"] for r in runs if r.is_finished}
    return runs if covered == partitions and all(r.is_finished for r in runs) else None


def _interactions_per_day(db_url: str) -> dict[dt.date, int]:
    with get_engine(db_url).connect() as c:
        rows = c.execute(
            sa.text(
                "select t.partition_day, count(*) from interactions i join ingest_items t on"
                " t.integration_id = i.integration_id and t.external_id = i.external_id"
                " and t.stream = 'mail' group by t.partition_day"
            )
        )
        return {day: count for day, count in rows}


def test_the_automation_sensor_updates_derived_assets_after_a_backfill_of_old_days(
    tmp_path: Path, postgres_url: str, dagster_storage_url: str
) -> None:
    key = register_mailbox(
        postgres_url, SAMPLE_MBOX, task=None, own_addresses=["morgan.lee@example.com"]
    )
    assert key
    home = production_home(tmp_path / "dagster_home")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": dagster_storage_url,
        "INGEST_DATABASE_URL": postgres_url,
        "INGEST_SENSOR_INTERVAL_SECONDS": "5",
        # No schedule tick during the test: only the sensor's first run and the backfill.
        "INGEST_TODAY_CRON": "0 0 1 1 *",
        "INGEST_NIGHTLY_CRON": "0 0 1 1 *",
    }
    os.environ["DAGSTER_PG_URL"] = dagster_storage_url
    instance = instance_at(home)
    partitions = {f"{day.isoformat()}|{key}" for day in OLD_DAYS}

    with dagster_services(env, tmp_path):
        wait_for(
            "the integration's first run",
            lambda: all_done(runs_by_tag(instance, "ingest/trigger", "new-integration"), 1),
            timeout=180,
        )
        backfill(env, sorted(partitions))
        ingested = wait_for(
            "the backfill's runs",
            lambda: all_done([r for r in instance.get_runs() if r.tags.get("dagster/backfill")], 2),
            timeout=180,
        )
        assert {r.status for r in ingested} == {dg.DagsterRunStatus.SUCCESS}
        derived = wait_for(
            "the derived assets of the backfilled days",
            lambda: _derived_runs(instance, partitions),
            timeout=180,
        )

    assert {r.status for r in derived} == {dg.DagsterRunStatus.SUCCESS}
    assert all(set(DERIVED) <= set(r.asset_selection or ()) for r in derived)
    # Launched by the sensor, not by a person, a schedule or the backfill.
    assert not [
        r for r in derived if r.tags.get("dagster/backfill") or r.tags.get("ingest/launched_by")
    ]
    per_day = _interactions_per_day(postgres_url)
    assert set(OLD_DAYS) <= set(per_day) and all(per_day[d] > 0 for d in OLD_DAYS)
    for run in derived:
        checks = [
            e.dagster_event.event_specific_data
            for e in instance.all_logs(run.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        assert checks and all(c.passed for c in checks), run.tags
