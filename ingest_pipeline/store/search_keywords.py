"""Keywords that narrow a mail listing to what a tenant recruits for.

The seeds searched each mailbox for the roles the tenant's candidates want. An integration
with the ``keyword_search`` option gets, at the start of every run, the tenant's most
common ``preferred_roles`` (or, for candidates without any, their skills), so the listing
follows the candidates as they change.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.models import Candidate

KEYWORD_SEARCH_OPTION = "keyword_search"
DEFAULT_KEYWORD_LIMIT = 10


def tenant_keywords(
    session: Session, tenant_id: str, *, limit: int = DEFAULT_KEYWORD_LIMIT
) -> list[str]:
    """The ``limit`` roles (else skills) most often wanted by the tenant's candidates, most
    common first, ties alphabetical; case-insensitive, in the case first seen."""
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    rows = session.execute(
        sa.select(Candidate.preferred_roles, Candidate.skills).where(
            Candidate.tenant_id == tenant_id
        )
    )
    for roles, skills in rows:
        for value in roles or skills or []:
            if not isinstance(value, str) or not value.strip():
                continue
            text = " ".join(value.split())
            counts[text.lower()] += 1
            spelling.setdefault(text.lower(), text)
    ranked = sorted(counts, key=lambda key: (-counts[key], key))
    return [spelling[key] for key in ranked[:limit]]
