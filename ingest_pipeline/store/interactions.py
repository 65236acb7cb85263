"""Interactions: who took part in what, linked to the tenant's contacts.

`replace_for_items` rewrites the interactions of a batch of source items (a meeting's
organizer and attendees), each resolved to the contact that owns the address if there is
one; `link_contacts` fills in the contact of earlier interactions once a contact with their
address is imported, so the order in which calendars and address books arrive does not
matter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.ledger import PartitionKey, in_partition
from ingest_pipeline.store.models import ContactIdentity, IngestItem, Interaction
from ingest_pipeline.store.upsert import table_of, upsert


@dataclass(frozen=True)
class Participant:
    """One person in one source item: address (normalised), role, when, what about."""

    external_id: str
    email: str
    role: str
    occurred_at: dt.datetime
    title: str
    cancelled: bool = False
    direction: str | None = None
    thread_key: str | None = None
    automated: str | None = None
    display_name: str | None = None


def of_partition(part: PartitionKey) -> sa.ColumnElement[bool]:
    """The interactions of one partition: those of its ledger items."""
    return sa.and_(
        Interaction.integration_id == part.integration_id,
        Interaction.stream == part.stream,
        Interaction.external_id.in_(sa.select(IngestItem.external_id).where(in_partition(part))),
    )


def contacts_by_email(session: Session, tenant_id: str, emails: Iterable[str]) -> dict[str, int]:
    """The contact owning each address, for the addresses that have one."""
    wanted = {f"email:{e}" for e in emails if e}
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(ContactIdentity.identity, ContactIdentity.contact_id).where(
            ContactIdentity.tenant_id == tenant_id, ContactIdentity.identity.in_(wanted)
        )
    )
    return {identity.removeprefix("email:"): contact_id for identity, contact_id in rows}


def replace_for_items(
    session: Session,
    *,
    tenant_id: str,
    integration_id: int,
    stream: str,
    kind: str,
    external_ids: Sequence[str],
    participants: Sequence[Participant],
) -> dict[str, int]:
    """Make the items' interactions exactly ``participants``; returns inserted, updated and
    deleted counts."""
    owners = contacts_by_email(session, tenant_id, (p.email for p in participants))
    rows = [
        {
            "tenant_id": tenant_id,
            "integration_id": integration_id,
            "stream": stream,
            "external_id": p.external_id,
            "email": p.email,
            "contact_id": owners.get(p.email),
            "kind": kind,
            "role": p.role,
            "occurred_at": p.occurred_at,
            "title": p.title,
            "cancelled": p.cancelled,
            "direction": p.direction,
            "thread_key": p.thread_key,
            "automated": p.automated,
            "display_name": p.display_name,
        }
        for p in participants
    ]
    keep = {(p.external_id, p.email) for p in participants}
    stale = [
        row_id
        for row_id, external_id, email in session.execute(
            sa.select(Interaction.id, Interaction.external_id, Interaction.email).where(
                Interaction.integration_id == integration_id,
                Interaction.stream == stream,
                Interaction.external_id.in_(set(external_ids)),
            )
        )
        if (external_id, email) not in keep
    ]
    if stale:
        session.execute(sa.delete(Interaction).where(Interaction.id.in_(stale)))
    stored = upsert(
        session,
        table_of(Interaction),
        rows,
        keys=("integration_id", "stream", "external_id", "email"),
        id_column=None,
    )
    return {"inserted": stored.inserted, "updated": stored.updated, "deleted": len(stale)}


def link_contacts(session: Session, tenant_id: str, emails: Iterable[str]) -> int:
    """Give the tenant's unlinked interactions with these addresses their contact; returns
    how many were linked."""
    owners = contacts_by_email(session, tenant_id, emails)
    linked = 0
    for email, contact_id in owners.items():
        result = session.execute(
            sa.update(Interaction)
            .where(
                Interaction.tenant_id == tenant_id,
                Interaction.email == email,
                Interaction.contact_id.is_(None),
            )
            .values(contact_id=contact_id)
        )
        linked += int(getattr(result, "rowcount", 0) or 0)
    return linked
