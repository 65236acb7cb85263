"""Per-item models: each input answered by the registry model it names.

The prompt-runs stream asks every prompt of several models in one partition. The router
is the `Extractor` of such a run: an input's ``model`` picks the registry entry (provider,
endpoint, key variable, prices, limits, structured outputs), and one `OpenAIExtractor`
per model, sharing the run's pacer, makes the call.

How an answer's shape is enforced is recorded in the outcome's ``extra["path"]``:
``structured`` (strict JSON schema), ``json_mode`` (JSON mode plus validation: for models
whose registry entry says ``structured_outputs: false``, and the fallback when a provider
refuses a strict schema with a 400, after which that model is asked in JSON mode for the
rest of the run) or ``offline``. What a model gets wrong for one input (an unknown model,
a missing key, a refusal, a 4xx, a 5xx that outlived the client's retries, an answer that
does not fit the schema) fails that input alone, with the reason; connection errors still
reach the op's RetryPolicy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import openai

from ingest_pipeline.domain import ExtractionInput, ExtractionOutcome
from ingest_pipeline.extraction.extractor import ExtractionFailed
from ingest_pipeline.extraction.models_registry import ModelSpec, UnknownModel, get_model
from ingest_pipeline.extraction.offline_extractor import OFFLINE_MODEL, OfflineExtractor
from ingest_pipeline.extraction.openai_extractor import OpenAIConfig, OpenAIExtractor
from ingest_pipeline.extraction.tasks import TaskSpec

ROUTER_LABEL = "per-item models (registry)"
# What providers say when they do not take a strict JSON schema (OpenAI, vLLM, OpenRouter).
_SCHEMA_REFUSED = ("response_format", "json_schema", "structured output")


class ModelRouter:
    """An `Extractor` that sends each input to the model it names.

    ``keys`` maps an environment variable name (a registry entry's ``api_key_variable``)
    to its value; ``offline`` answers everything with the offline rules instead (no key,
    no cost, ``offline-rules-1`` as the answering model). ``make_client`` builds the
    openai client of a model (tests inject nothing: the real client is used).
    """

    model = ROUTER_LABEL

    def __init__(
        self,
        registry: Mapping[str, ModelSpec],
        *,
        keys: Mapping[str, str | None],
        offline: bool = False,
        pacer: Any = None,
        timeout_seconds: float = 60.0,
        max_retries: int = 3,
        max_input_tokens: int = 6_000,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.registry = dict(registry)
        self.keys = dict(keys)
        self.offline = offline
        self.pacer = pacer
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.max_input_tokens = max_input_tokens
        self._clock = clock
        self._lock = threading.Lock()
        self._extractors: dict[tuple[str, bool], OpenAIExtractor] = {}
        self._json_only: dict[str, str] = {}

    def model_for(self, item: ExtractionInput) -> str:
        """The model whose answer the cache holds for ``item``."""
        return OFFLINE_MODEL if self.offline else item.model or ""

    def estimated_cost(self, task: TaskSpec, item: ExtractionInput) -> float:
        if self.offline:
            return 0.0
        try:
            spec = self._spec(item)
            structured = spec.structured_outputs and spec.name not in self._json_only
            return self._extractor(spec, structured=structured).estimated_cost(task, item)
        except ExtractionFailed:
            return 0.0

    def extract(self, task: TaskSpec, item: ExtractionInput) -> ExtractionOutcome:
        if self.offline:
            outcome = OfflineExtractor().extract(task, item)
            return replace(outcome, extra={**outcome.extra, "path": "offline"})
        spec = self._spec(item)
        structured = spec.structured_outputs and spec.name not in self._json_only
        started = self._clock()
        fallback = None
        try:
            outcome = self._call(spec, task, item, structured=structured)
        except openai.BadRequestError as exc:
            if not (structured and _schema_refused(exc)):
                raise ExtractionFailed(
                    f"{spec.name}: the provider refused the request: {_said(exc)}"
                ) from exc
            fallback = f"strict schema refused ({_said(exc)}); answered in JSON mode"
            with self._lock:
                self._json_only[spec.name] = fallback
            try:
                outcome = self._call(spec, task, item, structured=False)
            except openai.BadRequestError as again:
                raise ExtractionFailed(
                    f"{spec.name}: the provider refused the request in JSON mode too: "
                    f"{_said(again)}"
                ) from again
        if fallback is None and spec.name in self._json_only and spec.structured_outputs:
            fallback = self._json_only[spec.name]
        extra = {
            **outcome.extra,
            "path": "structured" if outcome.extra.get("structured_outputs") else "json_mode",
            "latency_ms": round((self._clock() - started) * 1000),
        }
        if fallback:
            extra["fallback"] = fallback
        return replace(outcome, extra=extra)

    def _call(
        self, spec: ModelSpec, task: TaskSpec, item: ExtractionInput, *, structured: bool
    ) -> ExtractionOutcome:
        extractor = self._extractor(spec, structured=structured)
        try:
            return extractor.extract(task, item)
        except openai.BadRequestError:
            raise
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise ExtractionFailed(
                f"{spec.name}: the provider rejected the key in {spec.api_key_variable} "
                f"({exc.status_code}): {_said(exc)}"
            ) from exc
        except openai.NotFoundError as exc:
            raise ExtractionFailed(
                f"{spec.name}: the provider does not know model {spec.api_model!r}: {_said(exc)}"
            ) from exc
        except openai.APIStatusError as exc:
            raise ExtractionFailed(
                f"{spec.name}: the provider answered {exc.status_code} after "
                f"{self.max_retries} retries: {_said(exc)}"
            ) from exc

    def _spec(self, item: ExtractionInput) -> ModelSpec:
        if not item.model:
            raise ExtractionFailed("the input names no model to ask")
        try:
            return get_model(item.model, dict(self.registry))
        except UnknownModel as exc:
            raise ExtractionFailed(str(exc)) from exc

    def _extractor(self, spec: ModelSpec, *, structured: bool) -> OpenAIExtractor:
        with self._lock:
            found = self._extractors.get((spec.name, structured))
            if found is not None:
                return found
            key = self.keys.get(spec.api_key_variable)
            if not key:
                raise ExtractionFailed(
                    f"no API key for model {spec.name}: set {spec.api_key_variable} "
                    "(or ask another model)"
                )
            config = OpenAIConfig(
                api_key=key,
                model=spec.name,
                base_url=spec.base_url,
                timeout_seconds=self.timeout_seconds,
                max_retries=self.max_retries,
                max_input_tokens=self.max_input_tokens,
                input_price_per_million=spec.input_price_per_million,
                output_price_per_million=spec.output_price_per_million,
                api_model=spec.api_model,
                structured_outputs=structured,
                tokenizer=spec.tokenizer,
            )
            pacer = (
                self.pacer if self.pacer is not None and spec.name in self.pacer.models else None
            )
            extractor = OpenAIExtractor(config, pacer=pacer)
            self._extractors[(spec.name, structured)] = extractor
            return extractor


def _said(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    message = body.get("message") or (body.get("error") or {}).get("message") or exc.message
    return str(message)[:300]


def _schema_refused(exc: openai.BadRequestError) -> bool:
    """The provider does not take strict schemas at all (not: our schema is invalid)."""
    text = _said(exc).lower()
    return "invalid schema" not in text and any(marker in text for marker in _SCHEMA_REFUSED)
