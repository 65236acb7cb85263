"""Chat completions as the fake OpenAI answers them: request checks, faults and response bodies.

Shapes follow ``openai.types.chat.ChatCompletion`` and OpenAI's error envelope; the same
`answer_chat` serves ``POST /v1/chat/completions`` and each line of a batch.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import bpe_openai

from ingest_pipeline_tests.fakes.openai_http import error_body

FAULT_KINDS: tuple[str, ...] = ("429", "500", "refusal", "invalid_json", "length", "slow")
REFUSAL = "I can't help with that."


@dataclass
class ChatRequest:
    """What the server received for one chat completion (an HTTP call or a batch line)."""

    model: str
    messages: list[dict]
    response_format: dict | None
    body: dict


Responder = Callable[[ChatRequest], dict]
"""Returns the assistant's parsed JSON result for a request; the server JSON-dumps it."""


@dataclass
class OpenAIFaults:
    """What the server should get wrong; every field may be changed while it runs.

    - ``next``: the next chat completions (HTTP calls, then batch lines as `complete_batches`
      reaches them) get these faults, in order: ``"429"`` (rate_limit_error with
      ``retry-after: 1``/``retry-after-ms: 1000``), ``"500"`` (server_error), ``"refusal"``
      (200, ``message.refusal`` set, content None), ``"invalid_json"`` (200, content is not
      JSON), ``"length"`` (200, ``finish_reason="length"``, truncated content), ``"slow"``
      (sleep ``slow_seconds`` first; no effect on batch lines);
    - ``share``: when ``next`` is empty, the probability (seeded RNG) that a completion gets a
      fault drawn from ``kinds``.
    """

    next: list[str] = field(default_factory=list)
    share: float = 0.0
    kinds: tuple[str, ...] = ("429", "500")
    slow_seconds: float = 2.0


@dataclass
class OpenAIStats:
    """What the server saw; replace with ``OpenAIStats()`` to reset.

    ``chat_calls`` counts ``POST /v1/chat/completions`` requests (any outcome),
    ``batch_lines`` the batch lines run by `complete_batches`; ``status_counts`` has one entry
    per HTTP response on any endpoint; tokens add up HTTP completions and batch lines.

    Chat completions over HTTP only: ``chat_ok`` counts those answered 200; ``rate_limited``
    those answered 429, by error type (``"requests"``/``"tokens"`` from the rate limits,
    ``"rate_limit_error"`` from an injected fault). A request is *accepted* when its body is
    valid and the rate limits let it through (always, without limits): ``accepted_at`` holds
    the clock reading of each (see `accepted_per_second`), ``accepted_by_key`` counts them per
    API key, ``tokens_charged`` adds up what the limits charged for them (prompt tokens plus
    the requested max output) and ``max_in_flight`` is the most being answered at once.
    """

    chat_calls: int = 0
    status_counts: Counter[int] = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    files_uploaded: int = 0
    batches_created: int = 0
    batch_lines: int = 0
    chat_ok: int = 0
    rate_limited: Counter[str] = field(default_factory=Counter)
    accepted_at: list[float] = field(default_factory=list)
    accepted_by_key: Counter[str] = field(default_factory=Counter)
    tokens_charged: int = 0
    max_in_flight: int = 0

    def accepted_per_second(self) -> list[int]:
        """Accepted chat requests per second, from the first one's second to the last one's
        (seconds without any are 0): the sustained rate a client reached, second by second."""
        if not self.accepted_at:
            return []
        start = min(self.accepted_at)
        counts = [0] * (int(max(self.accepted_at) - start) + 1)
        for at in self.accepted_at:
            counts[int(at - start)] += 1
        return counts


_O200K = bpe_openai.get_encoding("o200k_base")


def text_tokens(text: str) -> int:
    """Tokens of ``text`` in gpt-4o's encoding (o200k_base), as OpenAI counts them."""
    return len(_O200K.encode_ordinary(text))


def prompt_tokens(messages: list[dict]) -> int:
    """The prompt tokens OpenAI bills for a chat completion: each message's text in
    o200k_base plus 3 framing tokens, and 3 that prime the reply."""
    return 3 + sum(3 + text_tokens(_message_text(m)) for m in messages)


