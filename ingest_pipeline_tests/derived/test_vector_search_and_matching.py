"""Search over a tenant's stored vectors, and candidate <-> job posting matching, on SQLite
and Postgres, with rows stored as the embeddings asset stores them (lexical vectors)."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.embedding_texts import (
    CANDIDATE,
    MESSAGE,
    POSTING,
    candidate_text,
    message_text,
    posting_text,
    text_hash,
)
from ingest_pipeline.derived.embeddings import vector_bytes
from ingest_pipeline.derived.matching import (
    SIMILARITY_WEIGHT,
    SKILLS_WEIGHT,
    NothingToMatch,
    best_candidates_per_posting,
    match_candidate,
    match_posting,
)
from ingest_pipeline.derived.vector_search import Hit, VectorIndex, search
from ingest_pipeline.extraction.embedders import LexicalEmbedder, Vector
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import add_integration
from ingest_pipeline.store.models import (
    Candidate,
    EmbeddingRow,
    EmbeddingVector,
    IngestItem,
    Integration,
    JobPostingRow,
    LlmExtraction,
    Message,
)

EMBEDDER = LexicalEmbedder()
MODEL = EMBEDDER.label
DAY = dt.date(2024, 3, 5)
_serial = itertools.count(1)


# ---------------------------------------------------------------- rows


def integration(session: Session, tenant: str = "acme") -> Integration:
    return add_integration(
        session,
        provider="mailbox",
        account=f"/mail/{tenant}.mbox",
        task="job_posting",
        tenant_id=tenant,
    )


def message(session: Session, where: Integration, subject: str, body: str = "") -> Message:
    n = next(_serial)
    item = IngestItem(
        integration_id=where.id, stream="mail", external_id=f"item-{n}", partition_day=DAY
    )
    session.add(item)
    session.flush()
    row = Message(
        integration_id=where.id,
        message_key=f"<msg-{n}@example.org>",
        source_item_id=item.id,
        subject=subject,
        sender_email="recruiter@example.org",
        recipients=["jane@example.org"],
        body_text=body,
        has_html=False,
        defects=[],
        content_hash=text_hash(f"{n}:{subject}"),
    )
    session.add(row)
    session.flush()
    return row


def posting(
    session: Session,
    where: Integration,
    title: str | None,
    company: str | None,
    skills: list[str],
    location: str | None = None,
) -> JobPostingRow:
    n = next(_serial)
    carrier = message(session, where, f"Role: {title}")
    extraction = LlmExtraction(
        content_hash=text_hash(f"extraction-{n}"),
        task="job_posting",
        model="gpt-4o-mini",
        prompt_version="v1",
        result={"title": title},
    )
    session.add(extraction)
    session.flush()
    row = JobPostingRow(
        integration_id=where.id,
        message_id=carrier.id,
        extraction_id=extraction.id,
        title=title,
        company=company,
        location=location,
        remote=None,
        skills=skills,
        confidence=0.9,
    )
    session.add(row)
    session.flush()
    return row


def candidate(
    session: Session,
    tenant: str,
    name: str | None,
    skills: list[str],
    summary: str | None = None,
    email: str | None = None,
) -> Candidate:
    email = email or f"{(name or 'someone').split()[0].lower()}{next(_serial)}@example.org"
    row = Candidate(
        tenant_id=tenant,
        candidate_key=email,
        name=name,
        email=email,
        phones=[],
        skills=skills,
        links=[],
        summary=summary,
    )
    session.add(row)
    session.flush()
    return row


def embed(
    session: Session, tenant: str, kind: str, ref_id: int, text: str, model: str = MODEL
) -> Vector:
    """Store the text's vector (once per text and model) and point the record at it."""
    vector = EMBEDDER.embed_one(text)
    digest = text_hash(text)
    if session.get(EmbeddingVector, (digest, model)) is None:
        session.add(
            EmbeddingVector(
                content_hash=digest, model=model, dims=vector.shape[0], vector=vector_bytes(vector)
            )
        )
    session.add(
        EmbeddingRow(tenant_id=tenant, kind=kind, ref_id=ref_id, model=model, content_hash=digest)
    )
    session.flush()
    return vector


def embed_message(session: Session, tenant: str, row: Message) -> Vector:
    return embed(session, tenant, MESSAGE, row.id, message_text(row.subject, row.body_text))


