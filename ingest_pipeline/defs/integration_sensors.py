"""Sensors: new integrations become partitions and get a first run; run outcomes are written
back to the integration so `ingest-pipeline status` shows them."""

import datetime as dt

import dagster as dg

from ingest_pipeline.defs.mail_assets import ingest_mail_job
from ingest_pipeline.defs.partitions import INTEGRATION_DIMENSION, IngestPartition
from ingest_pipeline.defs.pools import apply_pool_limits
from ingest_pipeline.defs.resources import AppDatabaseResource
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import session_scope

PARTITION_TAG = f"dagster/partition/{INTEGRATION_DIMENSION}"


def integrations_sensor(minimum_interval_seconds: int = 30) -> dg.SensorDefinition:
    """The sensor that turns new active integrations into partitions with a first run."""
    return dg.sensor(
        name="integrations_sensor",
        job=ingest_mail_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Adds each active integration as a partition and runs its today once.",
    )(add_new_integrations)


def add_new_integrations(
    context: dg.SensorEvaluationContext, app_db: AppDatabaseResource
) -> dg.SensorResult:
    """New active integrations become dynamic partitions, each with a run for today."""
    apply_pool_limits(context.instance)
    with session_scope(app_db.database_url()) as session:
        active = [
            row.partition_key
            for row in integrations.list_integrations(session, status="active")
            if row.partition_key
        ]
    known = set(context.instance.get_dynamic_partitions(INTEGRATION_DIMENSION))
    new = [key for key in active if key not in known]
    today = dt.datetime.now(dt.UTC).date()
    return dg.SensorResult(
        dynamic_partitions_requests=[
            dg.AddDynamicPartitionsRequest(
                partitions_def_name=INTEGRATION_DIMENSION, partition_keys=new
            )
        ]
        if new
        else [],
        run_requests=[
            dg.RunRequest(
                partition_key=IngestPartition(key, today).key,
                run_key=f"first-run:{key}",
                tags={"ingest/trigger": "new-integration"},
            )
            for key in new
        ],
    )


def _record(
    app_db: AppDatabaseResource, run: dg.DagsterRun, status: str, error: str | None
) -> None:
    key = run.tags.get(PARTITION_TAG)
    if not key:
        return
    with session_scope(app_db.database_url()) as session:
        try:
            row = integrations.find_integration(session, key)
        except integrations.IntegrationNotFound:
            return
        integrations.record_sync(session, row.id, status=status, error=error)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_mail_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records a successful run on its integration.",
)
def ingest_success_sensor(context: dg.RunStatusSensorContext, app_db: AppDatabaseResource) -> None:
    _record(app_db, context.dagster_run, "success", None)


@dg.run_failure_sensor(
    monitored_jobs=[ingest_mail_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records a failed run and its error on its integration.",
)
def ingest_failure_sensor(context: dg.RunFailureSensorContext, app_db: AppDatabaseResource) -> None:
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
    monitored_jobs=[ingest_mail_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records a cancelled run on its integration.",
)
def ingest_canceled_sensor(context: dg.RunStatusSensorContext, app_db: AppDatabaseResource) -> None:
    _record(app_db, context.dagster_run, "canceled", "the run was terminated")
