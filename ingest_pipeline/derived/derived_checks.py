"""What must hold after a derived dataset is computed for one partition; each finds the
problems (examples a person can act on), none meaning the check passes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.mail_interactions import MAIL, stored_messages
from ingest_pipeline.store.ledger import PartitionKey, in_partition
from ingest_pipeline.store.models import IngestItem, Integration, Interaction

EXAMPLES = 10
FindProblems = Callable[[Session, Integration, dt.date], list[str]]


@dataclass(frozen=True)
class DerivedCheck:
    """One check of a derived dataset: its name, what it proves, how it finds problems."""

    name: str
    description: str
    find: FindProblems


def _partition_rows(integration: Integration, day: dt.date) -> sa.ColumnElement[bool]:
    part = PartitionKey(integration_id=integration.id, day=day, stream=MAIL)
    return sa.and_(
        Interaction.integration_id == integration.id,
        Interaction.stream == MAIL,
        Interaction.external_id.in_(sa.select(IngestItem.external_id).where(in_partition(part))),
    )


def interactions_match_messages(
    session: Session, integration: Integration, day: dt.date
) -> list[str]:
    """Every stored message of the partition has a row per person, and no row lacks its
    message (or names someone the message does not)."""
    part = PartitionKey(integration_id=integration.id, day=day, stream=MAIL)
    expected = {
        (m.external_id, person.email)
        for m in stored_messages(session, integration, part)
        for person in m.people.people
    }
    actual = set(
        session.execute(
            sa.select(Interaction.external_id, Interaction.email).where(
                _partition_rows(integration, day)
            )
        ).tuples()
    )
    missing = [f"message {e}: no interaction for {p}" for e, p in sorted(expected - actual)]
    extra = [
        f"message {e}: interaction for {p} it does not name" for e, p in sorted(actual - expected)
    ]
    return (missing + extra)[:EXAMPLES]


def one_row_per_person(session: Session, integration: Integration, day: dt.date) -> list[str]:
    """No message has two rows for one person under two spellings of the address (the
    unique key is case- and space-sensitive; people are not)."""
    person = sa.func.lower(sa.func.trim(Interaction.email))
    rows = session.execute(
        sa.select(Interaction.external_id, person, sa.func.count())
        .where(_partition_rows(integration, day))
        .group_by(Interaction.external_id, person)
        .having(sa.func.count() > 1)
        .limit(EXAMPLES)
    )
    return [f"message {e}: {n} rows for {p}" for e, p, n in rows]


def every_person_has_a_contact(
    session: Session, integration: Integration, day: dt.date
) -> list[str]:
    """Every person of the partition's mail who is a relationship is linked to a contact."""
    rows = session.execute(
        sa.select(Interaction.external_id, Interaction.email)
        .where(
            _partition_rows(integration, day),
            Interaction.automated.is_(None),
            Interaction.contact_id.is_(None),
        )
        .order_by(Interaction.id)
        .limit(EXAMPLES)
    )
    return [f"message {e}: {p} has no contact" for e, p in rows]


MAIL_INTERACTION_CHECKS = (
    DerivedCheck(
        "interactions_match_messages",
        "Every stored message of the partition has one interaction per person it names "
        "other than the account, and no interaction lacks its message.",
        interactions_match_messages,
    ),
    DerivedCheck(
        "one_interaction_per_person",
        "No message has two interactions for one person under two spellings of the address.",
        one_row_per_person,
    ),
)
CONTACTS_FROM_MAIL_CHECKS = (
    DerivedCheck(
        "every_person_has_a_contact",
        "Every person of the partition's mail who is a relationship (not automated mail, "
        "a bounce, list mail or a role account) is linked to one of the tenant's contacts.",
        every_person_has_a_contact,
    ),
)
