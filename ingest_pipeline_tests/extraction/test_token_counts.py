"""Prompt tokens are counted before a call with the model's own tokenizer, offline, so the
pacer books what the provider will bill."""

from __future__ import annotations

import pytest

from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.openai_extractor import OpenAIConfig, OpenAIExtractor
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline.extraction.token_counts import encoding_for, prompt_tokens
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI
from ingest_pipeline_tests.llm_answers import POSTING

TASK = get_task("job_posting")
EMAIL = (
    "Subject: Senior Data Engineer (Berlin, hybrid)\n\n"
    "We're hiring — Python, Spark and dbt; €85–95k. Ünïcödé names, emoji 🚀 and URLs "
    "https://jobs.example.com/p/12345?utm=mail count differently from four characters a token."
)


@pytest.mark.parametrize("structured_outputs", [True, False])
def test_the_estimate_equals_the_prompt_tokens_the_provider_bills(
    structured_outputs: bool,
) -> None:
    with FakeOpenAI(responder=lambda request: dict(POSTING)) as fake:
        config = OpenAIConfig(
            api_key="test", base_url=fake.base_url, structured_outputs=structured_outputs
        )
        extractor = OpenAIExtractor(config)
        item = ExtractionInput.of(task=TASK.name, text=EMAIL)
        estimate = extractor.estimated_tokens(TASK, item)
        extractor.extract(TASK, item)
    assert fake.stats.prompt_tokens == estimate


def test_models_map_to_their_encodings_and_provider_prefixes_are_ignored() -> None:
    assert encoding_for("openai/gpt-4o-mini").name == "o200k_base"  # type: ignore[union-attr]
    assert encoding_for("gpt-4o-mini").name == "o200k_base"  # type: ignore[union-attr]
    assert encoding_for("gpt-3.5-turbo").name == "cl100k_base"  # type: ignore[union-attr]
    assert encoding_for("llama3", "cl100k_base").name == "cl100k_base"  # type: ignore[union-attr]


def test_a_model_without_a_known_tokenizer_is_estimated_from_its_characters() -> None:
    messages = [{"role": "system", "content": "x" * 400}, {"role": "user", "content": "y" * 41}]
    # 100 + 11 content tokens (rounded up), 3 framing each, 3 priming the reply.
    assert prompt_tokens(messages, api_model="meta-llama/Meta-Llama-3-8B-Instruct") == 120
    # The same text in o200k_base is far fewer tokens: runs of one letter merge.
    assert prompt_tokens(messages, api_model="gpt-4o-mini") < 120
