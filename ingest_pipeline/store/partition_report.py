"""What the ledger and the domain tables say about partitions: the numbers people read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.models import (
    IngestItem,
    Integration,
    JobApplicationRow,
    JobPostingRow,
    Message,
)

STEP_ORDER = ("none", "fetched", "parsed", "extracted", "persisted")


@dataclass(frozen=True)
class DayReport:
    """One integration-day: how far its items got and what the import produced."""

    day: dt.date
    enumerated: int
    fetched: int
    parsed: int
    extracted: int
    persisted: int
    done: int
    skipped: int
    failed: int
    unfinished: int
    job_postings: int
    job_applications: int


def day_reports(session: Session, integration_id: int, days: list[dt.date]) -> list[DayReport]:
    """A report for each of ``days`` (days with no items report zeros)."""
    reached: dict[dt.date, dict[str, int]] = {day: {} for day in days}
    statuses: dict[dt.date, dict[str, int]] = {day: {} for day in days}
    for day, step, status, count in session.execute(
        sa.select(IngestItem.partition_day, IngestItem.step, IngestItem.status, sa.func.count())
        .where(IngestItem.integration_id == integration_id, IngestItem.partition_day.in_(days))
        .group_by(IngestItem.partition_day, IngestItem.step, IngestItem.status)
    ):
        for done_step in STEP_ORDER[: STEP_ORDER.index(step) + 1]:
            reached[day][done_step] = reached[day].get(done_step, 0) + count
        statuses[day][status] = statuses[day].get(status, 0) + count
    postings = _per_day(session, JobPostingRow, integration_id, days)
    applications = _per_day(session, JobApplicationRow, integration_id, days)
    reports = []
    for day in days:
        s = statuses[day]
        r = reached[day]
        reports.append(
            DayReport(
                day=day,
                enumerated=r.get("none", 0),
                fetched=r.get("fetched", 0),
                parsed=r.get("parsed", 0),
                extracted=r.get("extracted", 0),
                persisted=r.get("persisted", 0),
                done=s.get("done", 0),
                skipped=s.get("skipped", 0),
                failed=s.get("failed", 0),
                unfinished=s.get("pending", 0) + s.get("processing", 0),
                job_postings=postings.get(day, 0),
                job_applications=applications.get(day, 0),
            )
        )
    return reports


def _per_day(
    session: Session,
    model: type[JobPostingRow] | type[JobApplicationRow],
    integration_id: int,
    days: list[dt.date],
) -> dict[dt.date, int]:
    rows = session.execute(
        sa.select(IngestItem.partition_day, sa.func.count(model.id))
        .join(Message, Message.id == model.message_id)
        .join(IngestItem, IngestItem.id == Message.source_item_id)
        .where(model.integration_id == integration_id, IngestItem.partition_day.in_(days))
        .group_by(IngestItem.partition_day)
    )
    return {key: value for key, value in rows}


def duplicate_keys(session: Session, integration_id: int) -> dict[str, int]:
    """Unique keys that appear more than once (the schema forbids it; the check proves it)."""
    found: dict[str, int] = {}
    for label, model, cols in (
        ("ingest_items", IngestItem, (IngestItem.stream, IngestItem.external_id)),
        ("messages", Message, (Message.message_key,)),
        ("job_postings", JobPostingRow, (JobPostingRow.message_id,)),
        (
            "job_applications",
            JobApplicationRow,
            (JobApplicationRow.job_id, JobApplicationRow.candidate_id),
        ),
    ):
        count = session.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(*cols)
                .where(model.integration_id == integration_id)
                .group_by(*cols)
                .having(sa.func.count() > 1)
                .subquery()
            )
        )
        if count:
            found[label] = int(count)
    return found


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
