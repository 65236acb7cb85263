"""The fake OpenAI server against the real ``openai`` client (and raw httpx for the edges)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import bpe_openai
import httpx
import openai
import pydantic
import pytest

from ingest_pipeline_tests.fakes.openai_chat import prompt_tokens
from ingest_pipeline_tests.fakes.openai_limits import RateLimiter, TokenBucket
from ingest_pipeline_tests.fakes.openai_limits_wire import openai_duration
from ingest_pipeline_tests.fakes.openai_server import (
    ChatRequest,
    FakeOpenAI,
    ManualClock,
    OpenAIFaults,
    OpenAIStats,
    RateLimit,
)

pytestmark = pytest.mark.timeout(20)

MODEL = "gpt-4o-mini"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "skills": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "skills"],
    "additionalProperties": False,
}
RESPONSE_FORMAT: Any = {
    "type": "json_schema",
    "json_schema": {"name": "posting", "schema": SCHEMA, "strict": True},
}
MESSAGES: Any = [
    {"role": "system", "content": "Extract the job posting."},
    {"role": "user", "content": "Senior Engineer wanted, Python and SQL."},
]


def posting(request: ChatRequest) -> dict:
    """A responder: echoes the last user message into the result."""
    return {"title": request.messages[-1]["content"][:15], "skills": ["python"]}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=posting) as server:
        yield server
    assert server.server_errors == []


def client_for(fake: FakeOpenAI, *, max_retries: int = 0, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="test", base_url=fake.base_url, max_retries=max_retries, timeout=timeout
    )


def create(client: openai.OpenAI, **extra: Any) -> Any:
    return client.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        response_format=RESPONSE_FORMAT,
        **extra,
    )


# -- chat completions ------------------------------------------------------------------------


def test_chat_completion_returns_the_responders_dict_and_usage(fake: FakeOpenAI) -> None:
    completion = create(client_for(fake))

    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    assert completion.id.startswith("chatcmpl-")
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.refusal is None
    assert json.loads(choice.message.content) == {"title": "Senior Engineer", "skills": ["python"]}
    usage = completion.usage
    assert usage is not None
    # Counted as OpenAI bills gpt-4o: o200k_base tokens, 3 framing a message, 3 for the reply.
    o200k = bpe_openai.get_encoding("o200k_base")
    assert usage.prompt_tokens == 3 + sum(3 + len(o200k.encode(m["content"])) for m in MESSAGES)
    assert usage.completion_tokens == len(o200k.encode(choice.message.content))
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    [request] = fake.requests
    assert request.model == MODEL
    assert request.messages == MESSAGES
    assert request.response_format == RESPONSE_FORMAT
    assert request.body["model"] == MODEL
    assert fake.stats.chat_calls == 1
    assert fake.stats.status_counts == {200: 1}
    assert fake.stats.prompt_tokens == usage.prompt_tokens
    assert fake.stats.completion_tokens == usage.completion_tokens


def test_default_responder_returns_an_empty_object() -> None:
    with FakeOpenAI() as fake:
        completion = create(client_for(fake))
    assert completion.choices[0].message.content == "{}"


def test_raw_response_exposes_the_request_id(fake: FakeOpenAI) -> None:
    raw = client_for(fake).chat.completions.with_raw_response.create(
        model=MODEL,
        messages=MESSAGES,
    )
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.status_code == 200
    assert json.loads(raw.parse().choices[0].message.content or "") == posting(fake.requests[0])


def test_parse_with_a_pydantic_model(fake: FakeOpenAI) -> None:
    """``chat.completions.parse`` builds a strict schema the fake accepts, and parses back."""

    class Posting(pydantic.BaseModel):
        title: str
        skills: list[str]

    completion = client_for(fake).chat.completions.parse(
        model=MODEL,
        messages=MESSAGES,
        response_format=Posting,
    )
    assert completion.choices[0].message.parsed == Posting(
        title="Senior Engineer", skills=["python"]
    )
    sent = fake.requests[0].response_format
    assert sent is not None and sent["json_schema"]["strict"] is True


def test_a_non_strict_schema_is_rejected_like_openai(fake: FakeOpenAI) -> None:
    loose = {"type": "object", "properties": {"title": {"type": "string"}}}
    response_format: Any = {
        "type": "json_schema",
        "json_schema": {"name": "loose", "schema": loose, "strict": True},
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(fake).chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            response_format=response_format,
        )
    assert "additionalProperties" in caught.value.message
    assert caught.value.param == "response_format"
    assert fake.requests == []


def test_missing_messages_and_bad_auth_answer_openai_errors(fake: FakeOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(fake).chat.completions.create(model=MODEL, messages=[])
    assert caught.value.param == "messages"

    anonymous = httpx.post(f"{fake.base_url}/chat/completions", json={"model": MODEL})
    assert anonymous.status_code == 401
    error = anonymous.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_api_key"
    assert anonymous.headers["x-request-id"].startswith("req_")
    basic = httpx.post(f"{fake.base_url}/files", headers={"Authorization": "Basic dGVzdA=="})
    assert basic.status_code == 401
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            api_key="test",
            base_url=fake.base_url,
            max_retries=0,
            default_headers={"Authorization": "Token test"},
        ).batches.list()


# -- faults ----------------------------------------------------------------------------------


def test_429_without_retries_raises_rate_limit_error(fake: FakeOpenAI) -> None:
    fake.faults.next.append("429")
    with pytest.raises(openai.RateLimitError) as caught:
        create(client_for(fake))
    response = caught.value.response
    assert response.headers["retry-after"] == "1"
    assert response.headers["retry-after-ms"] == "1000"
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.type == "rate_limit_error"
    assert caught.value.param is None
    assert len(fake.requests) == 1


def test_429_is_retried_by_the_client_after_retry_after(fake: FakeOpenAI) -> None:
    fake.faults.next.append("429")
    started = time.monotonic()
    completion = create(client_for(fake, max_retries=2))
    elapsed = time.monotonic() - started

    assert json.loads(completion.choices[0].message.content)["skills"] == ["python"]
    assert len(fake.requests) == 2
    assert fake.stats.status_counts == {429: 1, 200: 1}
    assert elapsed >= 0.9  # it waited out Retry-After (an upper bound would race the machine)


def test_500_raises_internal_server_error(fake: FakeOpenAI) -> None:
    fake.faults.next.append("500")
    with pytest.raises(openai.InternalServerError) as caught:
        create(client_for(fake))
    assert caught.value.status_code == 500
    assert caught.value.type == "server_error"


def test_refusal_sets_message_refusal(fake: FakeOpenAI) -> None:
    fake.faults.next.append("refusal")
    message = create(client_for(fake)).choices[0].message
    assert message.refusal == "I can't help with that."
    assert message.content is None


def test_length_truncates_the_content(fake: FakeOpenAI) -> None:
    fake.faults.next.append("length")
    choice = create(client_for(fake), max_completion_tokens=7).choices[0]
    assert choice.finish_reason == "length"
    full = json.dumps(posting(fake.requests[0]))
    assert choice.message.content and full.startswith(choice.message.content)
    assert choice.message.content != full
    fake.faults.next.append("length")
    with pytest.raises(openai.LengthFinishReasonError):
        client_for(fake).chat.completions.parse(
            model=MODEL,
            messages=MESSAGES,
            response_format=RESPONSE_FORMAT,
        )


def test_invalid_json_is_not_parseable(fake: FakeOpenAI) -> None:
    fake.faults.next.append("invalid_json")
    choice = create(client_for(fake)).choices[0]
    assert choice.finish_reason == "stop"
    with pytest.raises(json.JSONDecodeError):
        json.loads(choice.message.content)


def test_slow_answer_times_the_client_out(fake: FakeOpenAI) -> None:
    fake.faults.next.append("slow")
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        create(client_for(fake, timeout=0.5))
    assert time.monotonic() - started < 1.5
    assert len(fake.requests) == 1


def test_random_faults_are_seeded() -> None:
    def outcomes(seed: int) -> list[str]:
        with FakeOpenAI(seed=seed) as fake:
            fake.faults = OpenAIFaults(share=0.5, kinds=("500", "refusal"))
            client = client_for(fake)
            seen = []
            for _ in range(12):
                try:
                    seen.append(create(client).choices[0].message.refusal or "ok")
                except openai.InternalServerError:
                    seen.append("500")
            return seen

    first = outcomes(7)
    assert first == outcomes(7)
    assert {"ok", "500", "I can't help with that."} <= set(first)


def test_a_failing_responder_is_a_500_not_retried_and_recorded(fake: FakeOpenAI) -> None:
    def broken(request: ChatRequest) -> dict:
        raise RuntimeError("responder bug")

    fake.responder = broken
    with pytest.raises(openai.InternalServerError):
        create(client_for(fake, max_retries=2))
    assert len(fake.requests) == 1
    assert "responder bug" in fake.server_errors[0]
    fake.server_errors.clear()


def test_stats_can_be_reset(fake: FakeOpenAI) -> None:
    create(client_for(fake))
    fake.stats = OpenAIStats()
    create(client_for(fake))
    assert fake.stats.chat_calls == 1


# -- files and batches -----------------------------------------------------------------------


def batch_input(*custom_ids: str) -> bytes:
    lines = [
        {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": MODEL,
                "messages": [{"role": "user", "content": f"posting {custom_id}"}],
                "response_format": RESPONSE_FORMAT,
            },
        }
        for custom_id in custom_ids
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def start_batch(client: openai.OpenAI, data: bytes) -> Any:
    uploaded = client.files.create(file=("input.jsonl", data), purpose="batch")
    return client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"run": "test"},
    )


def read_lines(client: openai.OpenAI, file_id: str) -> list[dict]:
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines()]


def test_file_upload_and_content_round_trip(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    data = b'{"a": 1}\r\n\x00\xff binary\n'
    uploaded = client.files.create(file=("notes.jsonl", data), purpose="batch")

    assert uploaded.id.startswith("file-")
    assert (uploaded.object, uploaded.status, uploaded.purpose) == ("file", "processed", "batch")
    assert uploaded.bytes == len(data)
    assert uploaded.filename == "notes.jsonl"
    assert client.files.content(uploaded.id).content == data
    assert client.files.retrieve(uploaded.id).bytes == len(data)
    assert fake.stats.files_uploaded == 1
    assert client.files.delete(uploaded.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_batch_lifecycle_to_completed(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    batch = start_batch(client, batch_input("a", "b", "c"))
    assert batch.id.startswith("batch_")
    assert batch.status == "validating"
    assert batch.output_file_id is None
    assert batch.metadata == {"run": "test"}
    assert batch.request_counts is not None and batch.request_counts.total == 3
    assert client.batches.retrieve(batch.id).status == "validating"

    fake.complete_batches()
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert done.completed_at is not None
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (3, 0)
    assert done.error_file_id is None and done.output_file_id is not None

    lines = read_lines(client, done.output_file_id)
    assert [line["custom_id"] for line in lines] == ["a", "b", "c"]
    for line in lines:
        assert line["id"].startswith("batch_req_")
        assert line["error"] is None
        assert line["response"]["status_code"] == 200
        assert line["response"]["request_id"].startswith("req_")
        completion = openai.types.chat.ChatCompletion.model_validate(line["response"]["body"])
        content = json.loads(completion.choices[0].message.content or "")
        assert content == {"title": f"posting {line['custom_id']}", "skills": ["python"]}
    assert len(fake.batch_requests) == 3 and fake.requests == []
    assert fake.stats.batches_created == 1 and fake.stats.batch_lines == 3
    assert [b.id for b in client.batches.list()] == [batch.id]


def test_batch_line_faults_go_to_the_error_file(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    batch = start_batch(client, batch_input("a", "b", "c"))
    fake.faults.next.extend(["500", "refusal"])
    fake.complete_batches()

    done = client.batches.retrieve(batch.id)
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 1)
    assert done.output_file_id is not None and done.error_file_id is not None
    [failed] = read_lines(client, done.error_file_id)
    assert failed["custom_id"] == "a"
    assert failed["response"]["status_code"] == 500
    assert failed["response"]["body"]["error"]["type"] == "server_error"
    ok = {line["custom_id"]: line for line in read_lines(client, done.output_file_id)}
    refused = ok["b"]["response"]["body"]["choices"][0]["message"]
    assert refused["refusal"] == "I can't help with that." and refused["content"] is None


def test_expire_and_fail_batches(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    expiring = start_batch(client, batch_input("a", "b"))
    fake.expire_batches()
    expired = client.batches.retrieve(expiring.id)
    assert expired.status == "expired"
    assert expired.expired_at is not None and expired.output_file_id is None
    assert expired.error_file_id is not None
    errors = read_lines(client, expired.error_file_id)
    assert [e["error"]["code"] for e in errors] == ["batch_expired", "batch_expired"]

    failing = start_batch(client, batch_input("c"))
    fake.fail_batches()
    failed = client.batches.retrieve(failing.id)
    assert failed.status == "failed"
    assert failed.errors is not None and failed.errors.data
    fake.complete_batches()  # nothing open any more
    assert client.batches.retrieve(failing.id).status == "failed"


def test_malformed_batch_input_fails_the_batch(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    good = batch_input("a").decode()
    data = good + '{"custom_id": "b", "method": "GET", "url": "/v1/chat/completions"}\n'
    batch = start_batch(client, (data + "not json\n").encode())

    assert batch.status == "failed"
    assert batch.failed_at is not None
    assert batch.errors is not None and batch.errors.data is not None
    assert [(e.line, e.code) for e in batch.errors.data] == [
        (2, "invalid_method"),
        (3, "invalid_json_line"),
    ]
    assert all(e.message for e in batch.errors.data)
    assert client.batches.retrieve(batch.id).status == "failed"
    assert start_batch(client, batch_input("x", "x")).status == "failed"  # duplicate custom_id


def test_cancel_a_batch(fake: FakeOpenAI) -> None:
    client = client_for(fake)
    batch = start_batch(client, batch_input("a"))
    assert client.batches.cancel(batch.id).status == "cancelling"
    assert client.batches.retrieve(batch.id).status == "cancelled"
    fake.complete_batches()
    assert client.batches.retrieve(batch.id).output_file_id is None
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_missing")


# -- rate limits -----------------------------------------------------------------------------


def raw_create(client: openai.OpenAI, **extra: Any) -> Any:
    """A completion through ``with_raw_response``, to read the answer's headers."""
    return client.chat.completions.with_raw_response.create(
        model=MODEL, messages=extra.pop("messages", MESSAGES), **extra
    )


