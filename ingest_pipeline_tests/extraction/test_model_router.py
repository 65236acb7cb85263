"""The per-item model router against two local OpenAI-compatible providers, through the real
`openai` client: one with strict structured outputs, one that only speaks JSON mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.extractor import ExtractionFailed
from ingest_pipeline.extraction.model_router import ModelRouter
from ingest_pipeline.extraction.models_registry import ModelSpec, load_registry
from ingest_pipeline.extraction.strict_schema import strict_json_schema
from ingest_pipeline.extraction.tasks import PromptAnswer, get_task
from ingest_pipeline_tests.fakes.openai_server import ChatRequest, FakeOpenAI, ManualClock

pytestmark = pytest.mark.timeout(20)

TASK = get_task("prompt_answer")
PROMPT = "Which CRM is best for a small agency?"
STRICT_KEY = "sk-strict-provider"
JSON_KEY = "sk-json-provider"
KEYS: dict[str, str | None] = {"STRICT_LLM_KEY": STRICT_KEY, "JSON_LLM_KEY": JSON_KEY}


def answer(request: ChatRequest) -> dict[str, Any]:
    """A `PromptAnswer` naming one product, whatever the prompt."""
    return {
        "answer": "Try Acme CRM.",
        "entities": [
            {"name": "Acme CRM", "type": "product", "normalized": "Acme CRM", "position": 4}
        ],
    }


@dataclass
class Providers:
    strict: FakeOpenAI
    json_only: FakeOpenAI


@pytest.fixture
def providers() -> Iterator[Providers]:
    strict = FakeOpenAI(responder=answer, api_keys={STRICT_KEY})
    json_only = FakeOpenAI(responder=answer, api_keys={JSON_KEY}, structured_outputs=False)
    with strict, json_only:
        yield Providers(strict, json_only)
    assert strict.server_errors == [] and json_only.server_errors == []


def registry(providers: Providers) -> dict[str, ModelSpec]:
    """``strict-model`` on the strict provider; on the JSON-only one ``json-model`` (declared
    JSON-only) and ``misdeclared-model`` (declared structured: the provider will refuse)."""
    strict = {
        "provider": "compatible",
        "base_url": providers.strict.base_url,
        "api_key_variable": "STRICT_LLM_KEY",
    }
    json_only = {
        "provider": "compatible",
        "base_url": providers.json_only.base_url,
        "api_key_variable": "JSON_LLM_KEY",
    }
    prices = {"input_price_per_million": 1.0, "output_price_per_million": 4.0}
    return load_registry(
        json.dumps(
            {
                "strict-model": {**strict, **prices, "api_model": "acme/strict-1"},
                "json-model": {**json_only, **prices, "structured_outputs": False},
                "misdeclared-model": {**json_only, **prices},
                "free-model": strict,
                "lost-model": {**strict, "base_url": f"{providers.strict.base_url}/gone"},
            }
        )
    )


def router(providers: Providers, **settings: Any) -> ModelRouter:
    return ModelRouter(
        registry(providers), **{"keys": KEYS, "max_retries": 0, "timeout_seconds": 5, **settings}
    )


def prompt(model: str | None, text: str = PROMPT) -> ExtractionInput:
    return ExtractionInput.of(task="prompt_answer", text=text, model=model, key=f"{model}:{text}")


def test_a_strict_model_is_asked_with_a_strict_schema_and_the_raw_prompt(
    providers: Providers,
) -> None:
    models = router(providers)
    item = prompt("strict-model")

    outcome = models.extract(TASK, item)

    assert outcome.result == answer(providers.strict.requests[0])
    assert outcome.model == models.model_for(item) == "strict-model"
    assert outcome.extra["path"] == "structured" and "fallback" not in outcome.extra
    assert outcome.cost_usd == pytest.approx(
        (outcome.input_tokens * 1.0 + outcome.output_tokens * 4.0) / 1_000_000
    )
    [request] = providers.strict.requests
    assert request.model == "acme/strict-1"
    assert request.response_format is not None
    assert request.response_format["type"] == "json_schema"
    assert request.response_format["json_schema"]["strict"] is True
    assert request.response_format["json_schema"]["name"] == "prompt_answer"
    assert "temperature" not in request.body
    assert request.messages[-1] == {"role": "user", "content": PROMPT}
    assert providers.strict.stats.accepted_by_key == {STRICT_KEY: 1}
    assert providers.json_only.requests == []


def test_a_json_only_model_is_asked_in_json_mode_with_the_schema_in_its_instructions(
    providers: Providers,
) -> None:
    outcome = router(providers).extract(TASK, prompt("json-model"))

    assert outcome.result == answer(providers.json_only.requests[0])
    assert outcome.model == "json-model"
    assert outcome.extra["path"] == "json_mode" and "fallback" not in outcome.extra
    [request] = providers.json_only.requests
    assert request.response_format == {"type": "json_object"}
    system, user = request.messages
    assert json.dumps(strict_json_schema(PromptAnswer)) in system["content"]
    assert user == {"role": "user", "content": PROMPT}
    assert "temperature" not in request.body
    assert providers.json_only.stats.status_counts == {200: 1}
    assert providers.strict.requests == []


def test_a_refused_strict_schema_falls_back_to_json_mode_for_the_rest_of_the_run(
    providers: Providers,
) -> None:
    models = router(providers)
    first_item, second_item = prompt("misdeclared-model", "a"), prompt("misdeclared-model", "b")

    first = models.extract(TASK, first_item)
    second = models.extract(TASK, second_item)

    assert first.result == second.result == answer(providers.json_only.requests[0])
    assert first.model == models.model_for(first_item) == "misdeclared-model"
    assert first.extra["path"] == second.extra["path"] == "json_mode"
    assert "strict schema refused" in first.extra["fallback"]
    assert "'json_schema' is not supported by this model" in first.extra["fallback"]
    assert second.extra["fallback"] == first.extra["fallback"]
    kinds = [(r.response_format or {})["type"] for r in providers.json_only.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert providers.json_only.stats.status_counts == {400: 1, 200: 2}


@pytest.mark.parametrize("model", ["strict-model", "json-model"])
def test_an_answer_outside_the_schema_fails_only_that_input(
    providers: Providers, model: str
) -> None:
    def half_broken(request: ChatRequest) -> dict[str, Any]:
        if "broken" in request.messages[-1]["content"]:
            return {"answer": ["not", "text"]}
        return answer(request)

    providers.strict.responder = providers.json_only.responder = half_broken
    models = router(providers)

    with pytest.raises(ExtractionFailed, match="does not fit the schema") as caught:
        models.extract(TASK, prompt(model, "a broken answer"))
    fine = models.extract(TASK, prompt(model, "a fine answer"))

    assert "answer" in str(caught.value) and "entities" in str(caught.value)
    assert fine.result["answer"] == "Try Acme CRM."


def test_an_unknown_model_fails_the_input_listing_the_known_ones(providers: Providers) -> None:
    models = router(providers)

    with pytest.raises(ExtractionFailed, match="unknown model 'gpt-9'") as caught:
        models.extract(TASK, prompt("gpt-9"))
    with pytest.raises(ExtractionFailed, match="names no model"):
        models.extract(TASK, prompt(None))

    assert "json-model" in str(caught.value) and "strict-model" in str(caught.value)
    assert models.estimated_cost(TASK, prompt("gpt-9")) == 0.0
    assert providers.strict.stats.chat_calls == providers.json_only.stats.chat_calls == 0


def test_a_model_whose_key_is_not_set_fails_naming_the_variable(providers: Providers) -> None:
    models = router(providers, keys={"STRICT_LLM_KEY": STRICT_KEY, "JSON_LLM_KEY": None})

    with pytest.raises(ExtractionFailed, match="set JSON_LLM_KEY"):
        models.extract(TASK, prompt("json-model"))
    answered = models.extract(TASK, prompt("strict-model"))

    assert answered.extra["path"] == "structured"
    assert models.estimated_cost(TASK, prompt("json-model")) == 0.0
    assert providers.json_only.stats.chat_calls == 0


def test_a_key_the_provider_rejects_fails_the_input_naming_the_variable(
    providers: Providers,
) -> None:
    models = router(providers, keys={**KEYS, "STRICT_LLM_KEY": "sk-revoked-long-ago"})

    with pytest.raises(ExtractionFailed, match=r"rejected the key in STRICT_LLM_KEY \(401\)"):
        models.extract(TASK, prompt("strict-model"))

    assert models.extract(TASK, prompt("json-model")).extra["path"] == "json_mode"
    assert providers.strict.stats.status_counts == {401: 1}


def test_a_model_the_provider_does_not_know_fails_the_input(providers: Providers) -> None:
    with pytest.raises(ExtractionFailed, match="does not know model 'lost-model'"):
        router(providers).extract(TASK, prompt("lost-model"))

    assert providers.strict.stats.status_counts == {404: 1}


def test_a_server_error_outliving_the_retries_fails_the_input_with_the_status(
    providers: Providers,
) -> None:
    models = router(providers)
    providers.strict.faults.next.append("500")

    with pytest.raises(ExtractionFailed, match="answered 500 after 0 retries"):
        models.extract(TASK, prompt("strict-model", "unlucky"))
    later = models.extract(TASK, prompt("strict-model", "lucky"))

    assert later.extra["path"] == "structured"
    assert providers.strict.stats.status_counts == {500: 1, 200: 1}


def test_offline_answers_every_model_with_the_rules_and_calls_nobody(
    providers: Providers,
) -> None:
    models = router(providers, keys={}, offline=True)
    text = "Which CRM is better for a small agency, HubSpot or Salesforce?"

    outcomes = [models.extract(TASK, prompt(m, text)) for m in ("strict-model", "gpt-9")]

    for outcome in outcomes:
        assert outcome.model == "offline-rules-1"
        assert outcome.extra["path"] == "offline"
        assert outcome.cost_usd == 0.0
        names = [e.name for e in PromptAnswer.model_validate(outcome.result).entities]
        assert names == ["HubSpot", "Salesforce"]
    assert models.model_for(prompt("strict-model")) == "offline-rules-1"
    assert models.estimated_cost(TASK, prompt("strict-model")) == 0.0
    assert providers.strict.stats.chat_calls == providers.json_only.stats.chat_calls == 0


def test_the_cache_is_keyed_on_the_model_each_input_names(providers: Providers) -> None:
    models = router(providers)

    assert models.model_for(prompt("strict-model")) == "strict-model"
    assert models.model_for(prompt("json-model")) == "json-model"
    assert models.model_for(prompt("gpt-9")) == "gpt-9"


def test_the_estimated_cost_uses_the_models_prices(providers: Providers) -> None:
    models = router(providers)
    short, long = prompt("strict-model", "CRM?"), prompt("strict-model", "Which CRM? " * 200)

    assert 0 < models.estimated_cost(TASK, short) < models.estimated_cost(TASK, long)
    assert models.estimated_cost(TASK, prompt("free-model")) == 0.0
    assert providers.strict.stats.chat_calls == 0


def test_the_latency_is_the_time_the_provider_took_on_the_injected_clock(
    providers: Providers,
) -> None:
    clock = ManualClock(1_000.0)

    def slow_answer(request: ChatRequest) -> dict[str, Any]:
        clock.advance(2.5)
        return answer(request)

    providers.strict.responder = slow_answer
    outcome = router(providers, clock=clock).extract(TASK, prompt("strict-model"))

    assert outcome.extra["latency_ms"] == 2_500
