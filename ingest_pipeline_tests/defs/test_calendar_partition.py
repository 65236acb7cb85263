"""The calendar-events stream through Dagster: occurrences land on the UTC day they start,
moved ones move, cancelled ones stay marked, and a re-run writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    count_rows,
    register_source,
    run_days,
    snapshot,
)
from ingest_pipeline_tests.stream_samples import SAMPLE_ICS, SAMPLE_WEEK

CHECKS = {
    "calendar_events_counts_reconcile": True,
    "calendar_events_no_hidden_duplicates": True,
    "calendar_events_items_accounted": True,
    "calendar_events_failed_share_within_bounds": True,
}


def _events(db_url: str) -> list[tuple[str, str, str]]:
    """(summary, start day, status) of every stored occurrence, by start."""
    with get_engine(db_url).connect() as c:
        rows = c.execute(
            sa.text("select summary, start_at, status from calendar_events order by start_at")
        ).all()
    return [(summary, str(start)[:10], status) for summary, start, status in rows]


def test_sample_calendar_week_lands_each_occurrence_on_its_start_day(
    db_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key = register_source(db_url, SAMPLE_ICS, provider="ics", stream="calendar_events")

    outcomes = run_days(db_url, dagster_instance, key, SAMPLE_WEEK, stream="calendar_events")

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    for outcome in outcomes:
        assert check_results(dagster_instance, outcome.run_id) == CHECKS
    per_day = {o.partition.day: o.metrics["enumerated"] for o in outcomes}
    assert per_day[dt.date(2026, 11, 4)] == 0  # the stand-up's EXDATE, the 20:30 LA call is 11-05
    events = _events(db_url)
    assert len(events) == sum(per_day.values()) == 10
    assert (
        "Recruiting stand-up (moved to Thursday: hiring fair on Friday)",
        "2026-11-05",
        "confirmed",
    ) in events
    assert [e for e in events if e[2] == "cancelled"] == [
        ("Screening call: Sofía Martínez (Business Analyst)", "2026-11-03", "cancelled")
    ]
    late_call = [e for e in events if e[0].startswith("Seattle SRE role")]
    assert late_call == [(late_call[0][0], "2026-11-05", "confirmed")]


def test_rerun_of_an_unchanged_calendar_writes_nothing(
    sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key = register_source(sqlite_url, SAMPLE_ICS, provider="ics", stream="calendar_events")
    run_days(sqlite_url, dagster_instance, key, SAMPLE_WEEK, stream="calendar_events")
    before = snapshot(sqlite_url)

    again = run_days(sqlite_url, dagster_instance, key, SAMPLE_WEEK, stream="calendar_events")

    assert all(o.success for o in again)
    assert sum(o.metrics["inserted"] + o.metrics["updated"] for o in again) == 0
    assert snapshot(sqlite_url) == before


def test_a_meeting_moved_to_another_day_ends_in_exactly_one_day(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    calendar = tmp_path / "calendar.ics"
    calendar.write_bytes(SAMPLE_ICS.read_bytes())
    key = register_source(sqlite_url, calendar, provider="ics", stream="calendar_events")
    weekend = SAMPLE_WEEK[-2:]
    run_days(sqlite_url, dagster_instance, key, weekend, stream="calendar_events")
    hike = [e for e in _events(sqlite_url) if e[0].startswith("Saturday hike")]
    assert [day for _, day, _ in hike] == ["2026-11-07"]

    calendar.write_bytes(calendar.read_bytes().replace(b"20261107T", b"20261108T"))
    moved = run_days(sqlite_url, dagster_instance, key, weekend, stream="calendar_events")

    assert all(o.success for o in moved)
    for outcome in moved:
        assert check_results(dagster_instance, outcome.run_id) == CHECKS
    hike = [e for e in _events(sqlite_url) if e[0].startswith("Saturday hike")]
    assert [day for _, day, _ in hike] == ["2026-11-08"]
    items = count_rows(
        sqlite_url, "select count(*) from ingest_items where external_id like 'hike-%'"
    )
    assert items == 1
    day_of_item = count_rows(
        sqlite_url,
        "select count(*) from ingest_items where external_id like 'hike-%' "
        "and partition_day = '2026-11-08'",
    )
    assert day_of_item == 1
