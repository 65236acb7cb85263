"""Embeddings of one mail partition: its messages, the job postings found in them and the
candidates who applied through them, each a vector from the configured embedder.

Vectors are cached by text hash and model (`EmbeddingVector`); each batch the embedder
returns is committed on its own before the next is asked for, so a failure later in the
run never pays for the same text twice. The partition's `EmbeddingRow`s then point each
record at its vector; a re-run with nothing new calls nothing and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.derive_inputs import DeriveInputs
from ingest_pipeline.derived.embedding_texts import (
    CANDIDATE,
    MESSAGE,
    POSTING,
    candidate_text,
    message_text,
    posting_text,
    text_hash,
)
from ingest_pipeline.extraction.embedders import Vector
from ingest_pipeline.store.ledger import PartitionKey, in_partition
from ingest_pipeline.store.models import (
    Candidate,
    EmbeddingRow,
    EmbeddingVector,
    IngestItem,
    JobApplicationRow,
    JobPostingRow,
    Message,
)
from ingest_pipeline.store.upsert import table_of, upsert

# Texts per embedder call whose vectors are committed together, for embedders that do not
# say how many they send per request (the offline one).
CHUNK = 256


@dataclass(frozen=True)
class EmbedTarget:
    """One record to embed: its kind, row id, and the text standing for it."""

    kind: str
    ref_id: int
    text: str

    @property
    def content_hash(self) -> str:
        return text_hash(self.text)


def partition_targets(inputs: DeriveInputs) -> list[EmbedTarget]:
    """The partition's messages, the postings found in them and their applicants."""
    session, integration = inputs.session, inputs.integration
    part = PartitionKey(integration_id=integration.id, day=inputs.day, stream="mail")
    messages = session.execute(
        sa.select(Message.id, Message.subject, Message.body_text)
        .join(IngestItem, IngestItem.id == Message.source_item_id)
        .where(in_partition(part))
        .order_by(Message.id)
    ).all()
    ids = [m.id for m in messages]
    targets = [EmbedTarget(MESSAGE, m.id, message_text(m.subject, m.body_text)) for m in messages]
    if not ids:
        return targets
    postings = session.scalars(
        sa.select(JobPostingRow).where(JobPostingRow.message_id.in_(ids)).order_by(JobPostingRow.id)
    )
    targets += [EmbedTarget(POSTING, p.id, posting_text(p)) for p in postings]
    candidates = session.scalars(
        sa.select(Candidate)
        .where(
            Candidate.id.in_(
                sa.select(JobApplicationRow.candidate_id).where(
                    JobApplicationRow.message_id.in_(ids)
                )
            )
        )
        .order_by(Candidate.id)
    )
    targets += [EmbedTarget(CANDIDATE, c.id, candidate_text(c)) for c in candidates]
    return [t for t in targets if t.text]


def vector_bytes(vector: Vector) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from(data: bytes) -> Vector:
    return np.frombuffer(data, dtype="<f4")


def cached_hashes(session: Session, model: str, hashes: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(hashes), 500):
        found.update(
            session.scalars(
                sa.select(EmbeddingVector.content_hash).where(
                    EmbeddingVector.model == model,
                    EmbeddingVector.content_hash.in_(hashes[start : start + 500]),
                )
            )
        )
    return found


def _store_vectors(
    session: Session, model: str, texts: dict[str, str], vectors: list[Vector]
) -> None:
    """Commit one batch of paid-for vectors on a connection of its own."""
    rows = [
        {"content_hash": h, "model": model, "dims": int(v.shape[0]), "vector": vector_bytes(v)}
        for h, v in zip(texts, vectors, strict=True)
    ]
    with Session(bind=session.get_bind()) as own:
        upsert(
            own,
            table_of(EmbeddingVector),
            rows,
            keys=("content_hash", "model"),
            update=(),
            id_column=None,
        )
        own.commit()


def derive_embeddings(inputs: DeriveInputs) -> Counter[str]:
    """Embed what the partition holds that has no vector under the embedder's model yet;
    returns ``embedded`` (texts sent), ``embedding_calls``, ``cache_hits`` and
    ``embeddings_inserted``/``_updated``."""
    targets = partition_targets(inputs)
    counts: Counter[str] = Counter()
    if not targets:
        return counts
    embedder = inputs.embedder
    model = embedder.label
    by_hash = {t.content_hash: t.text for t in targets}
    have = cached_hashes(inputs.session, model, list(by_hash))
    missing = [h for h in by_hash if h not in have]
    counts["cache_hits"] = len(by_hash) - len(missing)
    # One commit per round of concurrent requests: what the provider answered is kept even
    # when a later request fails the run.
    size = getattr(embedder, "batch_size", CHUNK) * getattr(embedder, "concurrency", 1)
    for start in range(0, len(missing), size):
        chunk = {h: by_hash[h] for h in missing[start : start + size]}
        vectors = embedder.embed(list(chunk.values()))
        _store_vectors(inputs.session, model, chunk, vectors)
        counts["embedded"] += len(chunk)
        counts["embedding_calls"] += 1
    stored = upsert(
        inputs.session,
        table_of(EmbeddingRow),
        [
            {
                "tenant_id": inputs.integration.tenant_id,
                "kind": t.kind,
                "ref_id": t.ref_id,
                "model": model,
                "content_hash": t.content_hash,
            }
            for t in targets
        ],
        keys=("tenant_id", "kind", "ref_id", "model"),
        id_column=None,
    )
    counts["embeddings_inserted"] = stored.inserted
    counts["embeddings_updated"] = stored.updated
    return counts
