"""Schedules: every 15 minutes today's partition, nightly yesterday's, per active integration."""

import datetime as dt

import dagster as dg

from ingest_pipeline.defs.mail_assets import ingest_mail_job
from ingest_pipeline.defs.partitions import IngestPartition
from ingest_pipeline.defs.resources import AppDatabaseResource
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import session_scope

TICK_MINUTES = 15


def due_integrations(app_db: AppDatabaseResource, tick: dt.datetime) -> list[str]:
    """Active integrations whose sync frequency falls on this tick.

    An integration syncing every N minutes runs on the ticks whose minute of the day is a
    multiple of N (rounded to the tick); 0 means manual runs only.
    """
    minute_of_day = tick.hour * 60 + tick.minute
    with session_scope(app_db.database_url()) as session:
        rows = integrations.list_integrations(session, status="active")
        return [
            row.partition_key
            for row in rows
            if row.partition_key
            and row.sync_frequency_minutes > 0
            and minute_of_day % max(row.sync_frequency_minutes, TICK_MINUTES) < TICK_MINUTES
        ]


def _requests(
    keys: list[str], day: dt.date, tick: dt.datetime, trigger: str
) -> list[dg.RunRequest]:
    return [
        dg.RunRequest(
            partition_key=IngestPartition(key, day).key,
            # The tick time keeps later ticks of the same day from being dropped as duplicates.
            run_key=f"{trigger}:{key}:{day.isoformat()}:{tick.isoformat()}",
            tags={"ingest/trigger": trigger},
        )
        for key in keys
    ]


def ingest_today_schedule(cron_schedule: str = "*/15 * * * *") -> dg.ScheduleDefinition:
    """Every 15 minutes (by default): today's partition for each due active integration."""

    @dg.schedule(
        name="ingest_today_schedule",
        cron_schedule=cron_schedule,
        job=ingest_mail_job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Today's partition for every active integration whose frequency is due.",
    )
    def _today(
        context: dg.ScheduleEvaluationContext, app_db: AppDatabaseResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        tick = context.scheduled_execution_time.astimezone(dt.UTC)
        keys = due_integrations(app_db, tick)
        if not keys:
            return dg.SkipReason("no active integration is due on this tick")
        return _requests(keys, tick.date(), tick, "every-15-minutes")

    return _today


def ingest_yesterday_schedule(cron_schedule: str = "30 2 * * *") -> dg.ScheduleDefinition:
    """Nightly (by default): yesterday's partition for each active integration."""

    @dg.schedule(
        name="ingest_yesterday_schedule",
        cron_schedule=cron_schedule,
        job=ingest_mail_job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Yesterday's partition for every active integration, to catch late mail.",
    )
    def _yesterday(
        context: dg.ScheduleEvaluationContext, app_db: AppDatabaseResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        tick = context.scheduled_execution_time.astimezone(dt.UTC)
        with session_scope(app_db.database_url()) as session:
            keys = [
                row.partition_key
                for row in integrations.list_integrations(session, status="active")
                if row.partition_key and row.sync_frequency_minutes > 0
            ]
        if not keys:
            return dg.SkipReason("no active integration")
        return _requests(keys, tick.date() - dt.timedelta(days=1), tick, "nightly")

    return _yesterday
