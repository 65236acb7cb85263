"""Candidate ↔ job posting matching for recruiting: who fits a posting, which postings fit
a candidate, each with a score and why.

The score blends what the embeddings see (cosine similarity of the posting's and the
candidate's texts) with what a recruiter checks first (the share of the posting's skills
the candidate lists): ``SIMILARITY_WEIGHT * similarity + SKILLS_WEIGHT * skill share``. The
shared skills are the why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.embedding_texts import CANDIDATE, POSTING
from ingest_pipeline.derived.vector_search import VectorIndex, stored_vectors
from ingest_pipeline.store.models import (
    Candidate,
    EmbeddingRow,
    Integration,
    JobPostingRow,
)

SIMILARITY_WEIGHT = 0.6
SKILLS_WEIGHT = 0.4


class NothingToMatch(LookupError):
    """The posting or candidate does not exist, or has no embedding yet (the message says
    which and what to run)."""


@dataclass(frozen=True)
class Match:
    """One ranked counterpart: its id and label, the blended score and its two parts, and
    the skills both sides list."""

    ref_id: int
    label: str
    score: float
    similarity: float
    skill_share: float
    shared_skills: tuple[str, ...]


def _skills(values: Iterable[str] | None) -> dict[str, str]:
    return {v.strip().casefold(): v.strip() for v in values or () if v and v.strip()}


def _vector(session: Session, tenant_id: str, kind: str, ref_id: int, model: str) -> np.ndarray:
    found = session.execute(
        stored_vectors(tenant_id, model).where(
            EmbeddingRow.kind == kind, EmbeddingRow.ref_id == ref_id
        )
    ).first()
    data = found.vector if found else None
    if data is None:
        raise NothingToMatch(
            f"{kind.replace('_', ' ')} {ref_id} has no embedding under {model}: materialize "
            "derived/embeddings for the day it arrived (ingest-pipeline run does)"
        )
    return np.frombuffer(data, dtype="<f4")


def _match(
    ref_id: int, label: str, similarity: float, wanted: dict[str, str], have: dict[str, str]
) -> Match:
    """One counterpart scored: ``wanted`` are the posting's skills, ``have`` the
    candidate's (both by case-folded name)."""
    shared = tuple(sorted(wanted[s] for s in wanted if s in have))
    share = len(shared) / len(wanted) if wanted else 0.0
    score = SIMILARITY_WEIGHT * similarity + SKILLS_WEIGHT * share
    return Match(ref_id, label, score, similarity, share, shared)


def _best(matches: list[Match], top: int) -> list[Match]:
    return sorted(matches, key=lambda m: (-m.score, m.ref_id))[:top]


def _tenant_of_posting(session: Session, posting: JobPostingRow) -> str:
    return session.get_one(Integration, posting.integration_id).tenant_id


def match_posting(session: Session, posting_id: int, model: str, *, top: int = 10) -> list[Match]:
    """The tenant's candidates ranked for posting ``posting_id``."""
    posting = session.get(JobPostingRow, posting_id)
    if posting is None:
        raise NothingToMatch(f"no job posting {posting_id}")
    tenant = _tenant_of_posting(session, posting)
    query = _vector(session, tenant, POSTING, posting_id, model)
    index = VectorIndex.load(session, tenant, model, kinds=[CANDIDATE])
    ids = index.ref_ids.tolist()
    candidates = {
        c.id: c for c in session.scalars(sa.select(Candidate).where(Candidate.id.in_(ids)))
    }
    wanted = _skills(posting.skills)
    matches = [
        _match(
            ref_id,
            c.name or c.email or c.candidate_key,
            similarity,
            wanted,
            _skills(c.skills),
        )
        for similarity, ref_id in zip(index.similarities(query).tolist(), ids, strict=True)
        if (c := candidates.get(ref_id)) is not None
    ]
    return _best(matches, top)


def match_candidate(
    session: Session, candidate_id: int, model: str, *, top: int = 10
) -> list[Match]:
    """The tenant's job postings ranked for candidate ``candidate_id``; the skill share is
    the share of each posting's skills the candidate lists."""
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise NothingToMatch(f"no candidate {candidate_id}")
    query = _vector(session, candidate.tenant_id, CANDIDATE, candidate_id, model)
    index = VectorIndex.load(session, candidate.tenant_id, model, kinds=[POSTING])
    ids = index.ref_ids.tolist()
    postings = {
        p.id: p for p in session.scalars(sa.select(JobPostingRow).where(JobPostingRow.id.in_(ids)))
    }
    mine = _skills(candidate.skills)
    matches = [
        _match(
            ref_id,
            f"{p.title or '?'} @ {p.company or '?'}",
            similarity,
            _skills(p.skills),
            mine,
        )
        for similarity, ref_id in zip(index.similarities(query).tolist(), ids, strict=True)
        if (p := postings.get(ref_id)) is not None
    ]
    return _best(matches, top)


def best_candidates_per_posting(
    session: Session, tenant_id: str, model: str, *, postings: int = 3
) -> list[tuple[int, str, Match]]:
    """For the tenant's first ``postings`` embedded postings with skills: (posting id,
    label, its best candidate) — the demo's closing table."""
    if postings <= 0:
        return []
    rows = session.execute(
        sa.select(JobPostingRow)
        .join(Integration, Integration.id == JobPostingRow.integration_id)
        .join(
            EmbeddingRow,
            sa.and_(
                EmbeddingRow.kind == POSTING,
                EmbeddingRow.ref_id == JobPostingRow.id,
                EmbeddingRow.model == model,
            ),
        )
        .where(Integration.tenant_id == tenant_id)
        .order_by(JobPostingRow.id)
    ).scalars()
    found = []
    for posting in rows:
        if not posting.skills:
            continue
        best = match_posting(session, posting.id, model, top=1)
        if best:
            label = f"{posting.title or '?'} @ {posting.company or '?'}"
            found.append((posting.id, label, best[0]))
        if len(found) == postings:
            break
    return found
