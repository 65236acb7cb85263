"""Schedules: every 15 minutes today's partition, nightly yesterday's, per active integration."""

import datetime as dt

import dagster as dg

from ingest_pipeline.defs.mail_assets import ingest_mail_job
from ingest_pipeline.defs.partitions import IngestPartition
from ingest_pipeline.defs.resources import AppDatabaseResource
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import session_scope

TICK_MINUTES = 15


def scheduled_integrations(app_db: AppDatabaseResource, tick: dt.datetime | None) -> list[str]:
    """Active integrations that sync on a schedule (frequency > 0; 0 means manual only).

    With a ``tick``, only those whose frequency falls on it: an integration syncing every N
    minutes runs on the ticks whose minute of the day is a multiple of N (to the tick).
    """
    with session_scope(app_db.database_url()) as session:
        rows = integrations.list_integrations(session, status="active")
        return [
            row.partition_key
            for row in rows
            if row.partition_key
            and row.sync_frequency_minutes > 0
            and (tick is None or _falls_on(tick, row.sync_frequency_minutes))
        ]


def _falls_on(tick: dt.datetime, frequency_minutes: int) -> bool:
    minute_of_day = tick.hour * 60 + tick.minute
    return minute_of_day % max(frequency_minutes, TICK_MINUTES) < TICK_MINUTES


def _partition_schedule(
    *,
    name: str,
    cron_schedule: str,
    description: str,
    trigger: str,
    days_back: int,
    honour_frequency: bool,
) -> dg.ScheduleDefinition:
    """A schedule that runs one day's partition (``days_back`` before the tick's) for each
    scheduled integration; run keys carry the tick time so later ticks are not dropped."""

    @dg.schedule(
        name=name,
        cron_schedule=cron_schedule,
        job=ingest_mail_job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, app_db: AppDatabaseResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        tick = context.scheduled_execution_time.astimezone(dt.UTC)
        keys = scheduled_integrations(app_db, tick if honour_frequency else None)
        if not keys:
            return dg.SkipReason("no active integration is due on this tick")
        day = tick.date() - dt.timedelta(days=days_back)
        return [
            dg.RunRequest(
                partition_key=IngestPartition(key, day).key,
                run_key=f"{trigger}:{key}:{day.isoformat()}:{tick.isoformat()}",
                tags={"ingest/trigger": trigger},
            )
            for key in keys
        ]

    return _schedule


def ingest_today_schedule(cron_schedule: str = "*/15 * * * *") -> dg.ScheduleDefinition:
    """Every 15 minutes (by default): today's partition for each due active integration."""
    return _partition_schedule(
        name="ingest_today_schedule",
        cron_schedule=cron_schedule,
        description="Today's partition for every active integration whose frequency is due.",
        trigger="every-15-minutes",
        days_back=0,
        honour_frequency=True,
    )


def ingest_yesterday_schedule(cron_schedule: str = "30 2 * * *") -> dg.ScheduleDefinition:
    """Nightly (by default): yesterday's partition for each active integration."""
    return _partition_schedule(
        name="ingest_yesterday_schedule",
        cron_schedule=cron_schedule,
        description="Yesterday's partition for every active integration, to catch late mail.",
        trigger="nightly",
        days_back=1,
        honour_frequency=False,
    )
