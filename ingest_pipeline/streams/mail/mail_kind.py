"""The mail stream kind: MIME parsing, the job tasks' input, messages and job records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import ExtractionInput, ParsedMessage
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.store.models import IngestItem, JobApplicationRow, JobPostingRow, Message
from ingest_pipeline.streams.stream_kind import (
    ParseOptions,
    PersistBatch,
    PersistOutcome,
    UnparseableItem,
    records_per_day,
)

# Mail's parse results were stored under "1" before streams (the other kinds prefix theirs);
# "2" adds References and the automation markers.
PARSER_VERSION = "2"
EXAMPLES = 5


class MailKind:
    """Messages received on a UTC day, with attachments and the integration's job task."""

    name = "mail"
    dated = True
    looks_ahead = False
    parser_version = PARSER_VERSION
    default_task: str | None = "job_posting"
    llm_attempts = 1
    per_item_model = False
    schedule = "frequent"
    description = (
        "Mail received on one UTC day by one integration, imported into the app database: "
        "messages, attachments, and the integration's extraction results (job postings or "
        "job applications). Its metadata are the run's metrics."
    )

    def parse(self, data: bytes, options: ParseOptions) -> dict[str, Any]:
        # Imported here: the MIME, PDF and DOCX readers are needed by mail runs only.
        from ingest_pipeline.parsing.mime_message import UnparseableMessage, parse_message

        try:
            return parse_message(data, attachment_max_bytes=options.attachment_max_bytes).to_json()
        except UnparseableMessage as exc:
            raise UnparseableItem(str(exc)) from exc

    def task_input(self, parsed: dict[str, Any], task: TaskSpec) -> ExtractionInput:
        return task.build_input(ParsedMessage.from_json(parsed))

    def persist(self, session: Session, batch: PersistBatch) -> PersistOutcome:
        from ingest_pipeline.streams.mail.mail_persist import persist_mail

        return persist_mail(session, batch)

    def stored_item_ids(self) -> sa.Select[tuple[int]]:
        return sa.select(Message.source_item_id)

    def hidden_duplicates(self, session: Session, integration_id: int) -> dict[str, list[str]]:
        """The same message stored under two keys (no or different Message-IDs, same
        sender, date, subject and body), and the same job posting found in two messages."""
        found: dict[str, list[str]] = {}
        same_message = session.execute(
            sa.select(Message.subject, sa.func.count())
            .where(Message.integration_id == integration_id)
            .group_by(Message.sender_email, Message.subject, Message.sent_at, Message.body_text)
            .having(sa.func.count(sa.distinct(Message.message_key)) > 1)
            .limit(EXAMPLES)
        ).all()
        if same_message:
            found["messages"] = [f"{subject!r} stored {n} times" for subject, n in same_message]
        same_posting = session.execute(
            sa.select(JobPostingRow.title, JobPostingRow.company, sa.func.count())
            .where(JobPostingRow.integration_id == integration_id, JobPostingRow.title.isnot(None))
            .group_by(
                sa.func.lower(JobPostingRow.title),
                sa.func.lower(sa.func.coalesce(JobPostingRow.company, "")),
                sa.func.lower(sa.func.coalesce(JobPostingRow.location, "")),
                JobPostingRow.title,
                JobPostingRow.company,
            )
            .having(sa.func.count(sa.distinct(JobPostingRow.message_id)) > 1)
            .limit(EXAMPLES)
        ).all()
        if same_posting:
            found["job_postings"] = [
                f"{title!r} at {company or 'unknown company'} from {n} messages"
                for title, company, n in same_posting
            ]
        return found

    def produced_per_day(
        self, session: Session, integration_id: int, days: Sequence[dt.date]
    ) -> dict[str, dict[dt.date, int]]:
        produced = {
            "messages": records_per_day(
                session, Message.id, Message.source_item_id, integration_id, days
            )
        }
        for label, model in (
            ("job_postings", JobPostingRow),
            ("job_applications", JobApplicationRow),
        ):
            rows = session.execute(
                sa.select(IngestItem.partition_day, sa.func.count(model.id))
                .join(Message, Message.id == model.message_id)
                .join(IngestItem, IngestItem.id == Message.source_item_id)
                .where(model.integration_id == integration_id, IngestItem.partition_day.in_(days))
                .group_by(IngestItem.partition_day)
            )
            produced[label] = {day: count for day, count in rows}
        return produced
