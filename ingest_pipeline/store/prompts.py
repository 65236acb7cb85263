"""Prompt sets and their prompts: add, list, disable, and what a day's batch asks.

A prompt set is an integration of the ``prompts`` provider (stream ``prompt_runs``); its
account is the set's name. `ingest-pipeline prompts add|list|disable` call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.integrations import DEFAULT_TENANT, add_integration, find_by_name
from ingest_pipeline.store.models import Integration, utcnow
from ingest_pipeline.store.prompt_models import Prompt

PROMPTS_PROVIDER = "prompts"
PROMPT_RUNS_STREAM = "prompt_runs"
# A prompt set runs once a day (the midnight schedule), not every 15 minutes.
DAILY_MINUTES = 24 * 60
MAX_RUNS_PER_DAY = 100


class PromptError(ValueError):
    """A prompt that cannot be stored as given; the message says what to change."""


@dataclass(frozen=True)
class PromptSpec:
    """What `add_prompt` stores: the prompt's text, the models to ask (registry names),
    how many times a day, its name in the set (default: ``p<id>``) and who added it."""

    text: str
    models: tuple[str, ...]
    runs_per_day: int = 1
    name: str | None = None
    owner: str | None = None
    active: bool = True


def prompt_set(
    session: Session, name: str, *, tenant_id: str = DEFAULT_TENANT, create: bool = False
) -> Integration:
    """The prompt set called ``name`` (created, as a ``prompts`` integration, with
    ``create``); `PromptError` when the name belongs to another kind of integration."""
    row = find_by_name(session, name)
    if row is not None:
        if row.provider != PROMPTS_PROVIDER:
            raise PromptError(
                f"{name!r} is a {row.provider} integration, not a prompt set; choose another name"
            )
        return row
    if not create:
        raise PromptError(
            f"no prompt set named {name!r}; `ingest-pipeline prompts add --set {name} …` creates it"
        )
    row = add_integration(
        session,
        provider=PROMPTS_PROVIDER,
        stream=PROMPT_RUNS_STREAM,
        account=name,
        task="prompt_answer",
        name=name,
        tenant_id=tenant_id,
    )
    row.sync_frequency_minutes = DAILY_MINUTES
    session.flush()
    return row


def add_prompt(session: Session, prompt_set_row: Integration, spec: PromptSpec) -> Prompt:
    """Store one prompt in the set; `PromptError` for an empty text, no models, a run count
    out of range or a name the set already has."""
    text = spec.text.strip()
    if not text:
        raise PromptError("the prompt's text is empty")
    models = tuple(dict.fromkeys(m.strip() for m in spec.models if m.strip()))
    if not models:
        raise PromptError("a prompt needs at least one model (--model NAME, from the registry)")
    if not 1 <= spec.runs_per_day <= MAX_RUNS_PER_DAY:
        raise PromptError(f"runs per day must be 1 to {MAX_RUNS_PER_DAY}, not {spec.runs_per_day}")
    if spec.name and _named(session, prompt_set_row.id, spec.name) is not None:
        raise PromptError(
            f"the set {prompt_set_row.name!r} already has a prompt named {spec.name!r}"
        )
    prompt = Prompt(
        integration_id=prompt_set_row.id,
        tenant_id=prompt_set_row.tenant_id,
        owner=spec.owner,
        name=spec.name or f"pending-{utcnow().timestamp()}",
        text=text,
        models=list(models),
        runs_per_day=spec.runs_per_day,
        active=spec.active,
    )
    session.add(prompt)
    session.flush()
    if not spec.name:
        prompt.name = _free_name(session, prompt_set_row.id, f"p{prompt.id}")
        session.flush()
    return prompt


def _free_name(session: Session, integration_id: int, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``-3``… when a prompt of the set already has it."""
    name, n = wanted, 1
    while _named(session, integration_id, name) is not None:
        n += 1
        name = f"{wanted}-{n}"
    return name


def _named(session: Session, integration_id: int, name: str) -> Prompt | None:
    return session.scalar(
        sa.select(Prompt).where(Prompt.integration_id == integration_id, Prompt.name == name)
    )


def find_prompt(session: Session, ref: str, *, integration_id: int | None = None) -> Prompt:
    """The prompt whose id or name is ``ref`` (names are unique within a set: give the set
    when two sets use one name)."""
    query = sa.select(Prompt)
    if integration_id is not None:
        query = query.where(Prompt.integration_id == integration_id)
    found = list(
        session.scalars(
            query.where(
                sa.or_(Prompt.name == ref, Prompt.id == int(ref))
                if ref.isdigit()
                else Prompt.name == ref
            )
        )
    )
    if not found:
        raise PromptError(f"no prompt {ref!r}; `ingest-pipeline prompts list` shows them")
    if len(found) > 1:
        raise PromptError(f"{len(found)} prompts are named {ref!r}: give --set or the prompt's id")
    return found[0]


def list_prompts(
    session: Session, *, integration_id: int | None = None, active_only: bool = False
) -> list[Prompt]:
    query = sa.select(Prompt).order_by(Prompt.integration_id, Prompt.id)
    if integration_id is not None:
        query = query.where(Prompt.integration_id == integration_id)
    if active_only:
        query = query.where(Prompt.active.is_(True))
    return list(session.scalars(query))


def disable_prompt(session: Session, prompt: Prompt, *, now: dt.datetime | None = None) -> bool:
    """Stop asking the prompt from the next enumerated day on; False when already disabled."""
    if not prompt.active:
        return False
    prompt.active = False
    prompt.disabled_at = now or utcnow()
    session.flush()
    return True


def prompt_set_name(session: Session, integration_id: int) -> str:
    row = session.get(Integration, integration_id)
    return row.name if row is not None else f"#{integration_id}"


def prompts_by_id(session: Session, ids: Sequence[int]) -> dict[int, Prompt]:
    if not ids:
        return {}
    rows = session.scalars(sa.select(Prompt).where(Prompt.id.in_(set(ids))))
    return {row.id: row for row in rows}
