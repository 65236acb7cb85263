"""The gpt step on OpenAI (or an OpenAI-compatible server: Azure OpenAI, vLLM, Ollama).

One chat completion per input with the task's pydantic schema sent as a strict JSON schema
(structured outputs). The email goes in as delimited, untrusted data after the versioned
instructions, with invisible characters removed and cut to a token budget; no tools are
offered; the answer is parsed and validated against the schema before anything uses it. A
refusal, a length cut-off, or an answer that is not valid JSON for the schema fails that one
item with the reason. Rate limits (429 with Retry-After) and 5xx are retried by the openai
client itself; what still fails reaches the op's RetryPolicy.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
from pydantic import ValidationError

from ingest_pipeline.domain import ExtractionInput, ExtractionOutcome
from ingest_pipeline.extraction.extractor import ExtractionFailed
from ingest_pipeline.extraction.llm_input import delimited_email, prepare_text
from ingest_pipeline.extraction.llm_pacing import LlmPacer
from ingest_pipeline.extraction.llm_pacing_headers import cool_down_seconds
from ingest_pipeline.extraction.strict_schema import strict_json_schema
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.extraction.token_counts import prompt_tokens

JSON_MODE_INSTRUCTIONS = (
    "\n\nAnswer with one JSON object and nothing else. It must validate against this JSON schema: "
)
# A job posting or application answer as JSON is a few hundred tokens.
EXPECTED_OUTPUT_TOKENS = 300


@dataclass(frozen=True)
class OpenAIConfig:
    """Client settings and prices (USD per million tokens) used to cost each call."""

    api_key: str
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    timeout_seconds: float = 60.0
    max_retries: int = 3
    max_input_tokens: int = 6_000
    input_price_per_million: float = 0.15
    output_price_per_million: float = 0.60
    api_model: str | None = None
    structured_outputs: bool = True
    tokenizer: str | None = None

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.input_price_per_million
            + output_tokens * self.output_price_per_million
        ) / 1_000_000


class OpenAIExtractor:
    """Extracts with a chat model; ``model`` (with the prompt version) keys the cache.

    With a ``pacer`` every call first takes its turn in the model's request and token
    budgets shared by all run processes (`llm_pacing`); a 429 pauses the model for all of
    them for its Retry-After, and the call is asked again (up to ``max_retries`` times) once
    its turn comes, so the deployment runs at the provider's ceiling without 429 storms.
    Without one, the openai client's own retries honour Retry-After per call.
    """

    def __init__(
        self,
        config: OpenAIConfig,
        *,
        client: openai.OpenAI | None = None,
        pacer: LlmPacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.model = config.model
        self.pacer = pacer
        self._sleep = sleep
        self.client = client or openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout_seconds,
            # Paced calls are retried here, so that a 429 pauses every process.
            max_retries=0 if pacer is not None else config.max_retries,
        )

    def request_body(self, task: TaskSpec, item: ExtractionInput) -> tuple[dict[str, Any], bool]:
        """The chat completion request for one input, and whether the input was truncated."""
        text, truncated = prepare_text(item.text, max_tokens=self.config.max_input_tokens)
        schema = strict_json_schema(task.schema)
        instructions = task.prompt()
        response_format: dict[str, Any] = {
            "type": "json_schema",
            "json_schema": {"name": task.name, "schema": schema, "strict": True},
        }
        if not self.config.structured_outputs:
            # JSON mode: the schema goes in the instructions, the answer is validated after.
            instructions += JSON_MODE_INSTRUCTIONS + json.dumps(schema)
            response_format = {"type": "json_object"}
        body: dict[str, Any] = {
            "model": self.config.api_model or self.model,
            "messages": [
                {"role": "system", "content": instructions},
                {"role": "user", "content": delimited_email(text) if task.fenced_input else text},
            ],
            "response_format": response_format,
        }
        if task.temperature is not None:
            body["temperature"] = task.temperature
        return body, truncated

    def estimated_tokens(self, task: TaskSpec, item: ExtractionInput) -> int:
        """Prompt tokens one call should take, before it is made: every message the request
        sends (instructions, JSON-mode schema, the truncated email), counted with the
        model's tokenizer when one is known offline (`token_counts`). The answer's ``usage``
        settles the real count, output included (the request sets no max_tokens, so the
        provider books the prompt)."""
        body, _ = self.request_body(task, item)
        return prompt_tokens(
            body["messages"], api_model=str(body["model"]), encoding_name=self.config.tokenizer
        )

    def estimated_cost(self, task: TaskSpec, item: ExtractionInput) -> float:
        """USD one call should cost (prompt and a typical answer), reserved against the
        day's budget while it runs."""
        return self.config.cost(self.estimated_tokens(task, item), EXPECTED_OUTPUT_TOKENS)

    def extract(self, task: TaskSpec, item: ExtractionInput) -> ExtractionOutcome:
        body, truncated = self.request_body(task, item)
        if self.pacer is None:
            raw = self.client.chat.completions.with_raw_response.create(**body)
        else:
            raw = self._paced_call(self.pacer, body, tokens=self.estimated_tokens(task, item))
        completion = raw.parse()
        return outcome_from_completion(
            completion.model_dump(),
            task=task,
            config=self.config,
            request_id=raw.headers.get("x-request-id"),
            truncated=truncated,
        )

    def _paced_call(self, pacer: LlmPacer, body: dict[str, Any], *, tokens: int) -> Any:
        """One chat completion in its turn of the shared budgets; 429s pause every process,
        transient errors are asked again with backoff; the answer's usage settles the
        estimate."""
        for attempt in range(self.config.max_retries + 1):
            last = attempt == self.config.max_retries
            grant = pacer.acquire(self.model, tokens=tokens)
            try:
                raw = self.client.chat.completions.with_raw_response.create(**body)
            except openai.RateLimitError as exc:
                if "too large" in str(exc).lower():
                    raise ExtractionFailed(f"the request is over the model's limit: {exc}") from exc
                pacer.cool_down(self.model, cool_down_seconds(429, exc.response.headers) or 0.0)
                if last:
                    raise
                continue
            except (openai.APIConnectionError, openai.InternalServerError):
                if last:
                    raise
                self._sleep(min(2.0**attempt, 30.0) * random.uniform(0.5, 1.0))
                continue
            pause = cool_down_seconds(raw.status_code, raw.headers)
            if pause is not None:
                pacer.cool_down(self.model, pause)
            usage = raw.parse().usage
            if usage is not None:
                pacer.settle(grant, actual_tokens=usage.prompt_tokens + usage.completion_tokens)
            return raw
        raise AssertionError("unreachable: the last attempt returns or raises")