def _message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def chat_request(body: Any) -> tuple[ChatRequest | None, dict | None]:
    """Validate a chat completion body -> (request, None) or (None, OpenAI error body)."""
    if not isinstance(body, dict):
        return None, error_body("The request body must be a JSON object.", "invalid_request_error")
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        return None, error_body("you must provide a model parameter", "invalid_request_error")
    if messages is None:
        message = "Missing required parameter: 'messages'."
        return None, error_body(
            message, "invalid_request_error", param="messages", code="missing_required_parameter"
        )
    if not isinstance(messages, list) or not messages:
        return None, error_body(
            f"Invalid 'messages': {json.dumps(messages)} is not a non-empty array.",
            "invalid_request_error",
            param="messages",
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            return None, error_body(
                f"Missing required parameter: 'messages[{index}].role'.",
                "invalid_request_error",
                param=f"messages[{index}].role",
                code="missing_required_parameter",
            )
    if body.get("stream"):
        return None, error_body(
            "fake OpenAI: stream=true is not supported", "invalid_request_error"
        )
    response_format = body.get("response_format")
    problem = _response_format_problem(response_format, messages)
    if problem is not None:
        return None, error_body(problem, "invalid_request_error", param="response_format")
    return ChatRequest(model, messages, response_format, body), None


def _response_format_problem(response_format: Any, messages: list[dict]) -> str | None:
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        if not any("json" in _message_text(m).lower() for m in messages):
            return (
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'."
            )
        return None
    if kind != "json_schema":
        return (
            f"Invalid value: {kind!r}. Supported values are: 'text', 'json_object' and "
            "'json_schema'."
        )
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        return "Missing required parameter: 'response_format.json_schema.name'."
    schema = spec.get("schema")
    if spec.get("strict") is True:
        problem = strict_schema_problem(schema if isinstance(schema, dict) else {})
        if problem is not None:
            return f"Invalid schema for response_format '{spec['name']}': {problem}"
    return None


def strict_schema_problem(schema: dict, context: tuple[str, ...] = ()) -> str | None:
    """Structured Outputs' strict-mode rules, as OpenAI rejects schemas (None: acceptable).

    The root is an object; every object lists all its properties in ``required`` and sets
    ``additionalProperties: false``; checked through properties, items, anyOf and $defs.
    """
    if not context and schema.get("type") != "object":
        got = schema.get("type")
        return f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'."
    where = f"In context={context!r}, "
    types = schema.get("type")
    if types == "object" or (isinstance(types, list) and "object" in types):
        if schema.get("additionalProperties") is not False:
            return where + "'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties") or {}
        missing = [name for name in properties if name not in (schema.get("required") or [])]
        if missing:
            return (
                where + "'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
        for name, sub in properties.items():
            if problem := strict_schema_problem(sub, (*context, "properties", name)):
                return problem
    children: list[tuple[tuple[str, ...], Any]] = [((*context, "items"), schema.get("items"))]
    for key in ("anyOf", "allOf"):
        children += [((*context, key, str(i)), s) for i, s in enumerate(schema.get(key) or [])]
    for key in ("$defs", "definitions"):
        children += [((*context, key, n), s) for n, s in (schema.get(key) or {}).items()]
    for where_next, sub in children:
        if isinstance(sub, dict) and (problem := strict_schema_problem(sub, where_next)):
            return problem
    return None


def fault_error(kind: str, model: str) -> tuple[int, dict] | None:
    """The HTTP status and error body of an error fault (None for the 200 faults)."""
    if kind == "429":
        message = (
            f"Rate limit reached for {model} in organization org-fake on requests per min "
            "(RPM): Limit 500, Used 500, Requested 1. Please try again in 1s."
        )
        return 429, error_body(message, "rate_limit_error", code="rate_limit_exceeded")
    if kind == "500":
        message = "The server had an error while processing your request. Sorry about that!"
        return 500, error_body(message, "server_error")
    return None


def completion_body(
    request: ChatRequest, result: dict | None, fault: str | None, *, completion_id: str, now: int
) -> dict:
    """A ``chat.completion`` for ``result`` (None only with the "refusal" fault)."""
    content: str | None = None if result is None else json.dumps(result)
    refusal = None
    finish_reason = "stop"
    completion_tokens = text_tokens(content or "")
    if fault == "refusal" or content is None:
        content, refusal = None, REFUSAL
        completion_tokens = text_tokens(REFUSAL)
    elif fault == "invalid_json":
        content = content[:-1] + ",}"  # a trailing comma: never valid JSON
        completion_tokens = text_tokens(content)
    elif fault == "length":
        content = content[: max(1, len(content) // 2)]  # a proper prefix of an object
        finish_reason = "length"
        limit = request.body.get("max_completion_tokens") or request.body.get("max_tokens")
        completion_tokens = int(limit) if isinstance(limit, int) else text_tokens(content)
    prompt = prompt_tokens(request.messages)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": now,
        "model": request.model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                    "annotations": [],
                },
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }
