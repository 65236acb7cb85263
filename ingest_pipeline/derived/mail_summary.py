"""What a tenant's mail became: interactions (relationships and automated), the contacts
found in mail, and the people the account exchanges most mail with."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.models import Contact, Interaction

MAIL = "mail"


@dataclass(frozen=True)
class MailSummary:
    """Counts over the tenant's mail interactions and contacts; ``top_people`` holds
    (name, address, inbound, outbound) for the most frequent correspondents."""

    interactions: int
    automated: int
    people: int
    contacts_seen_in_mail: int
    top_people: list[tuple[str, str, int, int]]


def mail_summary(session: Session, tenant_id: str, *, top: int = 5) -> MailSummary:
    """Counted once per message and person, however many of the tenant's integrations
    import the same mailbox."""
    mine = sa.and_(Interaction.tenant_id == tenant_id, Interaction.stream == MAIL)
    one = sa.func.count(sa.distinct(Interaction.external_id.concat("|").concat(Interaction.email)))
    total = session.scalar(sa.select(one).where(mine))
    automated = session.scalar(sa.select(one).where(mine, Interaction.automated.isnot(None)))
    people = session.scalar(
        sa.select(sa.func.count(sa.distinct(Interaction.email))).where(
            mine, Interaction.automated.is_(None)
        )
    )
    seen = session.scalar(
        sa.select(sa.func.count()).where(
            Contact.tenant_id == tenant_id, Contact.seen_in_mail.is_(True)
        )
    )

    def messages(direction: str) -> sa.ColumnElement[int]:
        return sa.func.count(
            sa.distinct(sa.case((Interaction.direction == direction, Interaction.external_id)))
        )

    inbound, outbound = messages("inbound"), messages("outbound")
    rows = session.execute(
        sa.select(
            sa.func.coalesce(Contact.display_name, Interaction.email),
            Interaction.email,
            inbound,
            outbound,
        )
        .outerjoin(Contact, Contact.id == Interaction.contact_id)
        .where(mine, Interaction.automated.is_(None))
        .group_by(Interaction.email, Contact.display_name)
        .order_by(sa.func.count(sa.distinct(Interaction.external_id)).desc(), Interaction.email)
        .limit(top)
    ).all()
    return MailSummary(
        interactions=int(total or 0),
        automated=int(automated or 0),
        people=int(people or 0),
        contacts_seen_in_mail=int(seen or 0),
        top_people=[(str(n), str(e), int(i or 0), int(o or 0)) for n, e, i, o in rows],
    )