def rate_limited(client: openai.OpenAI, **extra: Any) -> openai.RateLimitError:
    with pytest.raises(openai.RateLimitError) as caught:
        raw_create(client, **extra)
    return caught.value


def keyed_client(fake: FakeOpenAI, key: str, *, max_retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=fake.base_url, max_retries=max_retries, timeout=5)


PROMPT = prompt_tokens(MESSAGES)


def test_under_the_limits_every_answer_is_200_with_rate_limit_headers() -> None:
    limits = {"*": RateLimit(rpm=5, tpm=10_000)}
    with FakeOpenAI(limits=limits, clock=ManualClock()) as fake:
        client = client_for(fake)
        answers = [raw_create(client) for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    for used, answer in enumerate(answers, start=1):
        headers = answer.headers
        assert headers["x-ratelimit-limit-requests"] == "5"
        assert headers["x-ratelimit-limit-tokens"] == "10000"
        assert headers["x-ratelimit-remaining-requests"] == str(5 - used)
        assert headers["x-ratelimit-remaining-tokens"] == str(10_000 - used * PROMPT)
        assert headers["x-ratelimit-reset-requests"] == openai_duration(used * 12.0)
        assert headers["x-ratelimit-reset-tokens"] == openai_duration(used * PROMPT * 0.006)
    assert answers[0].headers["x-ratelimit-reset-requests"] == "12s"
    assert answers[-1].headers["x-ratelimit-reset-requests"] == "1m0s"
    assert fake.stats.chat_ok == 5
    assert fake.stats.rate_limited == {}
    assert fake.stats.tokens_charged == 5 * PROMPT
    assert fake.stats.accepted_by_key == {"test": 5}


def test_without_limits_answers_carry_no_rate_limit_headers(fake: FakeOpenAI) -> None:
    headers = raw_create(client_for(fake)).headers
    assert not [name for name in headers if name.startswith("x-ratelimit-")]
    assert fake.stats.accepted_by_key == {"test": 1}


def test_the_request_over_the_rpm_is_a_429_of_type_requests() -> None:
    with FakeOpenAI(limits={"*": RateLimit(rpm=3)}, clock=ManualClock()) as fake:
        client = client_for(fake)
        for _ in range(3):
            raw_create(client)
        error = rate_limited(client)

    assert error.type == "requests"
    assert error.code == "rate_limit_exceeded"
    assert error.param is None
    assert error.body["message"].startswith(  # type: ignore[index]
        f"Rate limit reached for {MODEL} in organization org-fake on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in 20s."
    )
    headers = error.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("20", "20000")
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"] == "1m0s"
    assert "x-ratelimit-limit-tokens" not in headers  # no TPM limit set
    assert fake.stats.rate_limited == {"requests": 1}
    assert fake.stats.chat_ok == 3
    assert fake.stats.status_counts == {200: 3, 429: 1}
    assert len(fake.requests) == 4 and len(fake.stats.accepted_at) == 3


def test_a_big_prompt_hits_the_token_limit() -> None:
    # 794 words of one token each, 3 framing the message, 3 priming the reply: 800 tokens.
    big: Any = [{"role": "user", "content": " word" * 794}]
    with FakeOpenAI(limits={"*": RateLimit(rpm=100, tpm=1000)}, clock=ManualClock()) as fake:
        client = client_for(fake)
        assert raw_create(client, messages=big).headers["x-ratelimit-remaining-tokens"] == "200"
        error = rate_limited(client, messages=big)
        too_large = rate_limited(client, max_completion_tokens=1000)

    assert error.type == "tokens"
    assert "on tokens per min (TPM): Limit 1000, Used 800, Requested 800." in error.message
    assert "Please try again in 36s." in error.message  # 600 tokens short at 1000/60 per second
    assert error.response.headers["retry-after-ms"] == "36000"
    assert error.response.headers["x-ratelimit-remaining-requests"] == "99"
    assert too_large.type == "tokens"
    assert f"Request too large for {MODEL}" in too_large.message
    assert f"Requested {PROMPT + 1000}." in too_large.message
    assert "retry-after" not in too_large.response.headers  # waiting never helps
    assert fake.stats.rate_limited == {"tokens": 2}
    assert fake.stats.tokens_charged == 800


def test_the_buckets_refill_continuously_over_injected_time() -> None:
    clock = ManualClock()
    with FakeOpenAI(limits={"*": RateLimit(rpm=2, tpm=100 * PROMPT)}, clock=clock) as fake:
        client = client_for(fake)
        raw_create(client)
        raw_create(client)
        assert rate_limited(client).response.headers["retry-after"] == "30"
        clock.advance(29.9)
        assert rate_limited(client).response.headers["retry-after-ms"] == "100"
        clock.advance(0.1)
        assert raw_create(client).headers["x-ratelimit-remaining-requests"] == "0"
        clock.advance(600)
        refilled = raw_create(client).headers

    assert refilled["x-ratelimit-remaining-requests"] == "1"
    assert refilled["x-ratelimit-reset-requests"] == "30s"
    assert refilled["x-ratelimit-remaining-tokens"] == str(99 * PROMPT)
    assert fake.stats.chat_ok == 4
    assert fake.stats.accepted_at == [0.0, 0.0, 30.0, 630.0]
    assert fake.stats.accepted_per_second()[0] == 2


def test_the_client_waits_out_retry_after_in_real_time() -> None:
    """The server's own clock: a full TPM bucket refills while ``openai`` waits and retries."""
    with FakeOpenAI(limits={"*": RateLimit(tpm=600)}) as fake:
        client = client_for(fake, max_retries=1)
        create(client, max_completion_tokens=600 - PROMPT)  # 10 tokens/s back: 1.6 s for PROMPT
        started = time.monotonic()
        create(client)
        elapsed = time.monotonic() - started

    assert elapsed >= 1.4  # it waited for the refill (an upper bound would race the machine)
    assert fake.stats.rate_limited == {"tokens": 1}
    assert fake.stats.chat_ok == 2


def test_keys_and_instances_keep_separate_limits_and_stats() -> None:
    openai_fake = FakeOpenAI(limits={"*": RateLimit(rpm=1)}, api_keys={"sk-openai"})
    router_fake = FakeOpenAI(limits={"*": RateLimit(rpm=1)}, api_keys={"sk-or-1", "sk-or-2"})
    with openai_fake, router_fake:
        assert openai_fake.base_url != router_fake.base_url
        raw_create(keyed_client(openai_fake, "sk-openai"))
        assert rate_limited(keyed_client(openai_fake, "sk-openai")).type == "requests"
        raw_create(keyed_client(router_fake, "sk-or-1"))
        raw_create(keyed_client(router_fake, "sk-or-2"))  # a key of its own: a bucket of its own
        router_fake.set_limit("sk-or-1", rpm=5)
        raw_create(keyed_client(router_fake, "sk-or-1"))
        with pytest.raises(openai.AuthenticationError) as caught:
            raw_create(keyed_client(router_fake, "sk-openai"))

    assert "Incorrect API key provided" in caught.value.message
    assert openai_fake.stats.accepted_by_key == {"sk-openai": 1}
    assert openai_fake.stats.rate_limited == {"requests": 1}
    assert router_fake.stats.accepted_by_key == {"sk-or-1": 2, "sk-or-2": 1}
    assert router_fake.stats.rate_limited == {}


def test_32_concurrent_requests_overlap_their_latency() -> None:
    # Each answer waits until all 32 requests are being served: the server must hold them
    # open at once (a server answering one at a time breaks the barrier and fails them).
    everyone = threading.Barrier(32)

    def together(request: Any) -> dict[str, Any]:
        everyone.wait(timeout=60)
        return posting(request)

    with FakeOpenAI(responder=together, latency_seconds=0.05) as fake:
        client = client_for(fake)
        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(lambda _: create(client), range(32)))

    assert len(answers) == 32
    assert fake.stats.max_in_flight == 32
    assert sum(fake.stats.accepted_per_second()) == fake.stats.chat_ok == 32
    assert fake.server_errors == []