def embed_posting(session: Session, tenant: str, row: JobPostingRow) -> Vector:
    return embed(session, tenant, POSTING, row.id, posting_text(row))


def embed_candidate(session: Session, row: Candidate) -> Vector:
    return embed(session, row.tenant_id, CANDIDATE, row.id, candidate_text(row))


def query(text: str) -> Vector:
    return EMBEDDER.embed_one(text)


# ---------------------------------------------------------------- search


def test_nearest_returns_the_k_most_similar_best_first(db_url: str) -> None:
    texts = {
        "Java developer": "Senior Java developer, Spring Boot microservices and Kafka",
        "Python role": "Python engineer for data pipelines with Airflow",
        "Lunch": "Lunch on Friday? The new pizza place near the office",
        "Java contract": "Java Spring contract, six months, remote",
    }
    with session_scope(db_url) as session:
        where = integration(session)
        vectors = {}
        for subject, body in texts.items():
            row = message(session, where, subject, body)
            vectors[row.id] = embed_message(session, "acme", row)

    asked = query("Java Spring Boot developer")
    expected = sorted(vectors, key=lambda i: -float(vectors[i] @ asked))
    with session_scope(db_url) as session:
        index = VectorIndex.load(session, "acme", MODEL)
        assert len(index) == 4
        two = index.nearest(asked, k=2)
        everything = index.nearest(asked, k=50)

    assert [h.ref_id for h in two] == expected[:2]
    assert [h.ref_id for h in everything] == expected  # k beyond the size: all of them
    scores = [h.score for h in everything]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 0.3
    for hit in everything:
        assert hit.kind == MESSAGE
        assert hit.score == pytest.approx(float(vectors[hit.ref_id] @ asked), abs=1e-5)


def test_search_labels_each_hit_as_a_person_would_recognise_it(db_url: str) -> None:
    with session_scope(db_url) as session:
        where = integration(session)
        mail = message(session, where, "Java role at Acme", "Java developer wanted")
        embed_message(session, "acme", mail)
        job = posting(session, where, "Java Developer", "Acme", ["Java"])
        embed_posting(session, "acme", job)
        nameless_job = posting(session, where, "Java Lead", None, ["Java"])
        embed_posting(session, "acme", nameless_job)
        ann = candidate(session, "acme", "Ann Example", ["Java"], "Java developer")
        embed_candidate(session, ann)
        anonymous = candidate(
            session, "acme", None, ["Java"], "Java developer", email="anon@example.org"
        )
        embed_candidate(session, anonymous)
        ids = (mail.id, job.id, nameless_job.id, ann.id, anonymous.id)

    with session_scope(db_url) as session:
        hits = search(session, "acme", MODEL, query("Java developer"), k=10)

    labels = {(h.kind, h.ref_id): h.label for h in hits}
    assert labels == {
        (MESSAGE, ids[0]): "Java role at Acme",
        (POSTING, ids[1]): "Java Developer @ Acme",
        (POSTING, ids[2]): "Java Lead @ ?",
        (CANDIDATE, ids[3]): "Ann Example",
        (CANDIDATE, ids[4]): "anon@example.org",
    }
    assert all(isinstance(h, Hit) for h in hits)


def test_a_hit_whose_record_is_gone_is_labelled_gone(db_url: str) -> None:
    with session_scope(db_url) as session:
        ann = candidate(session, "acme", "Ann Example", ["Java"], "Java developer")
        embed_candidate(session, ann)
    with session_scope(db_url) as session:
        session.execute(sa.delete(Candidate).where(Candidate.id == ann.id))

    with session_scope(db_url) as session:
        [hit] = search(session, "acme", MODEL, query("Java developer"))
    assert (hit.kind, hit.ref_id, hit.label) == (CANDIDATE, ann.id, "(gone)")


def test_search_returns_only_the_kinds_asked_for(db_url: str) -> None:
    with session_scope(db_url) as session:
        where = integration(session)
        mail = message(session, where, "Java developer", "Java developer wanted")
        embed_message(session, "acme", mail)
        job = posting(session, where, "Java Developer", "Acme", ["Java"])
        embed_posting(session, "acme", job)
        ann = candidate(session, "acme", "Ann Example", ["Java"], "Java developer")
        embed_candidate(session, ann)

    asked = query("Java developer")
    with session_scope(db_url) as session:
        people = search(session, "acme", MODEL, asked, kinds=[CANDIDATE])
        jobs_and_mail = search(session, "acme", MODEL, asked, kinds=[POSTING, MESSAGE])
        everything = search(session, "acme", MODEL, asked)

    assert [(h.kind, h.ref_id) for h in people] == [(CANDIDATE, ann.id)]
    assert {(h.kind, h.ref_id) for h in jobs_and_mail} == {(POSTING, job.id), (MESSAGE, mail.id)}
    assert {h.kind for h in everything} == {MESSAGE, POSTING, CANDIDATE}


