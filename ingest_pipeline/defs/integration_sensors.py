"""Sensors: new integrations become partitions of their stream and get a first run; run
outcomes are written back to the integration so `ingest-pipeline status` shows them."""

import datetime as dt
import json
from collections.abc import Sequence

import dagster as dg

from ingest_pipeline.defs.ingest_assets import AssetJob, StreamDefs
from ingest_pipeline.defs.partitions import (
    IngestPartition,
    integration_key_of_run,
    integration_set_name,
)
from ingest_pipeline.defs.pools import apply_pool_limits
from ingest_pipeline.defs.resources import AppDatabaseResource
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import session_scope


def integrations_sensor(
    streams: Sequence[StreamDefs], minimum_interval_seconds: int = 30
) -> dg.SensorDefinition:
    """The sensor that turns new active integrations into partitions of their stream's
    asset, each with a first run of its stream's job."""

    def add_new_integrations(
        context: dg.SensorEvaluationContext, app_db: AppDatabaseResource
    ) -> dg.SensorResult:
        apply_pool_limits(context.instance)
        with session_scope(app_db.database_url()) as session:
            active = [
                (row.stream, row.partition_key)
                for row in integrations.list_integrations(
                    session, status="active", tenants=app_db.tenants
                )
                if row.partition_key
            ]
        today = dt.datetime.now(dt.UTC).date()
        partition_requests = []
        run_requests = []
        for defs in streams:
            set_name = integration_set_name(defs.stream)
            known = set(context.instance.get_dynamic_partitions(set_name))
            new = [key for stream, key in active if stream == defs.stream and key not in known]
            if not new:
                continue
            partition_requests.append(
                dg.AddDynamicPartitionsRequest(partitions_def_name=set_name, partition_keys=new)
            )
            run_requests += [
                dg.RunRequest(
                    job_name=defs.job_name,
                    partition_key=IngestPartition(key, today if defs.dated else None).key,
                    run_key=f"first-run:{key}",
                    tags={"ingest/trigger": "new-integration"},
                )
                for key in new
            ]
        return dg.SensorResult(
            dynamic_partitions_requests=partition_requests, run_requests=run_requests
        )

    return dg.sensor(
        name="integrations_sensor",
        jobs=[defs.job for defs in streams],
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Adds each new active integration as a partition of its stream and runs "
        "its current partition once.",
    )(add_new_integrations)


# The change token a scheduled run was launched with (`change_probes`), kept on success.
PROBE_TOKEN_TAG = "ingest/probe_token"
# The provider feed's state a scheduled run was launched with (JSON), kept on success.
PROBE_FEED_TAG = "ingest/probe_feed"


def _record(
    app_db: AppDatabaseResource, run: dg.DagsterRun, status: str, error: str | None
) -> None:
    key = integration_key_of_run(run)
    if not key:
        return
    with session_scope(app_db.database_url()) as session:
        try:
            row = integrations.find_integration(session, key)
        except integrations.IntegrationNotFound:
            return
        feed = run.tags.get(PROBE_FEED_TAG)
        integrations.record_sync(
            session,
            row.id,
            status=status,
            error=error,
            probe_token=run.tags.get(PROBE_TOKEN_TAG),
            probe_feed=json.loads(feed) if feed else None,
        )


def run_outcome_sensors(jobs: Sequence[AssetJob]) -> list[dg.SensorDefinition]:
    """Sensors that write each ingest run's outcome (and a failure's error) to its
    integration."""

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=list(jobs),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Records a successful run on its integration.",
    )
    def ingest_success_sensor(
        context: dg.RunStatusSensorContext, app_db: AppDatabaseResource
    ) -> None:
        _record(app_db, context.dagster_run, "success", None)

    @dg.run_failure_sensor(
        monitored_jobs=list(jobs),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Records a failed run and its error on its integration.",
    )
    def ingest_failure_sensor(
        context: dg.RunFailureSensorContext, app_db: AppDatabaseResource
    ) -> None:
        steps = context.get_step_failure_events()
        messages = [
            e.step_failure_data.error.message.strip()
            for e in steps
            if e.step_failure_data and e.step_failure_data.error
        ]
        error = "; ".join(messages) or (context.failure_event.message or "run failed")
        _record(app_db, context.dagster_run, "failed", error[:2000])

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.CANCELED,
        monitored_jobs=list(jobs),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Records a cancelled run on its integration.",
    )
    def ingest_canceled_sensor(
        context: dg.RunStatusSensorContext, app_db: AppDatabaseResource
    ) -> None:
        _record(app_db, context.dagster_run, "canceled", "the run was terminated")

    return [ingest_success_sensor, ingest_failure_sensor, ingest_canceled_sensor]
