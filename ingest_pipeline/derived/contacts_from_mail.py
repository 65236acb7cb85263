"""Contacts found in mail: each person the account exchanged mail with becomes (or is
linked to) one contact of the tenant.

Matching follows the contacts stream (`streams.contacts.contact_matching`): an address a
contact owns is that contact, whichever source it came from; a new address is a new
contact marked ``seen_in_mail`` and named from the headers. A name alone never merges:
when a new contact's name equals another contact's, a `ContactSuggestion` records it for
a person to decide. Automated mail, bounces, list mail and role accounts make no contact.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.mail_interactions import MAIL
from ingest_pipeline.store import interactions
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.models import (
    Contact,
    ContactIdentity,
    ContactSuggestion,
    Integration,
    Interaction,
)
from ingest_pipeline.store.upsert import table_of, upsert


def _people_of_partition(
    session: Session, integration: Integration, day: dt.date
) -> dict[str, list[str]]:
    """The partition's people who are a relationship, each with the names mail gave them."""
    part = PartitionKey(integration_id=integration.id, day=day, stream=MAIL)
    rows = session.execute(
        sa.select(Interaction.email, Interaction.display_name).where(
            interactions.of_partition(part), Interaction.automated.is_(None)
        )
    )
    names: dict[str, list[str]] = defaultdict(list)
    for email, name in rows:
        names[email].append(name or "")
    return names


def _best_name(names: list[str], email: str) -> str:
    """The name mail gives most often (the longest among equals), else the address."""
    counted = Counter(n for n in names if n)
    if not counted:
        return email
    return max(counted, key=lambda n: (counted[n], len(n), n))


def derive_contacts_from_mail(
    session: Session, integration: Integration, day: dt.date
) -> Counter[str]:
    """Create contacts for the partition's new people and link every interaction of theirs;
    returns ``contacts_created``, ``contacts_matched`` (already known), ``interactions_linked``,
    ``contacts_marked_seen`` and ``suggestions_inserted``."""
    tenant = integration.tenant_id
    people = _people_of_partition(session, integration, day)
    counts: Counter[str] = Counter()
    if not people:
        return counts
    known = interactions.contacts_by_email(session, tenant, people)
    counts["contacts_matched"] = len(known)
    new = {email: _best_name(names, email) for email, names in people.items() if email not in known}
    created = upsert(
        session,
        table_of(Contact),
        [
            {
                "tenant_id": tenant,
                "contact_key": f"email:{email}"[:400],
                "display_name": name,
                "emails": [email],
                "phones": [],
                "deleted": False,
                "seen_in_mail": True,
            }
            for email, name in sorted(new.items())
        ],
        keys=("tenant_id", "contact_key"),
        update=(),
    )
    counts["contacts_created"] = created.inserted
    ids = created.ids or {}
    upsert(
        session,
        table_of(ContactIdentity),
        [
            {
                "tenant_id": tenant,
                "identity": f"email:{email}",
                "contact_id": ids[(tenant, f"email:{email}"[:400])],
            }
            for email in sorted(new)
        ],
        keys=("tenant_id", "identity"),
        update=(),
        id_column=None,
    )
    counts["interactions_linked"] = interactions.link_contacts(session, tenant, people)
    owners = interactions.contacts_by_email(session, tenant, people)
    marked = session.execute(
        sa.update(Contact)
        .where(Contact.id.in_(set(owners.values())), Contact.seen_in_mail.is_(False))
        .values(seen_in_mail=True)
    )
    counts["contacts_marked_seen"] = int(getattr(marked, "rowcount", 0) or 0)
    counts["suggestions_inserted"] = _suggest_same_names(
        session, tenant, {owners[e]: name for e, name in new.items() if e in owners}
    )
    return counts


def _suggest_same_names(session: Session, tenant: str, named: dict[int, str]) -> int:
    """Record, for each contact created from mail with a person's name, the other contacts
    of the tenant with that same name (a suggestion, never a merge)."""
    wanted = {name.casefold(): name for name in named.values() if "@" not in name}
    if not wanted:
        return 0
    same = session.execute(
        sa.select(Contact.id, Contact.display_name).where(
            Contact.tenant_id == tenant,
            sa.func.lower(Contact.display_name).in_({n.lower() for n in wanted.values()}),
        )
    ).all()
    by_name: dict[str, list[int]] = defaultdict(list)
    for contact_id, display_name in same:
        by_name[display_name.casefold()].append(contact_id)
    rows = [
        {
            "tenant_id": tenant,
            "contact_id": contact_id,
            "similar_contact_id": other,
            "reason": f"same name {name!r}; no email or phone links them",
        }
        for contact_id, name in sorted(named.items())
        for other in by_name.get(name.casefold(), [])
        if other != contact_id
    ]
    return upsert(
        session,
        table_of(ContactSuggestion),
        rows,
        keys=("contact_id", "similar_contact_id"),
        update=(),
        id_column=None,
    ).inserted
