"""Everything the code location defines, with the resources it runs against."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg

from ingest_pipeline.defs.derived_assets import automation_sensor, derived_defs
from ingest_pipeline.defs.executors import run_executor
from ingest_pipeline.defs.ingest_assets import StreamDefs, stream_defs
from ingest_pipeline.defs.ingest_schedules import (
    ingest_coming_days_schedule,
    ingest_midnight_schedule,
    ingest_today_schedule,
    ingest_yesterday_schedule,
)
from ingest_pipeline.defs.integration_sensors import integrations_sensor, run_outcome_sensors
from ingest_pipeline.defs.llm_batch_sensor import llm_batches_sensor
from ingest_pipeline.defs.resources import resources_from
from ingest_pipeline.settings import get_settings
from ingest_pipeline.streams.registry import STREAM_NAMES, get_stream


def build_definitions(
    resources: Mapping[str, Any] | None = None, *, history_start: dt.date | None = None
) -> dg.Definitions:
    """Per stream an asset, its checks, job and schedules; the derived assets downstream
    with their checks and jobs; the sensors. ``resources``
    replace the defaults built from the settings; ``history_start`` the first day of the
    date dimension (``INGEST_HISTORY_START``)."""
    settings = get_settings()
    history_start = history_start or settings.history_start_day()
    executor = run_executor(settings)
    streams: list[StreamDefs] = [
        stream_defs(
            s,
            history_start=history_start,
            lookahead_days=settings.calendar_lookahead_days,
            executor=executor,
        )
        for s in STREAM_NAMES
    ]
    by_name = {defs.stream: defs for defs in streams}
    derived = derived_defs(streams, executor)
    frequent = [defs for defs in streams if get_stream(defs.stream).schedule == "frequent"]
    probes = settings.probe_settings()
    schedules = [ingest_today_schedule(defs, settings.today_cron, probes) for defs in frequent]
    schedules += [
        ingest_yesterday_schedule(defs, settings.nightly_cron) for defs in frequent if defs.dated
    ]
    schedules += [
        ingest_midnight_schedule(defs)
        for defs in streams
        if get_stream(defs.stream).schedule == "midnight"
    ]
    schedules += [
        ingest_coming_days_schedule(defs, settings.nightly_cron)
        for defs in streams
        if defs.lookahead_days
    ]
    return dg.Definitions(
        assets=[defs.asset for defs in streams] + [a for d in derived for a in d.assets],
        asset_checks=[check for defs in streams for check in defs.checks]
        + [check for d in derived for check in d.checks],
        jobs=[defs.job for defs in streams] + [d.job for d in derived],
        schedules=schedules,
        sensors=[
            integrations_sensor(streams, settings.sensor_interval_seconds),
            llm_batches_sensor(by_name["mail"].job, settings.llm_batch_sensor_interval_seconds),
            *run_outcome_sensors([defs.job for defs in streams]),
            automation_sensor(settings.sensor_interval_seconds),
        ],
        resources={**resources_from(settings), **(resources or {})},
    )
