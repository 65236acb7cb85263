"""The sensor and schedules decide which partitions run, from the integrations in the app db."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from ingest_pipeline.defs.ingest_assets import stream_defs
from ingest_pipeline.defs.ingest_schedules import ingest_coming_days_schedule
from ingest_pipeline.defs.ingest_schedules import (
    ingest_today_schedule as today_schedule,
)
from ingest_pipeline.defs.ingest_schedules import (
    ingest_yesterday_schedule as yesterday_schedule,
)
from ingest_pipeline.defs.integration_sensors import (
    PROBE_FEED_TAG,
    PROBE_TOKEN_TAG,
    run_outcome_sensors,
)
from ingest_pipeline.defs.integration_sensors import (
    integrations_sensor as make_integrations_sensor,
)
from ingest_pipeline.defs.pools import POOL_LIMITS
from ingest_pipeline.defs.resources import AppDatabaseResource, CredentialsResource
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import session_scope
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.pipeline_runner import register_mailbox, run_days
from ingest_pipeline_tests.schedule_ticks import tick

STREAMS = [
    stream_defs(name, history_start=dt.date(2020, 1, 1))
    for name in ("mail", "contacts", "calendar_events")
]
MAIL = STREAMS[0]
ingest_today_schedule = today_schedule(MAIL)
ingest_yesterday_schedule = yesterday_schedule(MAIL)
integrations_sensor = make_integrations_sensor(STREAMS)
ingest_success_sensor, ingest_failure_sensor, _ = run_outcome_sensors([d.job for d in STREAMS])


def _add(db_url: str, *, status: str = "active", frequency: int = 15) -> str:
    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session, provider="mailbox", account=str(SAMPLE_MBOX), task="job_posting"
        )
        row.status = status
        row.sync_frequency_minutes = frequency
        return row.partition_key or ""


def _tick(db_url: str, schedule: dg.ScheduleDefinition, when: dt.datetime) -> list[dg.RunRequest]:
    resources = {"app_db": AppDatabaseResource(url=db_url), "credentials": CredentialsResource()}
    with dg.instance_for_test() as instance:
        result = tick(schedule, when, resources, instance)
    return [] if isinstance(result, dg.SkipReason) else result


def test_sensor_adds_new_active_integrations_and_requests_a_first_run(
    sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    first, second = _add(sqlite_url), _add(sqlite_url)
    _add(sqlite_url, status="disabled")
    context = dg.build_sensor_context(
        instance=dagster_instance, resources={"app_db": AppDatabaseResource(url=sqlite_url)}
    )

    result = integrations_sensor(context)

    [request] = result.dynamic_partitions_requests
    assert list(request.partition_keys) == [first, second]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [
        (f"{today}|{first}", f"first-run:{first}"),
        (f"{today}|{second}", f"first-run:{second}"),
    ]
    limits = {p.name: p.limit for p in dagster_instance.event_log_storage.get_pool_limits()}
    assert {k: limits[k] for k in POOL_LIMITS} == POOL_LIMITS

    dagster_instance.add_dynamic_partitions("mail_integrations", [first, second])
    again = integrations_sensor(context)
    assert again.dynamic_partitions_requests == [] and again.run_requests == []


def test_fifteen_minute_schedule_runs_today_for_due_active_integrations(sqlite_url: str) -> None:
    every_15 = _add(sqlite_url)
    hourly = _add(sqlite_url, frequency=60)
    _add(sqlite_url, status="disabled")
    _add(sqlite_url, frequency=0)

    at_10_15 = _tick(
        sqlite_url, ingest_today_schedule, dt.datetime(2026, 11, 5, 10, 15, tzinfo=dt.UTC)
    )
    at_11_00 = _tick(
        sqlite_url, ingest_today_schedule, dt.datetime(2026, 11, 5, 11, 0, tzinfo=dt.UTC)
    )

    assert [r.partition_key for r in at_10_15] == [f"2026-11-05|{every_15}"]
    assert sorted(r.partition_key for r in at_11_00) == sorted(
        [f"2026-11-05|{every_15}", f"2026-11-05|{hourly}"]
    )
    keys = [r.run_key for r in at_10_15 + at_11_00]
    assert len(set(keys)) == len(keys), "later ticks of the same day must not be deduplicated"


def test_nightly_schedule_runs_yesterday_for_every_active_integration(sqlite_url: str) -> None:
    a, b = _add(sqlite_url), _add(sqlite_url, frequency=1440)
    _add(sqlite_url, status="disabled")
    requests = _tick(
        sqlite_url, ingest_yesterday_schedule, dt.datetime(2026, 11, 6, 2, 30, tzinfo=dt.UTC)
    )
    assert sorted(r.partition_key for r in requests) == sorted(
        [f"2026-11-05|{a}", f"2026-11-05|{b}"]
    )


def test_calendars_look_ahead_and_the_nightly_run_relists_the_coming_days(
    sqlite_url: str,
) -> None:
    calendar = stream_defs("calendar_events", history_start=dt.date(2020, 1, 1), lookahead_days=3)
    mail = stream_defs("mail", history_start=dt.date(2020, 1, 1), lookahead_days=3)
    with session_scope(sqlite_url) as session:
        key = integrations.add_integration(
            session, provider="ics", stream="calendar_events", account="/cal.ics", task=None
        ).partition_key
    today = dt.datetime.now(dt.UTC).date()

    days = calendar.partitions.get_partitions_def_for_dimension("date")  # type: ignore[attr-defined]
    mail_days = mail.partitions.get_partitions_def_for_dimension("date")  # type: ignore[attr-defined]
    assert days.get_last_partition_key() == (today + dt.timedelta(days=3)).isoformat()
    assert mail_days.get_last_partition_key() == today.isoformat()  # mail has no future
    requests = _tick(
        sqlite_url,
        ingest_coming_days_schedule(calendar),
        dt.datetime(2026, 11, 6, 2, 30, tzinfo=dt.UTC),
    )
    assert [r.partition_key for r in requests] == [f"2026-11-0{d}|{key}" for d in (7, 8, 9)]
    assert len({r.run_key for r in requests}) == 3


def test_no_active_integration_skips_with_a_reason(
    sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    result = tick(
        ingest_today_schedule,
        dt.datetime(2026, 11, 5, 10, 15, tzinfo=dt.UTC),
        {"app_db": AppDatabaseResource(url=sqlite_url), "credentials": CredentialsResource()},
        dagster_instance,
    )
    assert isinstance(result, dg.SkipReason)


@pytest.mark.parametrize("outcome", ["failed", "success"])
def test_run_status_sensors_record_the_outcome_on_the_integration(
    outcome: str, sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key = register_mailbox(sqlite_url, SAMPLE_MBOX)
    if outcome == "failed":
        with session_scope(sqlite_url) as session:
            integrations.find_integration(session, key).account = "/no/such/mailbox"
    [result] = run_days(sqlite_url, dagster_instance, key, [dt.date(2026, 11, 2)])
    assert result.success is (outcome == "success")
    run = dagster_instance.get_run_by_id(result.run_id)
    assert run is not None
    # As the 15-minute trigger tags its runs: the change token and the provider feed's state.
    feed = {"/ann/work/": "http://radicale.org/ns/sync/1"}
    run = run._replace(
        tags={**run.tags, PROBE_TOKEN_TAG: "token-1", PROBE_FEED_TAG: json.dumps(feed)}
    )
    event_type = (
        dg.DagsterEventType.RUN_FAILURE if outcome == "failed" else dg.DagsterEventType.RUN_SUCCESS
    )
    [record] = dagster_instance.get_records_for_run(result.run_id, of_type=event_type).records
    context = dg.build_run_status_sensor_context(
        sensor_name="s",
        dagster_event=record.event_log_entry.dagster_event,
        dagster_instance=dagster_instance,
        dagster_run=run,
        resources={"app_db": AppDatabaseResource(url=sqlite_url)},
    )
    if outcome == "failed":
        ingest_failure_sensor(context.for_run_failure())
    else:
        ingest_success_sensor(context)

    with session_scope(sqlite_url) as session:
        row = integrations.find_integration(session, key)
        assert row.last_sync_status == outcome
        assert row.last_sync_at is not None
        if outcome == "failed":
            assert "does not exist" in (row.last_sync_error or "")
            assert row.probe_token is None and "probe_feed" not in (row.sync_state or {})
        else:
            assert row.last_sync_error is None
            assert row.probe_token == "token-1" and row.sync_state["probe_feed"] == feed
