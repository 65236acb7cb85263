"""The fake OpenAI's ``POST /v1/embeddings`` against the real ``openai`` client."""

from __future__ import annotations

import array
import base64
import math
import time
from collections.abc import Iterator
from typing import Any

import bpe_openai
import httpx
import openai
import pytest

from ingest_pipeline_tests.fakes.openai_embeddings import cosine_similarity
from ingest_pipeline_tests.fakes.openai_server import (
    EmbeddingStats,
    FakeOpenAI,
    RateLimit,
    embed_text,
)

pytestmark = pytest.mark.timeout(20)

SMALL = "text-embedding-3-small"
TEXTS = [
    "Senior Python engineer wanted",
    "Bake the bread at 220 degrees",
    "Python and SQL engineer, remote",
]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server
    assert server.server_errors == []


def client_for(
    fake: FakeOpenAI, *, key: str = "test", max_retries: int = 0, timeout: float = 5.0
) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=key, base_url=fake.base_url, max_retries=max_retries, timeout=timeout
    )


def vectors(client: openai.OpenAI, texts: Any, **extra: Any) -> list[list[float]]:
    response = client.embeddings.create(model=SMALL, input=texts, **extra)
    return [item.embedding for item in response.data]


# -- the wire format -------------------------------------------------------------------------


def test_three_texts_give_three_vectors_in_order_base64_by_default(fake: FakeOpenAI) -> None:
    response = client_for(fake).embeddings.create(model=SMALL, input=TEXTS)

    assert response.object == "list"
    assert response.model == SMALL
    assert [item.index for item in response.data] == [0, 1, 2]
    assert {item.object for item in response.data} == {"embedding"}
    assert [len(item.embedding) for item in response.data] == [1536] * 3
    assert [item.embedding for item in response.data] == [embed_text(t, 1536) for t in TEXTS]
    for item in response.data:
        assert math.isclose(math.fsum(x * x for x in item.embedding), 1.0, abs_tol=1e-5)

    [request] = fake.embedding_requests
    assert request.encoding_format == "base64"  # what the client asks for when not told
    assert (request.model, request.inputs, request.dimensions) == (SMALL, TEXTS, 1536)
    assert fake.embedding_stats.calls == fake.embedding_stats.ok == 1
    assert fake.embedding_stats.inputs == 3
    assert fake.stats.chat_calls == 0
    assert fake.stats.status_counts == {200: 1}


def test_float_and_explicit_base64_encode_the_same_float32_vectors(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    default = vectors(client, TEXTS)
    as_floats = vectors(client, TEXTS, encoding_format="float")
    raw = client.embeddings.create(model=SMALL, input=TEXTS, encoding_format="base64")

    assert as_floats == default
    encoded = [item.embedding for item in raw.data]
    assert all(isinstance(item, str) for item in encoded)
    decoded = [array.array("f", base64.b64decode(str(item))).tolist() for item in encoded]
    assert decoded == default
    assert [r.encoding_format for r in fake.embedding_requests] == ["base64", "float", "base64"]


def test_dimensions_and_model_defaults(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    [short] = vectors(client, "Python engineer", dimensions=64)
    assert len(short) == 64
    assert math.isclose(math.fsum(x * x for x in short), 1.0, abs_tol=1e-5)
    assert short == embed_text("Python engineer", 64)

    large = client.embeddings.create(model="text-embedding-3-large", input="x")
    other = client.embeddings.create(model="some-local-embedder", input="x")
    assert len(large.data[0].embedding) == 3072
    assert len(other.data[0].embedding) == 256
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=64)
    assert caught.value.param == "dimensions"
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=SMALL, input="x", dimensions=4096)


def test_vectors_are_deterministic_and_shared_words_are_closer(fake: FakeOpenAI) -> None:
    engineer, bread, remote_engineer = vectors(client_for(fake), TEXTS)
    [again] = vectors(client_for(fake), TEXTS[0])

    assert again == engineer
    assert cosine_similarity(engineer, remote_engineer) > 0.3
    assert cosine_similarity(engineer, remote_engineer) > cosine_similarity(engineer, bread)
    assert abs(cosine_similarity(engineer, bread)) < 0.2
    # Case and punctuation do not matter: only the words do.
    [shouted] = vectors(client_for(fake), "SENIOR python engineer... WANTED!")
    assert shouted == engineer


def test_token_id_inputs_embed_like_their_text(fake: FakeOpenAI) -> None:
    cl100k = bpe_openai.get_encoding("cl100k_base")
    ids = [cl100k.encode_ordinary(text) for text in TEXTS]
    client = client_for(fake)

    assert vectors(client, ids) == vectors(client, TEXTS)
    assert vectors(client, ids[0]) == vectors(client, TEXTS[:1])
    assert fake.embedding_requests[0].inputs == TEXTS


def test_usage_counts_the_inputs_tokens(fake: FakeOpenAI) -> None:
    response = client_for(fake).embeddings.create(model=SMALL, input=TEXTS)

    cl100k = bpe_openai.get_encoding("cl100k_base")
    expected = sum(len(cl100k.encode_ordinary(text)) for text in TEXTS)
    assert response.usage.prompt_tokens == expected > 0
    assert response.usage.total_tokens == expected
    assert fake.embedding_stats.prompt_tokens == expected
    assert fake.embedding_stats.tokens_charged == expected


