"""Text to vectors: the offline lexical embedder, and the OpenAI embedder against the local
fake OpenAI server spoken to by the real ``openai`` client."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import openai
import pytest

from ingest_pipeline.extraction.embedders import (
    EmbeddingModel,
    LexicalEmbedder,
    OpenAIEmbedder,
    Vector,
    normalised,
    words,
)
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI, embed_text

pytestmark = pytest.mark.timeout(30)

SMALL = "text-embedding-3-small"
JAVA_POSTING = (
    "Senior Java developer for our Spring Boot microservices; REST APIs, PostgreSQL, Kafka."
)
JAVA_PROFILE = "Backend Java engineer, eight years of Spring Boot, Kafka and PostgreSQL."
RECIPE = "Whisk the eggs with sugar, fold in the flour and bake the cake for forty minutes."
TEXTS = [
    "Senior Python engineer wanted",
    "Bake the bread at 220 degrees",
    "Python and SQL engineer, remote",
    "Rust systems programmer, embedded firmware",
    "Data analyst with Excel and Tableau",
]


def cosine(a: Vector, b: Vector) -> float:
    return float(np.dot(a, b))


def norm(vector: Vector) -> float:
    return float(np.linalg.norm(vector))


# ---------------------------------------------------------------- the offline lexical embedder


def test_the_same_text_gets_the_identical_vector_from_any_lexical_embedder() -> None:
    first, second = LexicalEmbedder(), LexicalEmbedder()

    once = first.embed_one(JAVA_POSTING)
    assert np.array_equal(once, first.embed_one(JAVA_POSTING))
    assert np.array_equal(once, second.embed_one(JAVA_POSTING))
    assert all(
        np.array_equal(a, b) for a, b in zip(first.embed(TEXTS), second.embed(TEXTS), strict=True)
    )


def test_lexical_vectors_are_512_float32_values_of_unit_length() -> None:
    embedder = LexicalEmbedder()
    vectors = embedder.embed([JAVA_POSTING, RECIPE, "C++"])

    assert len(vectors) == 3
    for vector in vectors:
        assert vector.shape == (512,)
        assert vector.dtype == np.float32
        assert norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_the_lexical_label_says_it_is_offline_and_lexical() -> None:
    assert LexicalEmbedder().label.startswith("offline-lexical")
    assert LexicalEmbedder().label == "offline-lexical-hash-512-v1"
    smaller = LexicalEmbedder(dims=64)
    assert smaller.label.startswith("offline-lexical")
    assert smaller.label != LexicalEmbedder().label  # other vectors, other label
    assert smaller.embed_one(JAVA_POSTING).shape == (64,)


def test_texts_sharing_words_are_closer_than_unrelated_texts() -> None:
    posting, profile, recipe = LexicalEmbedder().embed([JAVA_POSTING, JAVA_PROFILE, RECIPE])

    assert cosine(posting, profile) > cosine(posting, recipe)
    assert cosine(posting, profile) > 0.2
    assert abs(cosine(posting, recipe)) < 0.15


def test_stopwords_alone_and_empty_text_give_a_zero_vector_without_nan() -> None:
    embedder = LexicalEmbedder()
    for text in ["the and of to with you", "", "   \n\t ", "!!! ... ---"]:
        vector = embedder.embed_one(text)
        assert vector.shape == (512,)
        assert not np.isnan(vector).any()
        assert norm(vector) == 0.0
    assert embedder.embed([]) == []


def test_case_and_punctuation_do_not_change_a_lexical_vector() -> None:
    embedder = LexicalEmbedder()
    assert np.array_equal(
        embedder.embed_one("Senior Python engineer wanted"),
        embedder.embed_one("SENIOR python, engineer ... wanted!"),
    )


def test_words_keeps_programming_language_names_whole() -> None:
    assert words("C++ and Node.js developers, C# too; ASP.NET or vue-router.") == [
        "c++",
        "node.js",
        "developers",
        "c#",
        "too",
        "asp.net",
        "vue-router",
    ]
    # The sentence's own full stop is not part of the word.
    assert words("We use Node.js.") == ["use", "node.js"]


def test_normalised_gives_unit_length_and_leaves_a_zero_vector_zero() -> None:
    unit = normalised([3.0, 4.0])
    assert unit.dtype == np.float32
    assert unit.tolist() == pytest.approx([0.6, 0.8])
    zero = normalised([0.0, 0.0, 0.0])
    assert zero.tolist() == [0.0, 0.0, 0.0]
    assert not np.isnan(zero).any()


# ---------------------------------------------------------------- through the OpenAI API


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server
    assert server.server_errors == []


def model_for(
    fake: FakeOpenAI, *, dimensions: int | None = None, max_retries: int = 0
) -> EmbeddingModel:
    return EmbeddingModel(
        name="openai-small",
        api_model=SMALL,
        base_url=fake.base_url,
        api_key="test",
        dimensions=dimensions,
        timeout_seconds=10.0,
        max_retries=max_retries,
    )


def expected(text: str, dimensions: int = 1536) -> Vector:
    return normalised(embed_text(text, dimensions))


def test_openai_embedder_returns_one_unit_vector_per_text_in_input_order(
    fake: FakeOpenAI,
) -> None:
    embedder = OpenAIEmbedder(model_for(fake))
    vectors = embedder.embed(TEXTS)

    assert len(vectors) == len(TEXTS)
    for text, vector in zip(TEXTS, vectors, strict=True):
        assert vector.shape == (1536,)
        assert vector.dtype == np.float32
        assert norm(vector) == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(vector, expected(text), atol=1e-6)
    [request] = fake.embedding_requests
    assert (request.model, request.inputs) == (SMALL, TEXTS)
    assert embedder.label == "openai-small"  # no dimensions asked: the model's own


def test_openai_embedder_sends_batches_and_keeps_the_input_order(fake: FakeOpenAI) -> None:
    embedder = OpenAIEmbedder(model_for(fake), batch_size=2, concurrency=3)
    vectors = embedder.embed(TEXTS)

    assert fake.embedding_stats.calls == 3
    sent = sorted(request.inputs for request in fake.embedding_requests)
    assert sent == sorted([TEXTS[0:2], TEXTS[2:4], TEXTS[4:5]])
    assert fake.embedding_stats.inputs == 5
    assert len(vectors) == 5
    for text, vector in zip(TEXTS, vectors, strict=True):
        np.testing.assert_allclose(vector, expected(text), atol=1e-6)


def test_openai_embedder_with_no_texts_sends_nothing(fake: FakeOpenAI) -> None:
    assert OpenAIEmbedder(model_for(fake)).embed([]) == []
    assert fake.embedding_stats.calls == 0


def test_asked_dimensions_give_vectors_that_long_and_a_label_saying_so(fake: FakeOpenAI) -> None:
    embedder = OpenAIEmbedder(model_for(fake, dimensions=64))
    vectors = embedder.embed(TEXTS[:2])

    assert embedder.label.endswith("@64")
    assert embedder.label == "openai-small@64"
    assert [v.shape for v in vectors] == [(64,), (64,)]
    for text, vector in zip(TEXTS[:2], vectors, strict=True):
        assert norm(vector) == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(vector, expected(text, 64), atol=1e-6)
    assert [request.dimensions for request in fake.embedding_requests] == [64]
    assert fake.embedding_requests[0].body["dimensions"] == 64


def test_the_dimensions_parameter_is_not_sent_when_not_configured(fake: FakeOpenAI) -> None:
    OpenAIEmbedder(model_for(fake)).embed(["hello"])
    assert "dimensions" not in fake.embedding_requests[0].body


def test_a_rate_limited_request_is_retried_by_the_client_and_succeeds(fake: FakeOpenAI) -> None:
    fake.faults.next.append("429")
    vectors = OpenAIEmbedder(model_for(fake, max_retries=2)).embed(TEXTS[:3])

    assert len(vectors) == 3
    for text, vector in zip(TEXTS[:3], vectors, strict=True):
        np.testing.assert_allclose(vector, expected(text), atol=1e-6)
    assert fake.embedding_stats.calls == 2
    assert fake.embedding_stats.ok == 1
    assert fake.embedding_stats.rate_limited == {"rate_limit_error": 1}


def test_a_rate_limit_without_retries_left_raises_rate_limit_error(fake: FakeOpenAI) -> None:
    fake.faults.next.append("429")
    with pytest.raises(openai.RateLimitError):
        OpenAIEmbedder(model_for(fake, max_retries=0)).embed(TEXTS[:2])
    assert fake.embedding_stats.calls == 1
    assert fake.embedding_stats.ok == 0


def test_an_empty_text_is_sent_as_a_space_and_gets_a_vector(fake: FakeOpenAI) -> None:
    vectors = OpenAIEmbedder(model_for(fake)).embed(["", "Python engineer", ""])

    assert [request.inputs for request in fake.embedding_requests] == [
        [" ", "Python engineer", " "]
    ]
    assert len(vectors) == 3
    assert all(norm(v) == pytest.approx(1.0, abs=1e-5) for v in vectors)
    assert not any(np.isnan(v).any() for v in vectors)
    np.testing.assert_allclose(vectors[1], expected("Python engineer"), atol=1e-6)
    assert fake.embedding_stats.ok == 1