def test_token_bucket_refills_at_capacity_per_minute() -> None:
    bucket = TokenBucket(600, now=0.0)
    bucket.take(600, now=0.0)
    assert bucket.wait(1, now=0.0) == pytest.approx(0.1)
    assert bucket.level(now=1.5) == pytest.approx(15)
    assert bucket.used(now=1.5) == 585
    assert bucket.until_full(now=1.5) == pytest.approx(58.5)
    assert bucket.level(now=1000.0) == 600
    assert bucket.wait(601, now=1000.0) == float("inf")


def test_limiter_set_limit_gives_a_key_fresh_buckets() -> None:
    clock = ManualClock(100.0)
    limiter = RateLimiter({"*": RateLimit(rpm=1)}, clock=clock)
    assert limiter.admit("a", 10).refusal is None
    assert limiter.admit("a", 10).refusal is not None
    assert limiter.admit("b", 10).refusal is None
    limiter.set_limit("a", rpm=2)
    assert limiter.admit("a", 10).refusal is None
    assert limiter.admit("b", 10).refusal is not None
    limiter.set_limit("*")  # lifts the default limit
    assert limiter.admit("b", 10) == limiter.admit("c", 10)
    assert limiter.headers("c") == ()
    with pytest.raises(ValueError):
        RateLimit(rpm=0)


