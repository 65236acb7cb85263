"""The contacts stream kind: address-book cards, one contact per person per tenant."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.store.models import Contact, ContactSourceRow, ImportedContact, IngestItem
from ingest_pipeline.streams.contacts.contact_record import UnparseableCard
from ingest_pipeline.streams.contacts.contacts_persist import persist_contacts
from ingest_pipeline.streams.stream_kind import (
    ParseOptions,
    PersistBatch,
    PersistOutcome,
    UnparseableItem,
)

EXAMPLES = 5


class ContactsKind:
    """An account's address book as it is now; each run applies what changed since the last."""

    name = "contacts"
    dated = False
    looks_ahead = False
    # Follows vcard_parser.PARSER_VERSION (test_stream_kinds checks); kept here so loading
    # the code location does not import vobject.
    parser_version = "contacts-1"
    default_task: str | None = None
    llm_attempts = 1
    per_item_model = False
    schedule = "frequent"
    description = (
        "The contacts one integration holds, merged into one contact per person per tenant "
        "(matched on email, then phone); each run applies the cards that changed since the "
        "last. Its metadata are the run's metrics, with created/updated/skipped contacts."
    )

    def parse(self, data: bytes, options: ParseOptions) -> dict[str, Any]:
        # Imported here: vobject and phonenumbers are needed by contacts runs only.
        from ingest_pipeline.streams.contacts import json_contacts, vcard_parser

        region = options.default_phone_region
        try:
            if json_contacts.is_json_contact(data):
                card = json_contacts.parse_json_contact(data, default_region=region)
            else:
                card = vcard_parser.parse_card(data, default_region=region)
        except UnparseableCard as exc:
            raise UnparseableItem(str(exc)) from exc
        return card.to_json()

    def task_input(self, parsed: dict[str, Any], task: TaskSpec) -> ExtractionInput:
        raise UnparseableItem(f"the contacts stream has no LLM task; {task.name} cannot run")

    def persist(self, session: Session, batch: PersistBatch) -> PersistOutcome:
        return persist_contacts(session, batch)

    def stored_item_ids(self) -> sa.Select[tuple[int]]:
        return sa.select(ContactSourceRow.source_item_id)

    def hidden_duplicates(self, session: Session, integration_id: int) -> dict[str, list[str]]:
        """Two contacts of a tenant that share an email or a phone: one person twice."""
        tenants = (
            sa.select(Contact.tenant_id)
            .join(ContactSourceRow, ContactSourceRow.contact_id == Contact.id)
            .where(ContactSourceRow.integration_id == integration_id)
            .distinct()
        )
        rows = session.execute(
            sa.select(Contact.id, Contact.tenant_id, Contact.emails, Contact.phones).where(
                Contact.tenant_id.in_(tenants), Contact.deleted.is_(False)
            )
        ).all()
        owners: dict[tuple[str, str], set[int]] = defaultdict(set)
        for contact_id, tenant_id, emails, phones in rows:
            # The identities matching uses: emails and E.164 phones. Numbers that could not
            # be read as E.164 (a switchboard written without a country) prove nothing.
            e164 = [phone for phone in phones or [] if phone.startswith("+")]
            for value in [*(emails or []), *e164]:
                owners[(tenant_id, value)].add(contact_id)
        shared = [
            f"{value} is on contacts {sorted(ids)}"
            for (_, value), ids in sorted(owners.items())
            if len(ids) > 1
        ]
        return {"contacts": shared[:EXAMPLES]} if shared else {}

    def produced_per_day(
        self, session: Session, integration_id: int, days: Sequence[dt.date]
    ) -> dict[str, dict[dt.date, int]]:
        produced: dict[str, dict[dt.date, int]] = {}
        for action in ("created", "updated", "skipped"):
            rows = session.execute(
                sa.select(IngestItem.partition_day, sa.func.count(ImportedContact.id))
                .join(IngestItem, IngestItem.id == ImportedContact.source_item_id)
                .where(
                    ImportedContact.integration_id == integration_id,
                    ImportedContact.action == action,
                    IngestItem.partition_day.in_(days),
                )
                .group_by(IngestItem.partition_day)
            )
            produced[f"contacts_{action}"] = {day: count for day, count in rows}
        return produced
