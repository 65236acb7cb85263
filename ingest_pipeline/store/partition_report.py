"""What the ledger and the domain tables say about partitions: the numbers people read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.models import SNAPSHOT_DAY, IngestItem, Integration

STEP_ORDER = ("none", "fetched", "parsed", "extracted", "persisted")


@dataclass(frozen=True)
class DayReport:
    """One partition of one integration (a day, or the snapshot of a snapshot stream): how
    far its items got, and what the import produced (records per kind, e.g. job_postings)."""

    day: dt.date | None
    enumerated: int
    fetched: int
    parsed: int
    extracted: int
    persisted: int
    done: int
    skipped: int
    failed: int
    unfinished: int
    produced: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.day.isoformat() if self.day is not None else "snapshot"


def day_reports(
    session: Session,
    integration_id: int,
    days: list[dt.date] | None,
    *,
    produced: dict[str, dict[dt.date, int]] | None = None,
) -> list[DayReport]:
    """A report for each of ``days`` (None: the snapshot partition; days with no items
    report zeros); ``produced`` gives the stream's records per day by label."""
    stored_days = days if days is not None else [SNAPSHOT_DAY]
    reached: dict[dt.date, dict[str, int]] = {day: {} for day in stored_days}
    statuses: dict[dt.date, dict[str, int]] = {day: {} for day in stored_days}
    for day, step, status, count in session.execute(
        sa.select(IngestItem.partition_day, IngestItem.step, IngestItem.status, sa.func.count())
        .where(
            IngestItem.integration_id == integration_id,
            IngestItem.partition_day.in_(stored_days),
        )
        .group_by(IngestItem.partition_day, IngestItem.step, IngestItem.status)
    ):
        for done_step in STEP_ORDER[: STEP_ORDER.index(step) + 1]:
            reached[day][done_step] = reached[day].get(done_step, 0) + count
        statuses[day][status] = statuses[day].get(status, 0) + count
    reports = []
    for day in stored_days:
        s = statuses[day]
        r = reached[day]
        reports.append(
            DayReport(
                day=day if days is not None else None,
                enumerated=r.get("none", 0),
                fetched=r.get("fetched", 0),
                parsed=r.get("parsed", 0),
                extracted=r.get("extracted", 0),
                persisted=r.get("persisted", 0),
                done=s.get("done", 0),
                skipped=s.get("skipped", 0),
                failed=s.get("failed", 0),
                unfinished=s.get("pending", 0) + s.get("processing", 0),
                produced={
                    label: per_day.get(day, 0) for label, per_day in (produced or {}).items()
                },
            )
        )
    return reports


@dataclass(frozen=True)
class IntegrationStatus:
    """What ``ingest-pipeline status`` shows for one integration."""

    key: str
    status: str
    last_activity: dt.datetime | None
    last_run_status: str | None
    done: int
    skipped: int
    failed: int
    unfinished: int
    latest_error: str | None


def integration_statuses(session: Session) -> list[IntegrationStatus]:
    """Per integration: item counts by status, latest activity, and the latest error."""
    counts: dict[int, dict[str, int]] = {}
    for integration_id, status, count in session.execute(
        sa.select(IngestItem.integration_id, IngestItem.status, sa.func.count()).group_by(
            IngestItem.integration_id, IngestItem.status
        )
    ):
        counts.setdefault(integration_id, {})[status] = count
    last_activity = {
        integration_id: moment
        for integration_id, moment in session.execute(
            sa.select(IngestItem.integration_id, sa.func.max(IngestItem.updated_at)).group_by(
                IngestItem.integration_id
            )
        )
    }
    result = []
    for row in session.scalars(sa.select(Integration).order_by(Integration.id)):
        c = counts.get(row.id, {})
        latest_error = row.last_sync_error or session.scalar(
            sa.select(IngestItem.last_error)
            .where(IngestItem.integration_id == row.id, IngestItem.status == "failed")
            .order_by(IngestItem.updated_at.desc(), IngestItem.id.desc())
            .limit(1)
        )
        result.append(
            IntegrationStatus(
                key=row.partition_key or "",
                status=row.status,
                last_activity=row.last_sync_at or last_activity.get(row.id),
                last_run_status=row.last_sync_status,
                done=c.get("done", 0),
                skipped=c.get("skipped", 0),
                failed=c.get("failed", 0),
                unfinished=c.get("pending", 0) + c.get("processing", 0),
                latest_error=latest_error,
            )
        )
    return result
