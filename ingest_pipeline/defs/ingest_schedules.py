"""Schedules per stream: every 15 minutes the current partition of each due active
integration, nightly yesterday's for dated streams (to catch late mail), and nightly the
coming days for streams whose items sit ahead (meetings that moved or were cancelled).
Streams run once a day (prompt sets) get the midnight schedule instead."""

import datetime as dt
import json

import dagster as dg

from ingest_pipeline.defs.ingest_assets import StreamDefs
from ingest_pipeline.defs.integration_sensors import PROBE_FEED_TAG, PROBE_TOKEN_TAG
from ingest_pipeline.defs.partitions import IngestPartition, integration_key_of_run
from ingest_pipeline.defs.resources import AppDatabaseResource, CredentialsResource
from ingest_pipeline.steps.change_probes import (
    Decision,
    ProbeSettings,
    ProbeTarget,
    decide,
    probe_all,
)
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.ledger import PartitionKey, status_counts

TICK_MINUTES = 15
# How far back a provider's feed may send a change to its day (an edited past meeting).
FEED_DAYS_BACK = 31


def scheduled_integrations(
    app_db: AppDatabaseResource, stream: str, tick: dt.datetime | None
) -> list[str]:
    """Active integrations of ``stream`` that sync on a schedule (frequency > 0; 0 means
    manual only).

    With a ``tick``, only those whose frequency falls on it: an integration syncing every N
    minutes runs on the ticks whose minute of the day is a multiple of N (to the tick).
    """
    with session_scope(app_db.database_url()) as session:
        rows = integrations.list_integrations(
            session, status="active", stream=stream, tenants=app_db.tenants
        )
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


DEFAULT_PROBES = ProbeSettings()
ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def busy_integrations(instance: dg.DagsterInstance, job_name: str) -> set[str]:
    """Integrations with a run of the job queued or in progress: one at a time each, so
    another request would only wait behind it."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job_name, statuses=ACTIVE_RUN_STATUSES))
    return {key for run in runs if (key := integration_key_of_run(run))}


def changed_integrations(
    app_db: AppDatabaseResource,
    credentials_key: str | None,
    keys: list[str],
    *,
    now: dt.datetime,
    probes: ProbeSettings,
    feed_days: tuple[dt.date, dt.date] | None = None,
) -> tuple[list[Decision], int]:
    """The due integrations that need a run (`change_probes.decide`) and how many were
    probed; each probe's time and error are kept on its integration. ``feed_days`` is the
    span of days a provider's feed may name (None: no feed asked)."""
    with session_scope(app_db.database_url()) as session:
        targets = [
            ProbeTarget(
                key=row.partition_key or "",
                provider=row.provider,
                account=row.account,
                options=dict(row.options or {}),
                credentials=bytes(row.credentials) if row.credentials else None,
                sync_state=dict(row.sync_state or {}),
                last_token=row.probe_token,
                last_status=row.last_sync_status,
                last_success_at=row.last_success_at,
                database_url=app_db.database_url(),
                integration_id=row.id,
                feed_days=feed_days,
            )
            for row in integrations.integrations_by_key(session, keys)
        ]
    outcomes = probe_all(
        targets,
        credentials_key=credentials_key,
        workers=probes.workers,
        timeout_seconds=probes.timeout_seconds,
    )
    with session_scope(app_db.database_url()) as session:
        integrations.record_probes(
            session,
            {key: o.error for key, o in outcomes.items() if o.supported},
            now=now,
        )
    decisions = [
        decision
        for target in targets
        if (
            decision := decide(
                target, outcomes[target.key], now=now, safety_interval=probes.safety_interval
            )
        )
    ]
    return decisions, sum(o.supported for o in outcomes.values())


def _partition_schedule(
    defs: StreamDefs,
    *,
    name: str,
    cron_schedule: str,
    description: str,
    trigger: str,
    days_after: range,
    honour_frequency: bool,
    probes: ProbeSettings | None = None,
) -> dg.ScheduleDefinition:
    """A schedule that runs, for each scheduled integration of the stream, the partitions of
    the days ``days_after`` the tick's (negative: before; or the integration's only
    partition for a snapshot stream); run keys carry the tick time so later ticks are not
    dropped. With ``probes``, only integrations whose provider reports something new (or
    that are due a safety run, `change_probes`) and that have no run queued or running."""

    @dg.schedule(
        name=name,
        cron_schedule=cron_schedule,
        job=defs.job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext,
        app_db: AppDatabaseResource,
        credentials: CredentialsResource,
    ) -> list[dg.RunRequest] | dg.SkipReason:
        tick = context.scheduled_execution_time.astimezone(dt.UTC)
        keys = scheduled_integrations(app_db, defs.stream, tick if honour_frequency else None)
        if not keys:
            return dg.SkipReason(f"no active {defs.stream} integration is due on this tick")
        decisions = [Decision(key, trigger, None) for key in keys]
        if probes is not None:
            busy = busy_integrations(context.instance, defs.job_name)
            free = [key for key in keys if key not in busy]
            decisions, probed = changed_integrations(
                app_db,
                credentials.key,
                free,
                now=tick,
                probes=probes,
                feed_days=_feed_span(defs, tick),
            )
            if not decisions:
                return dg.SkipReason(
                    f"{probed} of {len(keys)} due {defs.stream} integrations probed, none "
                    f"changed; {len(busy & set(keys))} still running"
                )
        days: list[dt.date | None] = (
            [tick.date() + dt.timedelta(days=n) for n in days_after] if defs.dated else [None]
        )
        return [
            dg.RunRequest(
                partition_key=IngestPartition(d.key, day).key,
                run_key=f"{trigger}:{IngestPartition(d.key, day).label}:{tick.isoformat()}",
                tags={
                    "ingest/trigger": trigger,
                    "ingest/reason": (d.reason if day in days else "changed on this day")[:200],
                    **({PROBE_TOKEN_TAG: d.token} if d.token is not None else {}),
                    **({PROBE_FEED_TAG: json.dumps(d.feed, sort_keys=True)} if d.feed else {}),
                },
            )
            for d in decisions
            for day in _with_feed_days(days, d, defs, tick)
        ]

    return _schedule