def test_raw_response_carries_a_request_id(fake: FakeOpenAI) -> None:
    raw = client_for(fake).embeddings.with_raw_response.create(model=SMALL, input="hello")
    assert raw.status_code == 200
    assert raw.headers["x-request-id"].startswith("req_")
    assert len(raw.parse().data) == 1


# -- errors ----------------------------------------------------------------------------------


def test_invalid_inputs_are_400s_and_not_recorded(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input="")
    assert "'$.input' is invalid" in caught.value.message
    assert caught.value.type == "invalid_request_error"
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=SMALL, input=["fine", ""])
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=SMALL, input=[])
    with pytest.raises(openai.BadRequestError) as too_many:
        client.embeddings.create(model=SMALL, input=["word"] * 2049)
    assert "2048" in too_many.value.message
    with pytest.raises(openai.BadRequestError) as bad_format:
        client.embeddings.create(model=SMALL, input="x", encoding_format="int8")  # type: ignore[arg-type]
    assert bad_format.value.param == "encoding_format"

    assert fake.embedding_requests == []
    assert fake.embedding_stats.calls == 5
    assert fake.stats.status_counts == {400: 5}
    assert len(vectors(client, ["word"] * 2048, dimensions=8)) == 2048  # the limit is fine


def test_a_bad_key_is_an_authentication_error() -> None:
    with FakeOpenAI(api_keys={"sk-good"}) as fake:
        assert len(vectors(client_for(fake, key="sk-good"), "hello")) == 1
        with pytest.raises(openai.AuthenticationError) as caught:
            vectors(client_for(fake, key="sk-wrong-key"), "hello")
        anonymous = httpx.post(f"{fake.base_url}/embeddings", json={"model": SMALL, "input": "x"})

    assert "Incorrect API key provided" in caught.value.message
    assert anonymous.status_code == 401
    assert anonymous.headers["x-request-id"].startswith("req_")
    assert fake.embedding_stats.calls == 1


# -- faults, limits and latency --------------------------------------------------------------


def test_429_fault_raises_without_retries_and_is_retried_with_one(fake: FakeOpenAI) -> None:
    fake.faults.next.append("429")
    with pytest.raises(openai.RateLimitError) as caught:
        vectors(client_for(fake), TEXTS)
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.code == "rate_limit_exceeded"
    assert fake.embedding_stats.calls == 1

    fake.embedding_stats = EmbeddingStats()
    fake.faults.next.append("429")
    started = time.monotonic()
    result = vectors(client_for(fake, max_retries=1), TEXTS)
    elapsed = time.monotonic() - started

    assert len(result) == 3
    assert fake.embedding_stats.calls == 2
    assert fake.embedding_stats.ok == 1
    assert fake.embedding_stats.rate_limited == {"rate_limit_error": 1}
    assert fake.embedding_stats.inputs == 3
    assert len(fake.embedding_requests) == 3  # every valid request, faulted or not
    assert elapsed >= 0.9  # it waited out Retry-After


def test_500_and_503_faults_are_server_errors(fake: FakeOpenAI) -> None:
    fake.faults.next += ["500", "503"]
    client = client_for(fake)
    with pytest.raises(openai.InternalServerError) as first:
        vectors(client, "hello")
    with pytest.raises(openai.InternalServerError) as second:
        vectors(client, "hello")
    assert (first.value.status_code, second.value.status_code) == (500, 503)
    assert second.value.type == "server_error"
    fake.faults.next.append("refusal")  # a chat-only fault: consumed, no effect here
    assert len(vectors(client, "hello")) == 1
    assert fake.faults.next == []


def test_slow_fault_times_the_client_out(fake: FakeOpenAI) -> None:
    fake.faults.next.append("slow")
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        vectors(client_for(fake, timeout=0.5), "hello")
    assert time.monotonic() - started < 1.5


def test_latency_seconds_delays_accepted_requests() -> None:
    with FakeOpenAI(latency_seconds=0.3) as fake:
        started = time.monotonic()
        vectors(client_for(fake), "hello")
        elapsed = time.monotonic() - started
    assert elapsed >= 0.3


def test_rate_limits_count_requests_and_the_inputs_tokens() -> None:
    with FakeOpenAI(limits={"*": RateLimit(rpm=2, tpm=10)}) as fake:
        client = client_for(fake)
        raw = client.embeddings.with_raw_response.create(model=SMALL, input=["one two", "three"])
        headers = raw.headers
        with pytest.raises(openai.RateLimitError) as tokens:
            vectors(client, "alpha beta gamma delta epsilon zeta eta theta iota")
        vectors(client, "ok")
        with pytest.raises(openai.RateLimitError) as requests:
            vectors(client, "ok")

    assert headers["x-ratelimit-limit-requests"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "1"
    assert headers["x-ratelimit-remaining-tokens"] == "7"  # "one two" + "three": 3 tokens
    assert tokens.value.type == "tokens"
    assert requests.value.type == "requests"
    assert fake.embedding_stats.rate_limited == {"tokens": 1, "requests": 1}
    assert fake.embedding_stats.accepted_by_key == {"test": 2}
    assert fake.embedding_stats.ok == 2
