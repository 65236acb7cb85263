"""Relationship insights: for each person a partition's mail or meetings touched, a short
summary of their last interactions (all sources) and the next step, from the
relationship-insight task.

The task runs through the same path as the gpt step: the models registry's extractor (the
offline rules by default, labelled in the ``model`` column), the extraction cache keyed by
the input's hash (the same recent history never pays twice; a re-run calls nothing), the
shared spend limit, and each paid result committed as it arrives. A person whose insight
fails or waits for budget is counted, never fails the run; the check names them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.derived.timeline import timeline_for
from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.relationship_insight_rules import insight_input
from ingest_pipeline.extraction.tasks import TASKS
from ingest_pipeline.steps.concurrent_extraction import SpendGate, extract_concurrently
from ingest_pipeline.store import extraction_cache, interactions
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.models import Contact, ContactIdentity, ContactInsight, Interaction
from ingest_pipeline.store.upsert import table_of, upsert
from ingest_pipeline.streams.contacts.email_address import normalize_email

RECENT = 20
TASK = TASKS["relationship_insight"]


@dataclass(frozen=True)
class InsightInput:
    """One contact's task input, with what it covers."""

    contact_id: int
    item: ExtractionInput
    interactions: int
    last_interaction_at: dt.datetime


def partition_contacts(inputs: DeriveInputs, stream: str) -> list[int]:
    """The contacts the partition's relationship mail (or meetings) touched."""
    part = PartitionKey(integration_id=inputs.integration.id, day=inputs.day, stream=stream)
    return sorted(
        inputs.session.scalars(
            sa.select(Interaction.contact_id)
            .where(
                interactions.of_partition(part),
                Interaction.automated.is_(None),
                Interaction.contact_id.isnot(None),
            )
            .distinct()
        )
    )


def insight_inputs(inputs: DeriveInputs, contact_ids: list[int]) -> list[InsightInput]:
    """Each contact's last ``RECENT`` timeline events as the task's input."""
    found = []
    for contact_id in contact_ids:
        contact = inputs.session.get_one(Contact, contact_id)
        events = timeline_for(inputs.session, contact.tenant_id, contact.emails)[-RECENT:]
        if not events:
            continue
        person = (
            f"{contact.display_name} <{contact.emails[0]}>"
            if contact.emails
            else contact.display_name
        )
        text = insight_input(
            person, [(e.occurred_at.date().isoformat(), e.kind, e.label) for e in events]
        )
        found.append(
            InsightInput(
                contact_id,
                ExtractionInput.of(task=TASK.name, text=text),
                len(events),
                events[-1].occurred_at,
            )
        )
    return found


def derive_insights(inputs: DeriveInputs, stream: str) -> Counter[str]:
    """Summarise the recent relationship of each contact the partition of ``stream``
    touched; returns ``insights_inserted``/``_updated``, ``llm_calls``, ``cache_hits``,
    ``insights_failed`` and ``insights_waiting_for_llm_budget``."""
    wanted = insight_inputs(inputs, partition_contacts(inputs, stream))
    counts: Counter[str] = Counter()
    if not wanted:
        return counts
    extractor = inputs.extractor
    by_hash = {w.item.content_hash: w.item for w in wanted}
    known = extraction_cache.lookup(
        inputs.session,
        list(by_hash),
        task=TASK.name,
        model=extractor.model,
        prompt_version=TASK.prompt_version,
    )
    missing = {h: item for h, item in by_hash.items() if h not in known}
    counts["cache_hits"] = len(by_hash) - len(missing)
    if missing:
        today = dt.datetime.now(dt.UTC).date()
        gate = SpendGate.for_day(inputs.database_url, today, budget_usd=inputs.llm.daily_budget_usd)
        estimate = getattr(extractor, "estimated_cost", None)
        calls = extract_concurrently(
            inputs.database_url,
            task=TASK,
            extractor=extractor,
            inputs=missing,
            concurrency=inputs.llm.concurrency,
            gate=gate,
            estimate=(lambda item: float(estimate(TASK, item))) if estimate else lambda _: 0.0,
            integration_id=inputs.integration.id,
        )
        known.update(calls.extraction_ids)
        counts["llm_calls"] = calls.totals["extraction_calls"]
        counts["insights_failed"] = len(calls.errors)
        counts["insights_waiting_for_llm_budget"] = len(calls.over_budget)
    results = extraction_cache.load_results(inputs.session, list(known.values()))
    rows = []
    for w in wanted:
        extraction_id = known.get(w.item.content_hash)
        if extraction_id is None:
            continue
        result = results[extraction_id]
        rows.append(
            {
                "tenant_id": inputs.integration.tenant_id,
                "contact_id": w.contact_id,
                "summary": result["summary"],
                "next_step": result.get("next_step"),
                "model": extractor.model,
                "extraction_id": extraction_id,
                "interactions": w.interactions,
                "last_interaction_at": w.last_interaction_at,
            }
        )
    stored = upsert(
        inputs.session,
        table_of(ContactInsight),
        rows,
        keys=("tenant_id", "contact_id"),
        id_column=None,
    )
    counts["insights_inserted"] = stored.inserted
    counts["insights_updated"] = stored.updated
    return counts


def insight_of(session: Session, tenant_id: str, email: str) -> ContactInsight | None:
    """The insight of the contact owning ``email``, if it has one."""
    return session.scalar(
        sa.select(ContactInsight)
        .join(ContactIdentity, ContactIdentity.contact_id == ContactInsight.contact_id)
        .where(
            ContactIdentity.tenant_id == tenant_id,
            ContactIdentity.identity == f"email:{normalize_email(email) or email}",
        )
    )