def test_another_tenants_vectors_are_never_returned(db_url: str) -> None:
    text = "Java developer, Spring Boot"
    with session_scope(db_url) as session:
        ours = integration(session, "acme")
        theirs = integration(session, "globex")
        mine = message(session, ours, "Java developer", "Spring Boot")
        embed_message(session, "acme", mine)
        # The other tenant holds the very same text (one shared vector) and more.
        for subject in ["Java developer", "Java developer, again", "Senior Java developer"]:
            other = message(session, theirs, subject, "Spring Boot")
            embed_message(session, "globex", other)
        rival = candidate(session, "globex", "Gus Globex", ["Java"], text)
        embed_candidate(session, rival)
        own_ids = {mine.id}

    with session_scope(db_url) as session:
        hits = search(session, "acme", MODEL, query(text), k=100)
        theirs_hits = search(session, "globex", MODEL, query(text), k=100)

    assert {h.ref_id for h in hits} == own_ids
    assert [h.kind for h in hits] == [MESSAGE]
    assert len(theirs_hits) == 4
    assert not own_ids & {h.ref_id for h in theirs_hits if h.kind == MESSAGE}


def test_vectors_of_another_model_are_not_searched(db_url: str) -> None:
    with session_scope(db_url) as session:
        where = integration(session)
        mail = message(session, where, "Java developer", "Spring Boot")
        embed_message(session, "acme", mail)
        other = message(session, where, "Java developer too", "Spring Boot")
        embed(session, "acme", MESSAGE, other.id, "Java developer too", model="other-model")

    with session_scope(db_url) as session:
        hits = search(session, "acme", MODEL, query("Java developer"))
        other_hits = search(session, "acme", "other-model", query("Java developer"))
    assert [h.ref_id for h in hits] == [mail.id]
    assert [h.ref_id for h in other_hits] == [other.id]


def test_a_query_of_the_wrong_dimension_is_refused_with_a_clear_message(db_url: str) -> None:
    with session_scope(db_url) as session:
        where = integration(session)
        embed_message(session, "acme", message(session, where, "Java developer", "Spring"))

    short = LexicalEmbedder(dims=64).embed_one("Java developer")
    with session_scope(db_url) as session:
        with pytest.raises(ValueError, match="the query has 64 dimensions, the stored vectors 512"):
            search(session, "acme", MODEL, short)
        with pytest.raises(ValueError, match="embed it with the model that made them"):
            VectorIndex.load(session, "acme", MODEL).nearest(short)


def test_a_tenant_without_vectors_finds_nothing(db_url: str) -> None:
    with session_scope(db_url) as session:
        where = integration(session, "acme")
        embed_message(session, "acme", message(session, where, "Java developer", "Spring"))

    with session_scope(db_url) as session:
        assert search(session, "empty-tenant", MODEL, query("Java developer")) == []
        index = VectorIndex.load(session, "empty-tenant", MODEL)
        assert len(index) == 0
        assert index.nearest(query("Java developer")) == []


# ---------------------------------------------------------------- matching


def recruiting(session: Session) -> dict[str, int]:
    """Two postings and three candidates of tenant acme, one candidate of globex; all
    embedded. Returns their ids by name."""
    where = integration(session, "acme")
    java = posting(
        session,
        where,
        "Senior Java Developer",
        "Acme",
        ["Java", "Spring Boot", "PostgreSQL", "Kafka"],
    )
    python = posting(session, where, "Python Data Engineer", "Acme", ["Python", "Airflow", "SQL"])
    alice = candidate(
        session,
        "acme",
        "Alice Java",
        ["java", "SPRING BOOT", " PostgreSQL ", "Docker"],
        "Senior Java developer, Spring Boot microservices",
    )
    bob = candidate(
        session,
        "acme",
        "Bob Python",
        ["Python", "Django", "postgresql", "SQL"],
        "Python developer, Django web apps and SQL",
    )
    carol = candidate(session, "acme", "Carol Chef", ["Baking"], "Pastry chef, French cakes")
    greg = candidate(
        session,
        "globex",
        "Greg Globex",
        ["Java", "Spring Boot", "PostgreSQL", "Kafka"],
        "Senior Java developer, Spring Boot, PostgreSQL, Kafka",
    )
    for row in (java, python):
        embed_posting(session, "acme", row)
    for person in (alice, bob, carol, greg):
        embed_candidate(session, person)
    return {
        "integration": where.id,
        "java": java.id,
        "python": python.id,
        "alice": alice.id,
        "bob": bob.id,
        "carol": carol.id,
        "greg": greg.id,
    }