def _feed_span(defs: StreamDefs, tick: dt.datetime) -> tuple[dt.date, dt.date] | None:
    """The days a provider's feed may send a dated stream's changes to: the partitions
    that exist, at most `FEED_DAYS_BACK` back."""
    if not defs.dated:
        return None
    first = tick.date() - dt.timedelta(days=FEED_DAYS_BACK)
    if defs.history_start is not None:
        first = max(first, defs.history_start)
    return first, tick.date() + dt.timedelta(days=defs.lookahead_days)


def _with_feed_days(
    days: list[dt.date | None], decision: Decision, defs: StreamDefs, tick: dt.datetime
) -> list[dt.date | None]:
    """The schedule's days, then the days the decision's feed names (within the span)."""
    span = _feed_span(defs, tick)
    if span is None:
        return days
    extra: list[dt.date | None] = [
        d for d in sorted(decision.days) if span[0] <= d <= span[1] and d not in days
    ]
    return [*days, *extra]


def ingest_today_schedule(
    defs: StreamDefs,
    cron_schedule: str = "*/15 * * * *",
    probes: ProbeSettings | None = DEFAULT_PROBES,
) -> dg.ScheduleDefinition:
    """Every 15 minutes (by default): today's partition (or the snapshot) for each due
    active integration of the stream whose provider reports a change since its last
    successful run (`change_probes`; ``probes`` None: every due one)."""
    return _partition_schedule(
        defs,
        name=f"{defs.stream}_today_schedule",
        cron_schedule=cron_schedule,
        description=f"The current {defs.stream} partition of every active integration whose "
        "frequency is due and whose provider reports something new (or that is due its "
        "safety run).",
        trigger="every-15-minutes",
        days_after=range(0, 1),
        honour_frequency=True,
        probes=probes,
    )


def ingest_yesterday_schedule(
    defs: StreamDefs, cron_schedule: str = "30 2 * * *"
) -> dg.ScheduleDefinition:
    """Nightly (by default): yesterday's partition for each active integration of a dated
    stream, to catch what arrived late."""
    return _partition_schedule(
        defs,
        name=f"{defs.stream}_nightly_schedule",
        cron_schedule=cron_schedule,
        description=f"Yesterday's {defs.stream} partition for every active integration, to "
        "catch what arrived late.",
        trigger="nightly",
        days_after=range(-1, 0),
        honour_frequency=False,
    )


def ingest_coming_days_schedule(
    defs: StreamDefs, cron_schedule: str = "30 2 * * *"
) -> dg.ScheduleDefinition:
    """Nightly (by default): tomorrow's partition and the following ones up to the
    stream's lookahead for each active integration, so that a meeting moved or cancelled
    ahead of time lands on its right day (today's runs cover today)."""
    return _partition_schedule(
        defs,
        name=f"{defs.stream}_coming_days_schedule",
        cron_schedule=cron_schedule,
        description=f"The next {defs.lookahead_days} days of {defs.stream} for every active "
        "integration, so moved and cancelled meetings land on their day.",
        trigger="coming-days",
        days_after=range(1, defs.lookahead_days + 1),
        honour_frequency=False,
    )


def integrations_waiting(
    app_db: AppDatabaseResource, stream: str, keys: list[str], day: dt.date
) -> list[str]:
    """Those of ``keys`` whose ``day`` partition still has items pending (answers to ask
    again after a failure, items a cap or the LLM budget held back)."""
    waiting = []
    with session_scope(app_db.database_url()) as session:
        for key in keys:
            row = integrations.find_integration(session, key)
            part = PartitionKey(integration_id=row.id, day=day, stream=stream)
            if status_counts(session, part).get("pending", 0):
                waiting.append(key)
    return waiting


def ingest_midnight_schedule(
    defs: StreamDefs, cron_schedule: str = "0 0 * * *"
) -> dg.ScheduleDefinition:
    """At 00:00 UTC (by default): the new day's partition of every active integration of
    the stream, and yesterday's of those whose batch still has items waiting, so failed
    answers are asked again (up to the stream's limit) before the day is closed."""

    @dg.schedule(
        name=f"{defs.stream}_midnight_schedule",
        cron_schedule=cron_schedule,
        job=defs.job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"The new day's {defs.stream} batch of every active integration at 00:00 "
        "UTC, and yesterday's where items still wait.",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, app_db: AppDatabaseResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        tick = context.scheduled_execution_time.astimezone(dt.UTC)
        keys = scheduled_integrations(app_db, defs.stream, None)
        if not keys:
            return dg.SkipReason(f"no active {defs.stream} integration")
        today, yesterday = tick.date(), tick.date() - dt.timedelta(days=1)
        runs = [(key, today, "midnight") for key in keys]
        runs += [
            (key, yesterday, "midnight-retry")
            for key in integrations_waiting(app_db, defs.stream, keys, yesterday)
        ]
        return [
            dg.RunRequest(
                partition_key=IngestPartition(key, day).key,
                run_key=f"{trigger}:{IngestPartition(key, day).label}:{tick.isoformat()}",
                tags={"ingest/trigger": trigger},
            )
            for key, day, trigger in runs
        ]

    return _schedule
