"""The text that stands for each message, job posting and candidate when embedded: what a
person searching or matching would read, the same for the same content."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ingest_pipeline.store.models import Candidate, JobPostingRow

MESSAGE_CHARS = 6_000
MESSAGE, POSTING, CANDIDATE = "message", "job_posting", "candidate"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _join(parts: Iterable[str | None]) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def message_text(subject: str, body: str) -> str:
    return _join([subject, body[:MESSAGE_CHARS]])


def posting_text(posting: JobPostingRow) -> str:
    where = ", ".join(x for x in (posting.company, posting.location) if x)
    return _join(
        [
            posting.title,
            where,
            "remote" if posting.remote else None,
            f"Skills: {', '.join(posting.skills)}" if posting.skills else None,
            posting.rate,
        ]
    )


def candidate_text(candidate: Candidate) -> str:
    return _join(
        [
            candidate.name,
            f"Wants: {', '.join(candidate.preferred_roles)}" if candidate.preferred_roles else None,
            candidate.summary,
            f"Skills: {', '.join(candidate.skills)}" if candidate.skills else None,
            candidate.location,
        ]
    )