@pytest.mark.parametrize(
    ("seconds", "written"),
    [
        (0, "0s"),
        (0.0001, "1ms"),
        (0.12, "120ms"),
        (1, "1s"),
        (7.2, "7.2s"),
        (86.4, "1m26.4s"),
        (360, "6m0s"),
        (3600, "1h0m0s"),
    ],
)
def test_durations_are_written_as_openai_writes_them(seconds: float, written: str) -> None:
    assert openai_duration(seconds) == written


# -- a JSON-only provider --------------------------------------------------------------------


JSON_MODE: Any = {"type": "json_object"}
JSON_MESSAGES: Any = [
    {"role": "system", "content": "Extract the job posting. Answer with one JSON object."},
    MESSAGES[1],
]


def test_a_json_only_server_refuses_a_strict_schema_and_answers_json_mode() -> None:
    limits = {"*": RateLimit(rpm=1)}
    with FakeOpenAI(
        responder=posting, structured_outputs=False, limits=limits, clock=ManualClock()
    ) as fake:
        fake.faults.next.append("refusal")
        client = client_for(fake)
        with pytest.raises(openai.BadRequestError) as caught:
            create(client)
        # The refusal charged no rate limit and took no fault: the JSON-mode call gets both.
        completion = client.chat.completions.create(
            model=MODEL, messages=JSON_MESSAGES, response_format=JSON_MODE
        )

    error = caught.value
    assert error.status_code == 400
    assert error.param == "response_format" and error.type == "invalid_request_error"
    assert "'json_schema' is not supported" in error.message
    assert completion.choices[0].message.refusal == "I can't help with that."
    assert [r.response_format for r in fake.requests] == [RESPONSE_FORMAT, JSON_MODE]
    assert fake.stats.chat_calls == 2
    assert fake.stats.status_counts == {400: 1, 200: 1}
    assert fake.stats.accepted_by_key == {"test": 1}
    assert fake.server_errors == []


def test_a_json_only_server_fails_strict_batch_lines_and_can_be_switched(
    fake: FakeOpenAI,
) -> None:
    client = client_for(fake)
    fake.structured_outputs = False
    batch = start_batch(client, batch_input("a"))
    fake.complete_batches()
    done = client.batches.retrieve(batch.id)
    assert done.error_file_id is not None and done.output_file_id is None
    [failed] = read_lines(client, done.error_file_id)
    assert failed["response"]["status_code"] == 400
    assert failed["response"]["body"]["error"]["param"] == "response_format"

    fake.structured_outputs = True
    content = create(client).choices[0].message.content
    assert json.loads(content or "") == {"title": "Senior Engineer", "skills": ["python"]}
