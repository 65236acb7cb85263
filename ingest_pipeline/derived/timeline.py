"""Per person, the dated things the account shares with them: emails in and out, meetings,
applications and job postings, each with a short label.

Events are keyed by the person's address, so a contact imported after the mail sees its
past; `timeline_for` gathers a contact's events across all its addresses. Each partition's
events are rewritten to match what it stored, like every derived dataset.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.store import interactions
from ingest_pipeline.store.ledger import PartitionKey, in_partition
from ingest_pipeline.store.models import (
    Candidate,
    Contact,
    ContactIdentity,
    IngestItem,
    Interaction,
    JobApplicationRow,
    JobPostingRow,
    Message,
    TimelineEvent,
)
from ingest_pipeline.store.upsert import table_of, upsert
from ingest_pipeline.streams.contacts.email_address import normalize_email

LABEL_CHARS = 120
EMAIL_IN, EMAIL_OUT, MEETING, APPLICATION, POSTING = (
    "email_in",
    "email_out",
    "meeting",
    "application",
    "posting",
)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _interaction_events(session: Session, part: PartitionKey) -> list[dict[str, object]]:
    """An event per relationship interaction of the partition (automated mail has none)."""
    rows = session.execute(
        sa.select(Interaction).where(
            interactions.of_partition(part), Interaction.automated.is_(None)
        )
    ).scalars()
    events = []
    for row in rows:
        if row.kind == "meeting":
            kind = MEETING
            label = f"{'cancelled: ' if row.cancelled else ''}{row.title or '(no title)'}"
        else:
            kind = EMAIL_OUT if row.direction == "outbound" else EMAIL_IN
            label = f"{'→' if kind == EMAIL_OUT else '←'} {row.title or '(no subject)'}"
        events.append(
            {
                "email": row.email,
                "occurred_at": row.occurred_at,
                "kind": kind,
                "label": _short(label),
                "external_id": row.external_id,
            }
        )
    return events


def _job_events(session: Session, part: PartitionKey) -> list[dict[str, object]]:
    """Applications (on the candidate's timeline) and postings (on the address the posting
    gives as its contact, else its sender's) found in the partition's messages."""
    stored = (
        sa.select(
            Message.id,
            Message.sender_email,
            Message.sent_at,
            Message.received_at,
            IngestItem.external_id,
        )
        .join(IngestItem, IngestItem.id == Message.source_item_id)
        .where(in_partition(part))
        .subquery()
    )
    events: list[dict[str, object]] = []
    for posting, sender, sent_at, received_at, external_id in session.execute(
        sa.select(
            JobPostingRow,
            stored.c.sender_email,
            stored.c.sent_at,
            stored.c.received_at,
            stored.c.external_id,
        ).join(stored, stored.c.id == JobPostingRow.message_id)
    ):
        email = normalize_email(posting.contact or "") or normalize_email(sender or "")
        when = sent_at or received_at
        if email and when:
            at = f" @ {posting.company}" if posting.company else ""
            what = f"posted: {posting.title or 'a job'}{at}"
            events.append(
                {
                    "email": email,
                    "occurred_at": when,
                    "kind": POSTING,
                    "label": _short(what),
                    "external_id": external_id,
                }
            )
    for application, candidate, sent_at, received_at, external_id in session.execute(
        sa.select(
            JobApplicationRow,
            Candidate,
            stored.c.sent_at,
            stored.c.received_at,
            stored.c.external_id,
        )
        .join(Candidate, Candidate.id == JobApplicationRow.candidate_id)
        .join(stored, stored.c.id == JobApplicationRow.message_id)
    ):
        email = normalize_email(candidate.email or "")
        when = sent_at or received_at
        if email and when:
            what = f"applied to job {application.job_id}"
            events.append(
                {
                    "email": email,
                    "occurred_at": when,
                    "kind": APPLICATION,
                    "label": what,
                    "external_id": external_id,
                }
            )
    return events


def derive_timeline(inputs: DeriveInputs, stream: str) -> Counter[str]:
    """Make the partition's timeline events match its interactions (and, for mail, its
    postings and applications); returns ``timeline_events_inserted``/``_updated``/
    ``_deleted``."""
    part = PartitionKey(integration_id=inputs.integration.id, day=inputs.day, stream=stream)
    events = _interaction_events(inputs.session, part)
    if stream == "mail":
        events += _job_events(inputs.session, part)
    rows = {
        (e["external_id"], e["email"], e["kind"]): {
            **e,
            "tenant_id": inputs.integration.tenant_id,
            "integration_id": inputs.integration.id,
            "stream": stream,
        }
        for e in events
    }
    mine = sa.and_(
        TimelineEvent.integration_id == inputs.integration.id,
        TimelineEvent.stream == stream,
        TimelineEvent.external_id.in_(sa.select(IngestItem.external_id).where(in_partition(part))),
    )
    stale = [
        row_id
        for row_id, external_id, email, kind in inputs.session.execute(
            sa.select(
                TimelineEvent.id, TimelineEvent.external_id, TimelineEvent.email, TimelineEvent.kind
            ).where(mine)
        )
        if (external_id, email, kind) not in rows
    ]
    if stale:
        inputs.session.execute(sa.delete(TimelineEvent).where(TimelineEvent.id.in_(stale)))
    stored = upsert(
        inputs.session,
        table_of(TimelineEvent),
        list(rows.values()),
        keys=("integration_id", "stream", "external_id", "email", "kind"),
        id_column=None,
    )
    return Counter(
        {
            "timeline_events_inserted": stored.inserted,
            "timeline_events_updated": stored.updated,
            "timeline_events_deleted": len(stale),
        }
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a person's timeline."""

    occurred_at: dt.datetime
    kind: str
    label: str
    email: str


def contact_addresses(session: Session, tenant_id: str, email: str) -> tuple[str | None, list[str]]:
    """The contact owning ``email`` (its name) and all its addresses; the address alone when
    no contact owns it."""
    address = normalize_email(email) or email.strip().lower()
    contact_id = session.scalar(
        sa.select(ContactIdentity.contact_id).where(
            ContactIdentity.tenant_id == tenant_id, ContactIdentity.identity == f"email:{address}"
        )
    )
    if contact_id is None:
        return None, [address]
    contact = session.get_one(Contact, contact_id)
    return contact.display_name, list(dict.fromkeys([address, *contact.emails]))


def timeline_for(session: Session, tenant_id: str, emails: Sequence[str]) -> list[TimelineEntry]:
    """Every event of these addresses, oldest first (one per source item and kind)."""
    rows = session.execute(
        sa.select(
            TimelineEvent.occurred_at, TimelineEvent.kind, TimelineEvent.label, TimelineEvent.email
        )
        .where(TimelineEvent.tenant_id == tenant_id, TimelineEvent.email.in_(list(emails)))
        .order_by(TimelineEvent.occurred_at, TimelineEvent.kind, TimelineEvent.id)
    )
    seen: set[tuple[dt.datetime, str, str]] = set()
    entries = []
    for occurred_at, kind, label, email in rows:
        # The same mailbox imported by two integrations gives the same event twice.
        if (occurred_at, kind, label) in seen:
            continue
        seen.add((occurred_at, kind, label))
        entries.append(TimelineEntry(occurred_at, kind, label, email))
    return entries