def stored_vector(session: Session, kind: str, ref_id: int) -> Vector:
    data = session.scalar(
        sa.select(EmbeddingVector.vector)
        .join(EmbeddingRow, EmbeddingRow.content_hash == EmbeddingVector.content_hash)
        .where(EmbeddingRow.kind == kind, EmbeddingRow.ref_id == ref_id)
    )
    assert data is not None
    return np.frombuffer(data, dtype="<f4")


def test_the_candidate_with_most_shared_skills_and_similar_text_ranks_first(db_url: str) -> None:
    with session_scope(db_url) as session:
        ids = recruiting(session)
    with session_scope(db_url) as session:
        matches = match_posting(session, ids["java"], MODEL)

    assert [m.ref_id for m in matches] == [ids["alice"], ids["bob"], ids["carol"]]
    assert [m.label for m in matches] == ["Alice Java", "Bob Python", "Carol Chef"]
    alice, bob, carol = matches
    # The posting's spelling of each skill both list, however the candidate wrote it.
    assert alice.shared_skills == ("Java", "PostgreSQL", "Spring Boot")
    assert bob.shared_skills == ("PostgreSQL",)
    assert carol.shared_skills == ()
    assert (alice.skill_share, bob.skill_share, carol.skill_share) == (0.75, 0.25, 0.0)
    assert alice.similarity > bob.similarity > carol.similarity
    assert alice.score > bob.score > carol.score


def test_the_score_blends_similarity_and_skill_share(db_url: str) -> None:
    with session_scope(db_url) as session:
        ids = recruiting(session)
    with session_scope(db_url) as session:
        matches = match_posting(session, ids["java"], MODEL)
        wanted = stored_vector(session, POSTING, ids["java"])
        have = {m.ref_id: stored_vector(session, CANDIDATE, m.ref_id) for m in matches}

    assert (SIMILARITY_WEIGHT, SKILLS_WEIGHT) == (0.6, 0.4)
    for match in matches:
        similarity = float(wanted @ have[match.ref_id])
        assert match.similarity == pytest.approx(similarity, abs=1e-5)
        assert match.score == pytest.approx(0.6 * similarity + 0.4 * match.skill_share, abs=1e-5)
    assert matches[0].skill_share == 3 / 4


def test_matching_never_offers_another_tenants_candidates(db_url: str) -> None:
    with session_scope(db_url) as session:
        ids = recruiting(session)
    with session_scope(db_url) as session:
        matches = match_posting(session, ids["java"], MODEL, top=50)
    # Greg of globex would fit best (all four skills), but is not acme's to offer.
    assert ids["greg"] not in {m.ref_id for m in matches}
    assert len(matches) == 3


def test_top_limits_the_number_of_matches(db_url: str) -> None:
    with session_scope(db_url) as session:
        ids = recruiting(session)
    with session_scope(db_url) as session:
        [best] = match_posting(session, ids["java"], MODEL, top=1)
        two = match_posting(session, ids["java"], MODEL, top=2)
    assert best.ref_id == ids["alice"]
    assert [m.ref_id for m in two] == [ids["alice"], ids["bob"]]


