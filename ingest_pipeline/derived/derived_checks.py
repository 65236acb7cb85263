"""What must hold after a derived dataset is computed for one partition; each finds the
problems (examples a person can act on), none meaning the check passes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.derived.mail_interactions import MAIL, stored_messages
from ingest_pipeline.store import interactions
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.models import (
    ContactInsight,
    EmbeddingRow,
    EmbeddingVector,
    Integration,
    Interaction,
    TimelineEvent,
)

EXAMPLES = 10
FindProblems = Callable[[DeriveInputs], list[str]]


@dataclass(frozen=True)
class DerivedCheck:
    """One check of a derived dataset: its name, what it proves, how it finds problems."""

    name: str
    description: str
    find: FindProblems


def _partition_rows(integration: Integration, day: dt.date) -> sa.ColumnElement[bool]:
    return interactions.of_partition(
        PartitionKey(integration_id=integration.id, day=day, stream=MAIL)
    )


def interactions_match_messages(inputs: DeriveInputs) -> list[str]:
    """Every stored message of the partition has a row per person, and no row lacks its
    message (or names someone the message does not)."""
    session, integration, day = inputs.session, inputs.integration, inputs.day
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


def one_row_per_person(inputs: DeriveInputs) -> list[str]:
    """No message has two rows for one person under two spellings of the address (the
    unique key is case- and space-sensitive; people are not)."""
    session, integration, day = inputs.session, inputs.integration, inputs.day
    person = sa.func.lower(sa.func.trim(Interaction.email))
    rows = session.execute(
        sa.select(Interaction.external_id, person, sa.func.count())
        .where(_partition_rows(integration, day))
        .group_by(Interaction.external_id, person)
        .having(sa.func.count() > 1)
        .limit(EXAMPLES)
    )
    return [f"message {e}: {n} rows for {p}" for e, p, n in rows]


def every_person_has_a_contact(inputs: DeriveInputs) -> list[str]:
    """Every person of the partition's mail who is a relationship is linked to a contact."""
    session, integration, day = inputs.session, inputs.integration, inputs.day
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


def every_record_has_an_embedding(inputs: DeriveInputs) -> list[str]:
    """Every message, posting and candidate of the partition points at a stored vector of
    its current text under the embedder's model."""
    from ingest_pipeline.derived.embeddings import partition_targets

    model = inputs.embedder.label
    targets = partition_targets(inputs)
    if not targets:
        return []
    rows = {
        (kind, ref_id): (content_hash, has_vector)
        for kind, ref_id, content_hash, has_vector in inputs.session.execute(
            sa.select(
                EmbeddingRow.kind,
                EmbeddingRow.ref_id,
                EmbeddingRow.content_hash,
                EmbeddingVector.content_hash.isnot(None),
            )
            .outerjoin(
                EmbeddingVector,
                sa.and_(
                    EmbeddingVector.content_hash == EmbeddingRow.content_hash,
                    EmbeddingVector.model == EmbeddingRow.model,
                ),
            )
            .where(
                EmbeddingRow.tenant_id == inputs.integration.tenant_id,
                EmbeddingRow.model == model,
                EmbeddingRow.ref_id.in_({t.ref_id for t in targets}),
            )
        )
    }
    problems = []
    for target in targets:
        found = rows.get((target.kind, target.ref_id))
        if found is None:
            problems.append(f"{target.kind} {target.ref_id}: no embedding under {model}")
        elif found[0] != target.content_hash:
            problems.append(f"{target.kind} {target.ref_id}: embedding of an older text")
        elif not found[1]:
            problems.append(f"{target.kind} {target.ref_id}: its vector is missing")
    return problems[:EXAMPLES]


