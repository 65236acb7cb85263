"""The derived datasets, in dependency order: what each is computed from and by what.

Each is computed per partition of one ingest stream (its integration and UTC day) from
what that partition stored, and rewritten to match it, so computing it again with nothing
new changes nothing. Adding one: a module with its function, and a line here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ingest_pipeline.derived.contacts_from_mail import derive_contacts_from_mail
from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.derived.derived_checks import (
    CONTACTS_FROM_MAIL_CHECKS,
    EMBEDDING_CHECKS,
    MAIL_INTERACTION_CHECKS,
    DerivedCheck,
    insight_checks,
    timeline_checks,
)
from ingest_pipeline.derived.entity_mentions_daily import (
    aggregate_matches_mentions,
    derive_entity_mentions_daily,
)
from ingest_pipeline.derived.insights import derive_insights
from ingest_pipeline.derived.mail_interactions import derive_mail_interactions
from ingest_pipeline.derived.timeline import derive_timeline

Derive = Callable[[DeriveInputs], Counter[str]]


def derive_embeddings(inputs: DeriveInputs) -> Counter[str]:
    """`embeddings.derive_embeddings`, imported when a run computes it: it needs numpy,
    which nothing else the code location loads does."""
    from ingest_pipeline.derived.embeddings import derive_embeddings as derive

    return derive(inputs)


@dataclass(frozen=True)
class DerivedDataset:
    """One derived dataset: its name (asset ``derived/<name>``), the ingest stream whose
    partitions it follows, what it reads (``ingest/<stream>`` or an earlier dataset's
    name), the function computing one partition, and its checks."""

    name: str
    stream: str
    reads: str
    derive: Derive
    description: str
    checks: tuple[DerivedCheck, ...] = ()


DERIVED = (
    DerivedDataset(
        name="mail_interactions",
        stream="mail",
        reads="ingest/mail",
        derive=lambda i: derive_mail_interactions(i.session, i.integration, i.day),
        description="One row per stored email and person other than the account: role, "
        "direction (outbound when the account sent it), thread, time; bounces, auto-replies, "
        "list mail and role accounts marked as no relationship.",
        checks=MAIL_INTERACTION_CHECKS,
    ),
    DerivedDataset(
        name="contacts_from_mail",
        stream="mail",
        reads="mail_interactions",
        derive=lambda i: derive_contacts_from_mail(i.session, i.integration, i.day),
        description="The people of the account's mail as the tenant's contacts: matched on "
        "their address to a contact from any source, else created and marked seen in mail; "
        "same-name contacts recorded as suggestions, never merged.",
        checks=CONTACTS_FROM_MAIL_CHECKS,
    ),
    DerivedDataset(
        name="embeddings",
        stream="mail",
        reads="ingest/mail",
        derive=derive_embeddings,
        description="A vector per stored message, job posting and candidate from the "
        "configured embeddings model (any OpenAI-compatible /embeddings endpoint of the "
        "models registry, or the offline lexical embedder), cached by text hash and model; "
        "what search and candidate-posting matching read.",
        checks=EMBEDDING_CHECKS,
    ),
    DerivedDataset(
        name="mail_timeline",
        stream="mail",
        reads="contacts_from_mail",
        derive=lambda i: derive_timeline(i, "mail"),
        description="Emails in and out, job postings and applications on each person's "
        "timeline (timeline_events), keyed by their address.",
        checks=timeline_checks("mail"),
    ),
    DerivedDataset(
        name="contact_insights",
        stream="mail",
        reads="mail_timeline",
        derive=lambda i: derive_insights(i, "mail"),
        description="For each person the partition's mail touched, a short summary of "
        "their last interactions and the next step (relationship_insight task through the "
        "models registry, the extraction cache and the spend limit; the offline rules by "
        "default, labelled in the model column).",
        checks=insight_checks("mail"),
    ),
    DerivedDataset(
        name="meeting_timeline",
        stream="calendar_events",
        reads="ingest/calendar_events",
        derive=lambda i: derive_timeline(i, "calendar_events"),
        description="Meetings (cancelled ones marked) on each attendee's and organizer's "
        "timeline (timeline_events), keyed by their address.",
        checks=timeline_checks("calendar_events"),
    ),
    DerivedDataset(
        name="meeting_contact_insights",
        stream="calendar_events",
        reads="meeting_timeline",
        derive=lambda i: derive_insights(i, "calendar_events"),
        description="The relationship insights of the people a partition's meetings touched, "
        "brought up to date with those meetings (same task, cache and spend limit).",
        checks=insight_checks("calendar_events"),
    ),
    DerivedDataset(
        name="entity_mentions_daily",
        stream="prompt_runs",
        reads="ingest/prompt_runs",
        derive=derive_entity_mentions_daily,
        description="Mentions per normalised entity × model × batch day of a prompt set "
        "(entity_mentions_daily): how many, in how many answers and prompts, under the "
        "entity's most common written name; what the UI plots.",
        checks=(
            DerivedCheck(
                "entity_mentions_daily_matches_mentions",
                "Every entity the day's answers mention has its daily row with the counts "
                "the mentions add up to, and no row counts what no answer mentions.",
                aggregate_matches_mentions,
            ),
        ),
    ),
)


def derived_for(stream: str) -> tuple[DerivedDataset, ...]:
    """The datasets computed from ``stream``'s partitions, in dependency order."""
    return tuple(d for d in DERIVED if d.stream == stream)
