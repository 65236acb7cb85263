"""The keywords a mail listing searches for follow the tenant's candidates."""

from __future__ import annotations

from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.models import Candidate
from ingest_pipeline.store.search_keywords import tenant_keywords


def add(url: str, key: str, *, tenant: str = "acme", roles=None, skills=()) -> None:  # type: ignore[no-untyped-def]
    with session_scope(url) as session:
        session.add(
            Candidate(
                tenant_id=tenant,
                candidate_key=key,
                phones=[],
                skills=list(skills),
                links=[],
                preferred_roles=roles,
            )
        )


def test_most_wanted_roles_first_then_skills_of_candidates_without_roles(db_url: str) -> None:
    add(db_url, "a", roles=["Data Engineer", "ML Engineer"])
    add(db_url, "b", roles=["data  engineer"])
    add(db_url, "c", roles=[], skills=["Rust"])
    add(db_url, "d", roles=["Designer"], tenant="other")

    with session_scope(db_url) as session:
        assert tenant_keywords(session, "acme") == ["Data Engineer", "ML Engineer", "Rust"]
        assert tenant_keywords(session, "acme", limit=1) == ["Data Engineer"]
        assert tenant_keywords(session, "other") == ["Designer"]
        assert tenant_keywords(session, "nobody") == []

    add(db_url, "e", roles=["Rust", "rust developer"])
    add(db_url, "f", roles=["Rust"])
    with session_scope(db_url) as session:
        assert tenant_keywords(session, "acme")[0] == "Rust"  # refreshed on every call