def outcome_from_completion(
    completion: dict[str, Any],
    *,
    task: TaskSpec,
    config: OpenAIConfig,
    request_id: str | None,
    truncated: bool,
) -> ExtractionOutcome:
    """Validate a chat completion (direct or from a batch output line) into an outcome."""
    choices = completion.get("choices") or []
    if not choices:
        raise ExtractionFailed("the model returned no choices")
    choice = choices[0]
    message = choice.get("message") or {}
    if message.get("refusal"):
        raise ExtractionFailed(f"the model refused: {message['refusal']}")
    if choice.get("finish_reason") == "length":
        raise ExtractionFailed("the answer was cut off at the length limit")
    content = message.get("content") or ""
    try:
        result = task.schema.model_validate(json.loads(content)).model_dump()
    except json.JSONDecodeError as exc:
        raise ExtractionFailed(f"the model's answer is not valid JSON ({exc.msg})") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ExtractionFailed(f"the model's answer does not fit the schema: {problems}") from exc
    usage = completion.get("usage") or {}
    input_tokens = int(usage.get("prompt_tokens") or 0)
    output_tokens = int(usage.get("completion_tokens") or 0)
    return ExtractionOutcome(
        result=result,
        model=config.model,
        prompt_version=task.prompt_version,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=round(config.cost(input_tokens, output_tokens), 8),
        request_id=request_id or completion.get("id"),
        extra={
            "extractor": "openai",
            "truncated": truncated,
            "structured_outputs": config.structured_outputs,
        },
    )