def test_matching_a_candidate_ranks_postings_with_the_same_scores(db_url: str) -> None:
    with session_scope(db_url) as session:
        ids = recruiting(session)
    with session_scope(db_url) as session:
        for_alice = match_candidate(session, ids["alice"], MODEL)
        for_bob = match_candidate(session, ids["bob"], MODEL)
        for_java = {m.ref_id: m for m in match_posting(session, ids["java"], MODEL)}
        for_python = {m.ref_id: m for m in match_posting(session, ids["python"], MODEL)}

    assert [m.ref_id for m in for_alice] == [ids["java"], ids["python"]]
    assert [m.label for m in for_alice] == [
        "Senior Java Developer @ Acme",
        "Python Data Engineer @ Acme",
    ]
    assert [m.ref_id for m in for_bob] == [ids["python"], ids["java"]]
    # The skill share is the share of each posting's skills the candidate lists.
    assert for_bob[0].shared_skills == ("Python", "SQL")
    assert for_bob[0].skill_share == pytest.approx(2 / 3)
    # Seen from either side, a pair scores the same.
    for mine, from_posting in [
        (for_alice[0], for_java[ids["alice"]]),
        (for_alice[1], for_python[ids["alice"]]),
        (for_bob[0], for_python[ids["bob"]]),
        (for_bob[1], for_java[ids["bob"]]),
    ]:
        assert mine.similarity == pytest.approx(from_posting.similarity, abs=1e-6)
        assert mine.skill_share == from_posting.skill_share
        assert mine.shared_skills == from_posting.shared_skills
        assert mine.score == pytest.approx(from_posting.score, abs=1e-6)


def test_a_posting_without_an_embedding_says_to_materialize_the_embeddings(db_url: str) -> None:
    with session_scope(db_url) as session:
        ids = recruiting(session)
        fresh = posting(
            session,
            session.get_one(Integration, ids["integration"]),
            "Go Developer",
            "Acme",
            ["Go"],
        )
        fresh_id = fresh.id
        newcomer = candidate(session, "acme", "Nina New", ["Go"], "Go developer").id

    with session_scope(db_url) as session:
        with pytest.raises(NothingToMatch, match="materialize derived/embeddings") as caught:
            match_posting(session, fresh_id, MODEL)
        assert f"job posting {fresh_id} has no embedding under {MODEL}" in str(caught.value)
        with pytest.raises(NothingToMatch, match=f"candidate {newcomer} has no embedding"):
            match_candidate(session, newcomer, MODEL)
        with pytest.raises(NothingToMatch, match="materialize derived/embeddings"):
            match_posting(session, ids["java"], "some-other-model")


def test_unknown_postings_and_candidates_are_nothing_to_match(db_url: str) -> None:
    with session_scope(db_url) as session:
        recruiting(session)
    with session_scope(db_url) as session:
        with pytest.raises(NothingToMatch, match="no job posting 9999"):
            match_posting(session, 9999, MODEL)
        with pytest.raises(NothingToMatch, match="no candidate 9999"):
            match_candidate(session, 9999, MODEL)
    assert issubclass(NothingToMatch, LookupError)


def test_a_posting_with_no_candidates_embedded_has_no_matches(db_url: str) -> None:
    with session_scope(db_url) as session:
        where = integration(session, "acme")
        job = posting(session, where, "Java Developer", "Acme", ["Java"])
        embed_posting(session, "acme", job)
    with session_scope(db_url) as session:
        assert match_posting(session, job.id, MODEL) == []


# ---------------------------------------------------------------- best candidates per posting


def test_best_candidates_per_posting_skips_postings_without_skills_and_stops_at_n(
    db_url: str,
) -> None:
    with session_scope(db_url) as session:
        ids = recruiting(session)
        where = session.get_one(Integration, ids["integration"])
        no_skills = posting(session, where, "Office Manager", "Acme", [])
        embed_posting(session, "acme", no_skills)
        rust = posting(session, where, "Rust Engineer", "Acme", ["Rust"])
        embed_posting(session, "acme", rust)
        not_embedded = posting(session, where, "Go Developer", "Acme", ["Go"])
        skipped = {no_skills.id, not_embedded.id}

    with session_scope(db_url) as session:
        two = best_candidates_per_posting(session, "acme", MODEL, postings=2)
        many = best_candidates_per_posting(session, "acme", MODEL, postings=10)
        other_tenant = best_candidates_per_posting(session, "globex", MODEL)

    assert [(pid, label) for pid, label, _ in two] == [
        (ids["java"], "Senior Java Developer @ Acme"),
        (ids["python"], "Python Data Engineer @ Acme"),
    ]
    assert [best.ref_id for _, _, best in two] == [ids["alice"], ids["bob"]]
    assert [pid for pid, _, _ in many] == [ids["java"], ids["python"], rust.id]
    assert not skipped & {pid for pid, _, _ in many}
    assert other_tenant == []
