"""A local OpenAI REST API for tests, spoken to by the real ``openai`` client.

    with FakeOpenAI(responder=lambda request: {"title": "Engineer"}) as fake:
        client = openai.OpenAI(api_key="test", base_url=fake.base_url, max_retries=0)
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=[...],
                                                    response_format={"type": "json_schema", ...})
        fake.faults.next.append("429")          # the next completion/embedding: 429
        fake.complete_batches()                  # run every open batch through the responder
        vectors = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])

    # OpenAI's per-key limits on chat completions and embeddings (429, x-ratelimit-*):
    FakeOpenAI(limits={"*": RateLimit(rpm=500, tpm=200_000)}, latency_seconds=0.3)

Paths (under ``base_url`` = ``http://127.0.0.1:<port>/v1``), as the client sends them:

- ``POST chat/completions`` - Chat Completions (non-streaming, one choice);
- ``POST embeddings`` - Embeddings (float or base64; feature-hashed word vectors, see
  `openai_embeddings`), under the same key's limits, faults and ``latency_seconds``;
- ``POST files``, ``GET files/{id}``, ``GET files/{id}/content``, ``DELETE files/{id}`` - Files;
- ``POST batches``, ``GET batches``, ``GET batches/{id}``, ``POST batches/{id}/cancel`` - Batch.

Every request needs ``Authorization: Bearer <non-empty>`` (one of ``api_keys`` when given);
every answer carries an ``x-request-id``. Instances share nothing: two of them (say one for
OpenAI, one for OpenRouter with another key) keep separate limits, stats and ports. Batches
do not progress by themselves: the test calls `complete_batches`, `expire_batches` or
`fail_batches`.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import traceback
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from ingest_pipeline_tests.fakes.local_http import LocalHTTPServer, ServedFake
from ingest_pipeline_tests.fakes.openai_batches import (
    OPEN_STATUSES,
    BatchLine,
    StoredBatch,
    StoredFile,
    batch_list,
    cancel_batch,
    check_batch_request,
    create_batch,
    expire_batch,
    fail_batch,
    read_upload,
    settle_batch,
)
from ingest_pipeline_tests.fakes.openai_chat import (
    FAULT_KINDS,
    ChatRequest,
    OpenAIFaults,
    OpenAIStats,
    Responder,
    chat_request,
    completion_body,
    fault_error,
)
from ingest_pipeline_tests.fakes.openai_embeddings import (
    EmbeddingRequest,
    EmbeddingStats,
    answer_embeddings,
    embed_text,
    embedding_request,
    take_embedding_fault,
)
from ingest_pipeline_tests.fakes.openai_http import (
    Reply,
    bearer_key,
    error_body,
    error_reply,
    json_reply,
    unauthorized_reply,
)
from ingest_pipeline_tests.fakes.openai_limits import (
    Clock,
    ManualClock,
    RateLimit,
    RateLimiter,
    charged_tokens,
)
from ingest_pipeline_tests.fakes.openai_limits_wire import refusal_reply

__all__ = [
    "SCHEMA_REFUSAL",
    "ChatRequest",
    "EmbeddingRequest",
    "EmbeddingStats",
    "FakeOpenAI",
    "ManualClock",
    "OpenAIFaults",
    "OpenAIStats",
    "RateLimit",
    "Responder",
    "embed_text",
]

_FILE = re.compile(r"/v1/files/([^/]+)")
_FILE_CONTENT = re.compile(r"/v1/files/([^/]+)/content")
_BATCH = re.compile(r"/v1/batches/([^/]+)")
_BATCH_CANCEL = re.compile(r"/v1/batches/([^/]+)/cancel")
_RETRY_AFTER = [("retry-after", "1"), ("retry-after-ms", "1000")]
# What a JSON-only provider (vLLM, Ollama, OpenRouter models) answers to a strict schema.
SCHEMA_REFUSAL = (
    "response_format type 'json_schema' is not supported by this model; use json_object"
)


def _empty_result(request: ChatRequest) -> dict:
    return {}


class FakeOpenAI(ServedFake):
    """The OpenAI API on ``127.0.0.1:<random port>``, with faults, batches and counters.

    Mutable while running: ``responder`` (request -> the assistant's JSON result),
    ``faults`` (an `OpenAIFaults`), ``latency`` (seconds added to every HTTP request, before
    anything is checked), ``latency_seconds`` (seconds added to each chat completion the rate
    limits accept: the model's time; 429s stay fast), ``api_keys`` (None: any non-empty key),
    the rate limits through `set_limit`.

    ``limits`` maps an API key, or ``"*"`` for every other key, to a `RateLimit`; each key has
    its own RPM and TPM buckets on ``clock`` (``time.monotonic`` unless a test injects one).
    ``requests`` lists the chat completion HTTP requests with a valid body (also those
    answered with a fault or refused by the limits), ``batch_requests`` the batch lines run;
    ``files``/``batches`` hold what was uploaded/created; ``server_errors`` lists tracebacks
    of bugs in the fake or in a responder (answered as a 500 with ``x-should-retry: false``).

    Embeddings draw on the same key's limits (one request, the inputs' tokens), take their
    faults from the same ``faults`` ("429", "500", "slow", and "503" for them alone) and wait
    ``latency_seconds`` too; ``embedding_requests`` lists the valid ones (an
    `EmbeddingRequest`: ``model``, ``inputs``, ...), ``embedding_stats`` counts them.

    ``structured_outputs`` False plays a JSON-only provider (vLLM, Ollama, OpenRouter models
    without structured outputs): a chat completion (or batch line) whose ``response_format``
    is ``json_schema`` is answered 400 (``invalid_request_error``, ``param:
    "response_format"``, the message `SCHEMA_REFUSAL`), counted and listed in ``requests``
    like any other but charging no rate limit and taking no fault; ``json_object`` and
    ``text`` are answered as usual. Mutable while running.
    """

    def __init__(
        self,
        *,
        responder: Responder | None = None,
        latency: float = 0.0,
        seed: int = 0,
        limits: Mapping[str, RateLimit] | None = None,
        latency_seconds: float = 0.0,
        clock: Clock = time.monotonic,
        api_keys: Collection[str] | None = None,
        structured_outputs: bool = True,
    ) -> None:
        self.responder: Responder = responder or _empty_result
        self.structured_outputs = structured_outputs
        self.latency = latency
        self.latency_seconds = latency_seconds
        self.api_keys = api_keys
        self.limiter = RateLimiter(limits, clock=clock)
        self._in_flight = 0
        self.faults = OpenAIFaults()
        self.stats = OpenAIStats()
        self.requests: list[ChatRequest] = []
        self.batch_requests: list[ChatRequest] = []
        self.embedding_requests: list[EmbeddingRequest] = []
        self.embedding_stats = EmbeddingStats()
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, StoredBatch] = {}
        self.server_errors: list[str] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._fault_rng = random.Random(seed)
        self._id_rng = random.Random(f"ids-{seed}")
        self._completions = 0
        self._http = LocalHTTPServer(
            self._handle,
            self._record_error,
            name="fake-openai",
            server_version="cloudflare",  # what api.openai.com's front end calls itself
            bug_reply=lambda: error_reply(
                500, "fake OpenAI bug: see FakeOpenAI.server_errors", "server_error"
            ),
        )
        self.base_url = f"http://127.0.0.1:{self._http.port}/v1"

    # -- lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Wake sleeping "slow" answers, stop serving and close every connection."""
        self._stopping.set()
        super().stop()

    def set_limit(self, key: str, *, rpm: int | None = None, tpm: int | None = None) -> None:
        """Limit chat completions of API key ``key`` (``"*"``: every key without its own
        limit) to ``rpm`` requests and ``tpm`` tokens per minute; None leaves that axis open.
        The key's buckets start full."""
        self.limiter.set_limit(key, rpm=rpm, tpm=tpm)

    # -- batch progress (the test plays OpenAI's batch workers) ------------------------------

    def complete_batches(self) -> None:
        """Run every ``validating``/``in_progress`` batch: each line goes through the responder
        (and ``faults``); 200 answers go to the output file, others to the error file; status
        -> ``completed``. A ``cancelling`` batch becomes ``cancelled``. A responder exception
        propagates (before the batch changes)."""
        with self._lock:
            self._finish_cancels()
            todo = [b for b in self.batches.values() if b.status in OPEN_STATUSES]
        for batch in todo:
            answers = [self._run_line(line) for line in batch.lines]
            with self._lock:
                settle_batch(batch, answers, self._add_file, int(time.time()))

    def start_batches(self) -> None:
        """``validating`` batches -> ``in_progress`` (no lines run yet)."""
        with self._lock:
            for batch in self.batches.values():
                if batch.status == "validating":
                    batch.set_status("in_progress", int(time.time()))

    def expire_batches(self) -> None:
        """Open batches -> ``expired``: no output file; every line goes to the error file with
        ``error.code = "batch_expired"`` and counts as failed."""
        with self._lock:
            for batch in self.batches.values():
                if batch.status in OPEN_STATUSES:
                    expire_batch(batch, self._new_id, self._add_file, int(time.time()))

    def fail_batches(self) -> None:
        """Open batches -> ``failed`` with ``errors.data = [{"code": "batch_failed", ...}]``."""
        with self._lock:
            for batch in self.batches.values():
                if batch.status in OPEN_STATUSES:
                    fail_batch(batch, int(time.time()))

    def _run_line(self, line: BatchLine) -> dict[str, Any]:
        request, problem = chat_request(line.body)
        status, body = 400, problem
        if request is not None:
            refused = self._schema_refusal(request)
            with self._lock:
                self.batch_requests.append(request)
                self.stats.batch_lines += 1
                fault = None if refused is not None else self._take_fault()
            if refused is not None:
                status, body = 400, refused
            else:
                status, body = self._answer(request, None if fault == "slow" else fault)
        return {
            "id": self._new_id("batch_req_"),
            "custom_id": line.custom_id,
            "response": {"status_code": status, "request_id": self._new_id("req_"), "body": body},
            "error": None,
        }

    # -- serving -----------------------------------------------------------------------------

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one HTTP request (auth, routing, then headers every OpenAI answer has)."""
        started = time.monotonic()
        if self.latency > 0:
            self._stopping.wait(self.latency)
        key = bearer_key(headers)
        if key is None or (self.api_keys is not None and key not in self.api_keys):
            reply = unauthorized_reply(key)
        else:
            try:
                reply = self._route(method, urlsplit(target).path.rstrip("/"), key, headers, body)
            except Exception:
                self._record_error(traceback.format_exc())
                message = "fake OpenAI: a bug or a responder error, see FakeOpenAI.server_errors"
                reply = error_reply(500, message, "server_error")
                reply.headers.append(("x-should-retry", "false"))
        processing_ms = int((time.monotonic() - started) * 1000)
        reply.headers += [
            ("x-request-id", self._new_id("req_")),
            ("openai-processing-ms", str(processing_ms)),
            ("openai-version", "2020-10-01"),
        ]
        with self._lock:
            self.stats.status_counts[reply.status] += 1
        return reply

    def _route(
        self, method: str, path: str, key: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        if method == "POST" and path == "/v1/chat/completions":
            return self._chat(body, key)
        if method == "POST" and path == "/v1/embeddings":
            return self._embeddings(body, key)
        if method == "POST" and path == "/v1/files":
            return self._upload(headers.get("content-type", ""), body)
        if method == "POST" and path == "/v1/batches":
            return self._create_batch(body)
        with self._lock:
            if method == "GET" and path == "/v1/batches":
                return json_reply(200, batch_list(list(self.batches.values())))
            if (match := _FILE_CONTENT.fullmatch(path)) and method == "GET":
                if stored := self.files.get(match[1]):
                    return Reply(200, stored.data, [("Content-Type", "application/octet-stream")])
                return self._no_file(match[1])
            if match := _FILE.fullmatch(path):
                if (stored := self.files.get(match[1])) is None:
                    return self._no_file(match[1])
                if method == "GET":
                    return json_reply(200, stored.json())
                if method == "DELETE":
                    del self.files[stored.id]
                    return json_reply(200, {"id": stored.id, "object": "file", "deleted": True})
            if (match := _BATCH.fullmatch(path) or _BATCH_CANCEL.fullmatch(path)) is not None:
                if (batch := self.batches.get(match[1])) is None:
                    message = f"No batch found with id '{match[1]}'."
                    return error_reply(404, message, param="batch_id")
                if method == "GET" and match.re is _BATCH:
                    self._finish_cancels()
                    return json_reply(200, batch.json())
                if method == "POST" and match.re is _BATCH_CANCEL:
                    return cancel_batch(batch, int(time.time()))
        return error_reply(404, f"Invalid URL ({method} {path})")

    def _chat(self, raw: bytes, key: str) -> Reply:
        """``POST /v1/chat/completions``: validate, record, check the key's rate limits, then
        wait ``latency_seconds`` and apply a fault or ask the responder."""
        with self._lock:
            self.stats.chat_calls += 1
        request, problem = chat_request(_json_or_none(raw))
        if request is None:
            return json_reply(400, problem, list(self.limiter.headers(key)))
        with self._lock:
            self.requests.append(request)
        if (refused := self._schema_refusal(request)) is not None:
            return json_reply(400, refused, list(self.limiter.headers(key)))
        tokens = charged_tokens(request)
        admission = self.limiter.admit(key, tokens)
        if (refusal := admission.refusal) is not None:
            with self._lock:
                self.stats.rate_limited[refusal.kind] += 1
            return refusal_reply(refusal, request.model, admission.headers)
        with self._lock:
            fault = self._take_fault()
            self._accepted(key, tokens)
        try:
            if self.latency_seconds > 0:
                self._stopping.wait(self.latency_seconds)
            if fault == "slow":
                self._stopping.wait(self.faults.slow_seconds)
            status, body = self._answer(request, fault)
        finally:
            with self._lock:
                self._in_flight -= 1
        with self._lock:
            if status == 200:
                self.stats.chat_ok += 1
            elif status == 429:
                self.stats.rate_limited[body["error"]["type"]] += 1
        extra = _RETRY_AFTER if status == 429 else []
        return json_reply(status, body, [*extra, *admission.headers])

    def _embeddings(self, raw: bytes, key: str) -> Reply:
        """``POST /v1/embeddings``, as `_chat`: validate, record, the key's rate limits, then
        ``latency_seconds`` and a fault or the vectors."""
        with self._lock:
            self.embedding_stats.calls += 1
        request, problem = embedding_request(_json_or_none(raw))
        if request is None:
            return json_reply(400, problem, list(self.limiter.headers(key)))
        with self._lock:
            self.embedding_requests.append(request)
        admission = self.limiter.admit(key, request.total_tokens)
        if (refusal := admission.refusal) is not None:
            with self._lock:
                self.embedding_stats.rate_limited[refusal.kind] += 1
            return refusal_reply(refusal, request.model, admission.headers)
        with self._lock:
            fault = take_embedding_fault(self.faults, self._fault_rng)
            self.embedding_stats.accepted(key, request)
        if self.latency_seconds > 0:
            self._stopping.wait(self.latency_seconds)
        if fault == "slow":
            self._stopping.wait(self.faults.slow_seconds)
        status, body = answer_embeddings(request, fault)
        with self._lock:
            self.embedding_stats.answered(status, body)
        extra = _RETRY_AFTER if status == 429 else []
        return json_reply(status, body, [*extra, *admission.headers])

    def _accepted(self, key: str, tokens: int) -> None:
        """Count a chat request the limits let through (caller holds the lock)."""
        self.stats.accepted_at.append(self.limiter.clock())
        self.stats.accepted_by_key[key] += 1
        self.stats.tokens_charged += tokens
        self._in_flight += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self._in_flight)

    def _answer(self, request: ChatRequest, fault: str | None) -> tuple[int, dict]:
        """(status, body) of one completion: an error fault, or a ``chat.completion``."""
        if fault is not None and (error := fault_error(fault, request.model)) is not None:
            return error
        result = None
        if fault != "refusal":
            result = self.responder(request)
            if not isinstance(result, dict):
                raise TypeError(f"the responder returned {type(result).__name__}, not a dict")
        with self._lock:
            self._completions += 1
            completion_id = f"chatcmpl-{self._completions}"
        body = completion_body(
            request, result, fault, completion_id=completion_id, now=int(time.time())
        )
        with self._lock:
            self.stats.prompt_tokens += body["usage"]["prompt_tokens"]
            self.stats.completion_tokens += body["usage"]["completion_tokens"]
        return 200, body

    def _upload(self, content_type: str, raw: bytes) -> Reply:
        """``POST /v1/files``: multipart ``purpose`` + ``file`` -> a ``FileObject``."""
        upload = read_upload(content_type, raw)
        if isinstance(upload, Reply):
            return upload
        with self._lock:
            self.stats.files_uploaded += 1
            return json_reply(200, self._add_file(*upload).json())

    def _create_batch(self, raw: bytes) -> Reply:
        """``POST /v1/batches``: check the request and the input JSONL -> a ``Batch``
        (``validating``, or ``failed`` with ``errors.data`` when a line is malformed)."""
        payload = _json_or_none(raw)
        if (problem := check_batch_request(payload)) is not None:
            return problem
        with self._lock:
            made = create_batch(payload, self.files, self._new_id("batch_"), int(time.time()))
            if isinstance(made, Reply):
                return made
            self.batches[made.id] = made
            self.stats.batches_created += 1
            return json_reply(200, made.json())

    # -- helpers -----------------------------------------------------------------------------

    def _schema_refusal(self, request: ChatRequest) -> dict | None:
        """The 400 body a JSON-only server answers a strict schema with (None: answer it)."""
        kind = (request.response_format or {}).get("type")
        if self.structured_outputs or kind != "json_schema":
            return None
        return error_body(SCHEMA_REFUSAL, "invalid_request_error", param="response_format")

    def _take_fault(self) -> str | None:
        """The fault for the next completion (caller holds the lock)."""
        plan = self.faults
        fault = plan.next.pop(0) if plan.next else None
        if fault is None and plan.share > 0 and self._fault_rng.random() < plan.share:
            fault = self._fault_rng.choice(plan.kinds)
        if fault is not None and fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r}; known: {FAULT_KINDS}")
        return fault

    def _finish_cancels(self) -> None:
        for batch in self.batches.values():
            if batch.status == "cancelling":
                batch.failed = len(batch.lines) - batch.completed
                batch.set_status("cancelled", int(time.time()))

    def _add_file(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        stored = StoredFile(self._new_id("file-"), filename, purpose, data, int(time.time()))
        self.files[stored.id] = stored
        return stored

    def _no_file(self, file_id: str) -> Reply:
        return error_reply(404, f"No such File object: {file_id}", param="id")

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{self._id_rng.getrandbits(96):024x}"

    def _record_error(self, text: str) -> None:
        with self._lock:
            self.server_errors.append(text)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
