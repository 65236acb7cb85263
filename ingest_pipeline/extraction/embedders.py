"""Text to vectors: through any OpenAI-compatible ``/embeddings`` endpoint named in the models
registry, or offline with no key and no network.

Every vector is float32 and L2-normalised, so cosine similarity is a dot product. The
offline embedder is lexical (feature hashing of words and word pairs), not a language model:
no model ships inside a PyPI package we could install within the two commands (fastembed
and model2vec download their weights at run time, which this machine and an offline
deployment cannot), so it says what it is in its label, and texts that share words, not
meanings, are near.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

LEXICAL_DIMS = 512
LEXICAL_LABEL = f"offline-lexical-hash-{LEXICAL_DIMS}-v1"
_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*(?:[.\-][a-z0-9+#]+)*")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "this",
        "to",
        "we",
        "with",
        "you",
        "your",
        "will",
        "would",
        "can",
        "our",
        "us",
        "re",
        "fw",
        "fwd",
    ]
)


class Embedder(Protocol):
    """What embeds texts; ``label`` goes in the ``model`` column of every vector it made."""

    label: str

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        """One normalised vector per text, in order."""
        ...


def normalised(values: Sequence[float] | Vector) -> Vector:
    vector = np.asarray(values, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def words(text: str) -> list[str]:
    """The text's lower-cased words without stopwords (``c++``, ``node.js`` kept whole)."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


def _slot(feature: str, dims: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    number = int.from_bytes(digest, "little")
    return number % dims, (1.0 if number >> 63 else -1.0)


class LexicalEmbedder:
    """Feature hashing of words (weight 1) and adjacent word pairs (weight 0.5), with
    sublinear term frequency; deterministic, offline, labelled ``offline-lexical-…``."""

    def __init__(self, dims: int = LEXICAL_DIMS) -> None:
        self.dims = dims
        self.label = LEXICAL_LABEL if dims == LEXICAL_DIMS else f"offline-lexical-hash-{dims}-v1"

    def embed_one(self, text: str) -> Vector:
        tokens = words(text)
        features: Counter[str] = Counter(tokens)
        pairs = Counter(f"{a} {b}" for a, b in itertools.pairwise(tokens))
        vector = np.zeros(self.dims, dtype=np.float32)
        for table, weight in ((features, 1.0), (pairs, 0.5)):
            for feature, count in table.items():
                index, sign = _slot(feature, self.dims)
                vector[index] += sign * weight * (1.0 + math.log(count))
        return normalised(vector)

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        return [self.embed_one(t) for t in texts]


@dataclass(frozen=True)
class EmbeddingModel:
    """An embeddings model of the registry as the client needs it."""

    name: str
    api_model: str
    base_url: str | None
    api_key: str
    dimensions: int | None = None
    timeout_seconds: float = 60.0
    max_retries: int = 5


class OpenAIEmbedder:
    """Embeddings through the official openai client (its retries honour 429 Retry-After
    and 5xx), ``batch_size`` texts per request, ``concurrency`` requests in flight."""

    def __init__(
        self, model: EmbeddingModel, *, batch_size: int = 256, concurrency: int = 4
    ) -> None:
        import openai

        self.model = model
        self.batch_size = max(1, min(batch_size, 2048))
        self.concurrency = max(1, concurrency)
        suffix = f"@{model.dimensions}" if model.dimensions else ""
        self.label = f"{model.name}{suffix}"
        self.client = openai.OpenAI(
            api_key=model.api_key,
            base_url=model.base_url,
            timeout=model.timeout_seconds,
            max_retries=model.max_retries,
        )

    def _batch(self, texts: Sequence[str]) -> list[Vector]:
        import openai

        # Empty inputs are refused by the API; a single space embeds "nothing".
        response = self.client.embeddings.create(
            model=self.model.api_model,
            input=[t or " " for t in texts],
            dimensions=self.model.dimensions if self.model.dimensions else openai.omit,
        )
        ordered = sorted(response.data, key=lambda d: d.index)
        if len(ordered) != len(texts):
            raise ValueError(
                f"{self.model.name}: {len(ordered)} embeddings for {len(texts)} inputs"
            )
        return [normalised(d.embedding) for d in ordered]

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        if len(batches) <= 1:
            return self._batch(batches[0]) if batches else []
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return [v for vectors in pool.map(self._batch, batches) for v in vectors]
