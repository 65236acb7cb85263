"""Persist for the contacts stream: each card becomes (or joins) one contact of the tenant.

Every card is stored as a contact source; the contact's fields are then recomputed from
all its live sources, so a person described by Google, Outlook and a vCard export is one
row holding the union of their emails and phones. Each card's outcome is recorded in
``imported_contacts``: ``created`` (a new person), ``updated`` (the person changed) or
``skipped`` (the contact already had everything the card says). A card the source removed
(a Graph ``@removed`` entry, a People ``metadata.deleted`` person) marks its source deleted
and keeps the last data it gave; the contact is deleted when no live source is left.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store import interactions, ledger
from ingest_pipeline.store.models import (
    Contact,
    ContactIdentity,
    ContactSourceRow,
    ImportedContact,
    IngestItem,
)
from ingest_pipeline.streams.contacts.contact_matching import ContactIndex, identities
from ingest_pipeline.streams.contacts.contact_record import ParsedContact
from ingest_pipeline.streams.stream_kind import PersistBatch, PersistOutcome

CONTACT_FIELDS = (
    "display_name",
    "given_name",
    "family_name",
    "emails",
    "phones",
    "organization",
    "title",
    "deleted",
)


def persist_contacts(session: Session, batch: PersistBatch) -> PersistOutcome:
    """Store each card as a source of its contact; end its ledger item with the action."""
    out = PersistOutcome()
    cards: dict[int, ParsedContact] = {}
    for item in batch.items:
        data = batch.parsed.get(item.content_hash or "")
        if data is None:
            out.updates.append(
                ledger.finish(item.id, "failed", step="persisted", reason="persist: parse missing")
            )
            out.counts["items_failed"] += 1
            continue
        cards[item.id] = ParsedContact.from_json(data)
    index = ContactIndex(
        session,
        tenant_id=batch.tenant_id,
        integration_id=batch.integration_id,
        external_ids=[i.external_id for i in batch.items if i.id in cards],
        cards=cards.values(),
    )
    before: dict[int, dict[str, Any]] = {}
    created: set[int] = set()
    matched: list[tuple[IngestItem, int]] = []
    for item in batch.items:
        card = cards.get(item.id)
        if card is None:
            continue
        if card.deleted and item.external_id not in index.sources:
            gone = "removed at the source before it was ever imported: nothing to mark"
            out.updates.append(ledger.finish(item.id, "skipped", step="persisted", reason=gone))
            out.counts["items_skipped"] += 1
            out.counts["contacts_skipped"] += 1
            continue
        contact_id = index.match(item.external_id, card)
        if contact_id is None:
            contact_id = _new_contact(session, batch, item, card)
            created.add(contact_id)
        elif contact_id not in before and contact_id not in created:
            before[contact_id] = _fields(session.get_one(Contact, contact_id))
        new = index.unclaimed(card)
        session.add_all(
            ContactIdentity(tenant_id=batch.tenant_id, identity=i, contact_id=contact_id)
            for i in new
        )
        index.claim(contact_id, new)
        _store_source(session, index, batch, item, card, contact_id, out.counts)
        matched.append((item, contact_id))
    session.flush()
    after = {cid: _recompute(session, cid) for cid in {cid for _, cid in matched}}
    seen: set[int] = set()
    for item, contact_id in matched:
        action, reason = _action(contact_id, before, after, first=contact_id not in seen)
        seen.add(contact_id)
        out.counts[f"contacts_{action}"] += 1
        session.add(
            ImportedContact(
                run_id=batch.run_id,
                integration_id=batch.integration_id,
                source_item_id=item.id,
                contact_id=contact_id,
                action=action,
                reason=reason,
            )
        )
        status = "skipped" if action == "skipped" else "done"
        out.updates.append(ledger.finish(item.id, status, step="persisted", reason=reason))
        out.counts[f"items_{'skipped' if action == 'skipped' else 'done'}"] += 1
    out.counts["contacts_inserted"] = out.counts["contacts_created"]
    emails = {email for card in cards.values() for email in card.emails}
    out.counts["interactions_linked"] += interactions.link_contacts(
        session, batch.tenant_id, emails
    )
    return out


def _action(
    contact_id: int,
    before: dict[int, dict[str, Any]],
    after: dict[int, dict[str, Any]],
    *,
    first: bool,
) -> tuple[str, str | None]:
    """created / updated / skipped for one card, by what its contact looked like before the
    batch; later cards of a contact the batch created count as updates of it."""
    if contact_id not in before:
        return ("created", None) if first else ("updated", None)
    if before[contact_id] == after[contact_id]:
        return "skipped", "nothing new: the contact already has everything this card says"
    return "updated", None


def _new_contact(
    session: Session, batch: PersistBatch, item: IngestItem, card: ParsedContact
) -> int:
    keys = identities(card)
    key = keys[0] if keys else f"source:{batch.integration_id}:{item.external_id}"
    contact = Contact(
        tenant_id=batch.tenant_id,
        contact_key=key[:400],
        display_name=card.full_name,
        emails=[],
        phones=[],
        deleted=False,
    )
    session.add(contact)
    session.flush()
    return contact.id


def _store_source(
    session: Session,
    index: ContactIndex,
    batch: PersistBatch,
    item: IngestItem,
    card: ParsedContact,
    contact_id: int,
    counts: Counter[str],
) -> None:
    row = index.sources.get(item.external_id)
    # A tombstone keeps what the source last said about the person; only the flag changes.
    data = row.data if card.deleted and row is not None else card.to_json()
    if row is None:
        row = ContactSourceRow(
            contact_id=contact_id,
            integration_id=batch.integration_id,
            external_id=item.external_id,
            source_item_id=item.id,
            data=data,
            content_hash=item.content_hash or "",
            deleted=card.deleted,
        )
        session.add(row)
        index.sources[item.external_id] = row
        counts["contact_sources_inserted"] += 1
    elif (row.data, row.content_hash, row.deleted) != (data, item.content_hash, card.deleted):
        row.data, row.content_hash, row.deleted = data, item.content_hash or "", card.deleted
        row.source_item_id = item.id
        counts["contact_sources_updated"] += 1


def _recompute(session: Session, contact_id: int) -> dict[str, Any]:
    """Set the contact's fields from its sources (oldest source first wins single fields;
    emails and phones are the union); returns the new fields."""
    contact = session.get_one(Contact, contact_id)
    sources = session.scalars(
        sa.select(ContactSourceRow)
        .where(ContactSourceRow.contact_id == contact_id)
        .order_by(ContactSourceRow.id)
    ).all()
    live = [ParsedContact.from_json(s.data) for s in sources if not s.deleted]
    cards = live or [ParsedContact.from_json(s.data) for s in sources]

    def first(attribute: str) -> str | None:
        return next((v for c in cards if (v := getattr(c, attribute))), None)

    fields: dict[str, Any] = {
        "display_name": first("full_name") or "",
        "given_name": first("given_name"),
        "family_name": first("family_name"),
        "emails": list(dict.fromkeys(e for c in cards for e in c.emails)),
        "phones": list(dict.fromkeys(p.number for c in cards for p in c.phones)),
        "organization": first("organization"),
        "title": first("title"),
        "deleted": not live,
    }
    for name, value in fields.items():
        if getattr(contact, name) != value:
            setattr(contact, name, value)
    return fields


def _fields(contact: Contact) -> dict[str, Any]:
    return {name: getattr(contact, name) for name in CONTACT_FIELDS}
