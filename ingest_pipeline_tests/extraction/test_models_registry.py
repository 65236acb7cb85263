"""The models registry: built-in and configured models, with their provider, key, prices,
limits and structured-output support, called through the real openai client on two local
OpenAI-compatible servers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ingest_pipeline.defs.resources import extractor_from
from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.extractor import ExtractionFailed
from ingest_pipeline.extraction.models_registry import UnknownModel, get_model, load_registry
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline.settings import Settings
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI
from ingest_pipeline_tests.llm_answers import POSTING

TASK = get_task("job_posting")
ITEM = ExtractionInput.of(task=TASK.name, text="We are hiring a Data Engineer at Acme.")


def _built(settings: Settings) -> Any:
    """The extractor a run's resource builds (the EnvVar'd key resolved as Dagster does)."""
    return extractor_from(settings, kind="openai").process_config_and_initialize().build()


def test_built_in_models_carry_provider_key_prices_and_limits() -> None:
    spec = get_model("gpt-4o-mini", load_registry())
    assert (spec.provider, spec.api_model, spec.base_url) == ("openai", "gpt-4o-mini", None)
    assert spec.api_key_variable == "OPENAI_API_KEY"
    assert (spec.input_price_per_million, spec.output_price_per_million) == (0.15, 0.60)
    assert (spec.rpm, spec.tpm, spec.structured_outputs) == (500, 200_000, True)


def test_configured_models_take_their_provider_defaults() -> None:
    registry = load_registry(
        json.dumps(
            {
                "router-mini": {"provider": "openrouter", "api_model": "openai/gpt-4o-mini"},
                "gpt-4o": {"rpm": 10_000},
            }
        )
    )
    router = get_model("router-mini", registry)
    assert router.base_url == "https://openrouter.ai/api/v1"
    assert router.api_key_variable == "OPENROUTER_API_KEY"
    assert get_model("gpt-4o", registry).rpm == 10_000
    assert get_model("gpt-4o", registry).input_price_per_million == 2.50


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ('{"local": {"provider": "compatible"}}', "a compatible model needs a base_url"),
        ('{"local": {"provider": "compatible", "speed": 3}}', "unknown fields ['speed']"),
        ("{not json", "INGEST_MODELS is not valid JSON"),
        ('{"local": {"provider": "acme", "base_url": "http://x"}}', "unknown provider 'acme'"),
    ],
)
def test_bad_model_configuration_is_a_clear_error(models: str, message: str) -> None:
    with pytest.raises(UnknownModel, match=message.replace("[", r"\[").replace("]", r"\]")):
        get_model("local", load_registry(models))


def test_an_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(UnknownModel, match=r"unknown model 'gpt-9'; known models: gpt-4\.1-mini"):
        get_model("gpt-9", load_registry())


def test_two_providers_each_get_their_own_key_endpoint_and_api_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    with (
        FakeOpenAI(responder=lambda r: dict(POSTING), api_keys={"sk-openai"}) as openai_fake,
        FakeOpenAI(responder=lambda r: dict(POSTING), api_keys={"sk-local"}) as local_fake,
    ):
        monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
        monkeypatch.setenv("LLM_API_KEY", "sk-local")
        models = {
            "local-llama": {
                "provider": "compatible",
                "base_url": local_fake.base_url,
                "api_model": "meta-llama/Llama-3-8B",
                "structured_outputs": False,
            }
        }
        monkeypatch.setenv("INGEST_MODELS", json.dumps(models))
        monkeypatch.setenv("INGEST_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("INGEST_OPENAI_BASE_URL", openai_fake.base_url)
        hosted = _built(Settings())
        monkeypatch.delenv("INGEST_OPENAI_BASE_URL")
        monkeypatch.setenv("INGEST_OPENAI_MODEL", "local-llama")
        local = _built(Settings())

        first = hosted.extract(TASK, ITEM)
        second = local.extract(TASK, ITEM)

    assert first.model == "gpt-4o-mini" and second.model == "local-llama"  # the cache key
    assert [r.model for r in openai_fake.requests] == ["gpt-4o-mini"]
    [sent] = local_fake.requests
    assert sent.model == "meta-llama/Llama-3-8B"
    assert sent.response_format == {"type": "json_object"}  # JSON mode, validated after
    assert "validate against this JSON schema" in sent.messages[0]["content"]
    assert (first.extra["structured_outputs"], second.extra["structured_outputs"]) == (True, False)


def test_json_mode_answers_that_do_not_fit_the_schema_fail_the_item(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    with FakeOpenAI(responder=lambda r: {"is_job_posting": "maybe"}) as fake:
        models = {
            "loose": {
                "provider": "compatible",
                "base_url": fake.base_url,
                "structured_outputs": False,
            }
        }
        monkeypatch.setenv("INGEST_MODELS", json.dumps(models))
        monkeypatch.setenv("INGEST_OPENAI_MODEL", "loose")
        monkeypatch.setenv("LLM_API_KEY", "sk-any")
        monkeypatch.setenv("INGEST_DATA_DIR", str(tmp_path))
        extractor = _built(Settings())

        with pytest.raises(ExtractionFailed, match="does not fit the schema"):
            extractor.extract(TASK, ITEM)
