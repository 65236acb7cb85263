"""Which contact a card describes: one contact per person per tenant, across sources.

A card is the contact it was imported as before (same integration and external id); else
the contact that already owns one of its normalised emails, in card order; else the one
owning one of its E.164 phones. A name alone never matches: two people called Alex Kim
with different emails are two contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.models import ContactIdentity, ContactSourceRow
from ingest_pipeline.streams.contacts.contact_record import ParsedContact


def identities(contact: ParsedContact) -> list[str]:
    """The card's identities, strongest first: ``email:<address>``, then ``phone:<E.164>``."""
    found = [f"email:{email}" for email in contact.emails]
    found += [f"phone:{phone.number}" for phone in contact.phones if phone.e164]
    return list(dict.fromkeys(found))


class ContactIndex:
    """The contacts a batch's cards can match, loaded in two queries and kept current as
    the batch creates contacts and claims identities."""

    def __init__(
        self,
        session: Session,
        *,
        tenant_id: str,
        integration_id: int,
        external_ids: Sequence[str],
        cards: Iterable[ParsedContact],
    ) -> None:
        self.tenant_id = tenant_id
        wanted = {identity for card in cards for identity in identities(card)}
        self.by_identity: dict[str, int] = {}
        if wanted:
            rows = session.execute(
                sa.select(ContactIdentity.identity, ContactIdentity.contact_id).where(
                    ContactIdentity.tenant_id == tenant_id, ContactIdentity.identity.in_(wanted)
                )
            )
            self.by_identity = {identity: contact_id for identity, contact_id in rows}
        self.sources: dict[str, ContactSourceRow] = (
            {
                row.external_id: row
                for row in session.scalars(
                    sa.select(ContactSourceRow).where(
                        ContactSourceRow.integration_id == integration_id,
                        ContactSourceRow.external_id.in_(set(external_ids)),
                    )
                )
            }
            if external_ids
            else {}
        )

    def match(self, external_id: str, card: ParsedContact) -> int | None:
        """The contact this card describes, if it exists already."""
        source = self.sources.get(external_id)
        if source is not None:
            return source.contact_id
        for identity in identities(card):
            if identity in self.by_identity:
                return self.by_identity[identity]
        return None

    def unclaimed(self, card: ParsedContact) -> list[str]:
        """The card's identities no contact owns yet."""
        return [i for i in identities(card) if i not in self.by_identity]

    def claim(self, contact_id: int, new_identities: Sequence[str]) -> None:
        for identity in new_identities:
            self.by_identity.setdefault(identity, contact_id)
