"""The OpenAI extractor with the shared pacer: run processes together stay under the
provider's limits without 429s, and a 429 pauses the model for every process."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from ingest_pipeline.defs.resources import paced_limits
from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.llm_pacing import LlmPacer
from ingest_pipeline.extraction.openai_extractor import OpenAIConfig, OpenAIExtractor
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI, RateLimit
from ingest_pipeline_tests.llm_answers import POSTING

TASK = get_task("job_posting")
MODEL = "gpt-4o-mini"
RPM = 120  # the fake's bucket holds 120 requests and refills 2 a second


def _inputs(prefix: str, count: int) -> list[ExtractionInput]:
    return [
        ExtractionInput.of(task=TASK.name, text=f"{prefix} opening number {n}")
        for n in range(count)
    ]


def _extractor(base_url: str, pacing_url: str | None, *, max_retries: int = 3) -> OpenAIExtractor:
    pacer = LlmPacer.open(pacing_url, {MODEL: paced_limits(RPM, 1_000_000)}) if pacing_url else None
    config = OpenAIConfig(api_key="test", base_url=base_url, max_retries=max_retries)
    return OpenAIExtractor(config, pacer=pacer)


def run_process(base_url: str, pacing_url: str, prefix: str, count: int) -> None:
    """One run process: ``count`` extractions, 8 in flight at once, through the pacer."""
    extractor = _extractor(base_url, pacing_url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda item: extractor.extract(TASK, item), _inputs(prefix, count)))


@pytest.fixture
def limited() -> FakeOpenAI:
    fake = FakeOpenAI(
        responder=lambda request: dict(POSTING),
        limits={"*": RateLimit(rpm=RPM)},
        latency_seconds=0.05,
    )
    with fake:
        yield fake


@pytest.mark.slow
def test_two_run_processes_share_the_budget_and_get_no_429(
    limited: FakeOpenAI, tmp_path: Path
) -> None:
    pacing_url = f"sqlite:///{tmp_path / 'pacing.db'}"
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=run_process, args=(limited.base_url, pacing_url, name, 70))
        for name in ("first", "second")
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0

    assert limited.stats.chat_ok == 140  # 26 past the pacer's bucket: about 14 s of refill
    assert sum(limited.stats.rate_limited.values()) == 0


def test_without_the_pacer_the_same_load_is_refused(limited: FakeOpenAI) -> None:
    extractor = _extractor(limited.base_url, None, max_retries=0)
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(extractor.extract, TASK, item) for item in _inputs("x", 140)]
    refused = [f for f in futures if isinstance(f.exception(), openai.RateLimitError)]
    assert refused and limited.stats.rate_limited["requests"] == len(refused)


def test_a_429_pauses_the_model_for_every_pacer(tmp_path: Path) -> None:
    pacing_url = f"sqlite:///{tmp_path / 'pacing.db'}"
    with FakeOpenAI(responder=lambda request: dict(POSTING)) as fake:
        fake.faults.next.append("429")
        extractor = _extractor(fake.base_url, pacing_url)
        other = LlmPacer.open(pacing_url, {MODEL: paced_limits(RPM, 1_000_000)})

        outcome = extractor.extract(TASK, _inputs("y", 1)[0])

        assert outcome.result["title"] == "Data Engineer"
        assert fake.stats.rate_limited["rate_limit_error"] == 1 and fake.stats.chat_ok == 1
        # The other process's pacer saw the pause and the budget emptied by it.
        assert other.usage(MODEL).requests_available < paced_limits(RPM, 1).rpm
