"""The calendar-events stream kind: event occurrences on the UTC day they start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.store import interactions, ledger
from ingest_pipeline.store.models import CalendarEvent, IngestItem
from ingest_pipeline.store.upsert import table_of, upsert
from ingest_pipeline.streams.calendar_events.event_record import ParsedEvent, UnparseableEvent
from ingest_pipeline.streams.stream_kind import (
    ParseOptions,
    PersistBatch,
    PersistOutcome,
    UnparseableItem,
    records_per_day,
)

EXAMPLES = 5


class CalendarEventsKind:
    """Occurrences of an account's events; moved ones move, cancelled ones stay marked."""

    name = "calendar_events"
    dated = True
    looks_ahead = True
    # Follows ics_parser.PARSER_VERSION (test_stream_kinds checks); kept here so loading
    # the code location does not import icalendar.
    parser_version = "calendar-1"
    default_task: str | None = None
    llm_attempts = 1
    per_item_model = False
    schedule = "frequent"
    description = (
        "Calendar event occurrences starting on one UTC day in one integration's calendars "
        "(recurrences expanded, moved occurrences on their new day, cancelled ones marked), "
        "with organizer and attendees, each an interaction linked to the tenant's contact "
        "with that address. Its metadata are the run's metrics."
    )

    def parse(self, data: bytes, options: ParseOptions) -> dict[str, Any]:
        # Imported here: icalendar is needed by calendar runs only, not by the code location.
        from ingest_pipeline.streams.calendar_events import ics_parser, json_events

        try:
            if json_events.is_json_event(data):
                return json_events.parse_json_event(data).to_json()
            return ics_parser.parse_occurrence(data).to_json()
        except UnparseableEvent as exc:
            raise UnparseableItem(str(exc)) from exc

    def task_input(self, parsed: dict[str, Any], task: TaskSpec) -> ExtractionInput:
        raise UnparseableItem(f"the calendar-events stream has no LLM task; {task.name} cannot run")

    def persist(self, session: Session, batch: PersistBatch) -> PersistOutcome:
        out = PersistOutcome()
        rows = []
        for item in batch.items:
            data = batch.parsed.get(item.content_hash or "")
            if data is None:
                out.updates.append(
                    ledger.finish(
                        item.id, "failed", step="persisted", reason="persist: parse missing"
                    )
                )
                out.counts["items_failed"] += 1
                continue
            rows.append(_event_row(batch.integration_id, item, data))
            out.updates.append(ledger.finish(item.id, "done", step="persisted"))
            out.counts["items_done"] += 1
            out.counts["events_cancelled"] += data.get("status") == "cancelled"
        stored = upsert(
            session,
            table_of(CalendarEvent),
            rows,
            keys=("integration_id", "external_id"),
            id_column=None,
        )
        out.counts["calendar_events_inserted"] += stored.inserted
        out.counts["calendar_events_updated"] += stored.updated
        people = interactions.replace_for_items(
            session,
            tenant_id=batch.tenant_id,
            integration_id=batch.integration_id,
            stream=self.name,
            kind="meeting",
            external_ids=[row["external_id"] for row in rows],
            participants=[p for row in rows for p in _participants(row)],
        )
        out.counts["interactions_inserted"] += people["inserted"]
        out.counts["interactions_updated"] += people["updated"] + people["deleted"]
        return out

    def stored_item_ids(self) -> sa.Select[tuple[int]]:
        return sa.select(CalendarEvent.source_item_id)

    def hidden_duplicates(self, session: Session, integration_id: int) -> dict[str, list[str]]:
        """One occurrence (same UID and start) stored under two ids."""
        rows = session.execute(
            sa.select(CalendarEvent.uid, CalendarEvent.start_at, sa.func.count())
            .where(CalendarEvent.integration_id == integration_id)
            .group_by(CalendarEvent.uid, CalendarEvent.start_at)
            .having(sa.func.count() > 1)
            .limit(EXAMPLES)
        ).all()
        if not rows:
            return {}
        return {
            "calendar_events": [
                f"{uid} at {start:%Y-%m-%d %H:%M} stored {n} times" for uid, start, n in rows
            ]
        }

    def produced_per_day(
        self, session: Session, integration_id: int, days: Sequence[dt.date]
    ) -> dict[str, dict[dt.date, int]]:
        return {
            "calendar_events": records_per_day(
                session, CalendarEvent.id, CalendarEvent.source_item_id, integration_id, days
            )
        }


def _participants(row: dict[str, Any]) -> list[interactions.Participant]:
    """The meeting's organizer and attendees, once each (the organizer's role wins)."""
    roles: dict[str, str] = {}
    if row["organizer_email"]:
        roles[row["organizer_email"]] = "organizer"
    for attendee in row["attendees"]:
        if attendee["email"]:
            roles.setdefault(attendee["email"], "attendee")
    return [
        interactions.Participant(
            external_id=row["external_id"],
            email=email[:320],
            role=role,
            occurred_at=row["start_at"],
            title=row["summary"],
            cancelled=row["status"] == "cancelled",
        )
        for email, role in roles.items()
    ]


def _event_row(integration_id: int, item: IngestItem, data: dict[str, Any]) -> dict[str, Any]:
    event = ParsedEvent.from_json(data)
    return {
        "integration_id": integration_id,
        "external_id": item.external_id,
        "source_item_id": item.id,
        "uid": event.uid[:512],
        "recurrence_id": event.recurrence_id,
        "summary": event.summary,
        "description": event.description,
        "location": event.location,
        "start_at": event.start,
        "end_at": event.end,
        "all_day": event.all_day,
        "timezone": event.timezone[:128],
        "status": event.status,
        "organizer_email": event.organizer.email if event.organizer else None,
        "attendees": [
            {"email": a.email, "name": a.name, "status": a.status, "role": a.role}
            for a in event.attendees
        ],
        "sequence": event.sequence,
        "content_hash": item.content_hash or "",
    }