def vectors_are_well_formed(inputs: DeriveInputs) -> list[str]:
    """The partition's vectors have their declared length and unit norm (a truncated or
    unnormalised vector would rank search results wrongly without failing)."""
    import numpy as np  # here, not at the top: the code location loads this module

    from ingest_pipeline.derived.embeddings import partition_targets, vector_from

    model = inputs.embedder.label
    hashes = list({t.content_hash for t in partition_targets(inputs)})
    problems = []
    for start in range(0, len(hashes), 500):
        for content_hash, dims, data in inputs.session.execute(
            sa.select(
                EmbeddingVector.content_hash, EmbeddingVector.dims, EmbeddingVector.vector
            ).where(
                EmbeddingVector.model == model,
                EmbeddingVector.content_hash.in_(hashes[start : start + 500]),
            )
        ):
            if len(data) != 4 * dims:
                problems.append(f"vector {content_hash[:12]}: {len(data)} bytes for {dims} dims")
                continue
            norm = float(np.linalg.norm(vector_from(data)))
            if dims and abs(norm - 1.0) > 1e-3 and norm != 0.0:
                problems.append(f"vector {content_hash[:12]}: norm {norm:.4f}, not 1")
    return problems[:EXAMPLES]


EMBEDDING_CHECKS = (
    DerivedCheck(
        "every_record_has_an_embedding",
        "Every message, job posting and candidate of the partition has a vector of its "
        "current text under the configured embeddings model.",
        every_record_has_an_embedding,
    ),
    DerivedCheck(
        "vectors_are_well_formed",
        "The partition's vectors have their declared length and unit norm.",
        vectors_are_well_formed,
    ),
)


def every_relationship_is_on_the_timeline(inputs: DeriveInputs, stream: str) -> list[str]:
    """Every interaction of the partition that is a relationship has its timeline event."""
    part = PartitionKey(integration_id=inputs.integration.id, day=inputs.day, stream=stream)
    rows = inputs.session.execute(
        sa.select(Interaction.external_id, Interaction.email)
        .outerjoin(
            TimelineEvent,
            sa.and_(
                TimelineEvent.integration_id == Interaction.integration_id,
                TimelineEvent.stream == Interaction.stream,
                TimelineEvent.external_id == Interaction.external_id,
                TimelineEvent.email == Interaction.email,
            ),
        )
        .where(
            interactions.of_partition(part),
            Interaction.automated.is_(None),
            TimelineEvent.id.is_(None),
        )
        .order_by(Interaction.id)
        .limit(EXAMPLES)
    )
    return [f"{stream} item {e}: {p} has no timeline event" for e, p in rows]


def timeline_checks(stream: str) -> tuple[DerivedCheck, ...]:
    return (
        DerivedCheck(
            f"{stream}_relationships_on_the_timeline",
            "Every interaction of the partition that is a relationship (not automated mail) "
            "has its event on the person's timeline.",
            lambda inputs: every_relationship_is_on_the_timeline(inputs, stream),
        ),
    )


def every_touched_contact_has_an_insight(inputs: DeriveInputs, stream: str) -> list[str]:
    """Every contact the partition's relationship mail (or meetings) touched has an
    insight from the configured model (a failed or budget-blocked one shows here)."""
    from ingest_pipeline.derived.insights import partition_contacts

    contacts = partition_contacts(inputs, stream)
    if not contacts:
        return []
    model = inputs.extractor.model
    have = set(
        inputs.session.scalars(
            sa.select(ContactInsight.contact_id).where(
                ContactInsight.contact_id.in_(contacts), ContactInsight.model == model
            )
        )
    )
    missing = [f"contact {c}: no insight from {model}" for c in contacts if c not in have]
    return missing[:EXAMPLES]


def insight_checks(stream: str) -> tuple[DerivedCheck, ...]:
    return (
        DerivedCheck(
            f"{stream}_contacts_have_insights",
            "Every contact the partition touched (relationship mail or meetings) has a "
            "summary of the recent relationship from the configured model.",
            lambda inputs: every_touched_contact_has_an_insight(inputs, stream),
        ),
    )
