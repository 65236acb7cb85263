"""Benchmark: one day of a prompt set through the gpt step - many answers in flight under
the models' shared rate limits against the same work one call at a time, in one run.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/prompt_runs_bench.py [--quick] [--concurrency 16]
        [--prompts 50] [--runs 3] [--latency 1.0] [--rpm 100] [--tpm 100000]
        [--baseline-sample N] [--redis [URL]]

The day is ``--prompts`` prompts, each asked of 3 models ``--runs`` times: 50 x 3 x 3 = 450
answers by default (``--quick``: 10 x 3 x 1 = 30 answers at 0.2 s). The models are a
registry of three ``compatible`` entries (`load_registry` of ``INGEST_MODELS``-style JSON),
two served by one `FakeOpenAI` (provider A) and one by a second (provider B), each entry
with ``--rpm``/``--tpm``; provider A's key allows twice that, shared by its two models, and
every accepted call answers after ``--latency`` seconds with a valid ``prompt_answer``.

Each scenario gets a fresh SQLite app database in a temp dir (`migrate.upgrade`), fresh
fakes (full buckets, as on the day's first run) and a fresh pacer store (a SQLite file
beside the app database, or the bench models' keys deleted from Redis with ``--redis``).
Untimed: the prompt set and its prompts (`store.prompts`), then enumerate, fetch and parse
of the day with the ``prompts`` source, each holding the partition lease as its op does.
Timed: ``extract_partition(kind=prompt_runs, task=prompt_answer, extractor=router)`` with
the router the gpt op builds (`ExtractorResource.router()`: a `ModelRouter` over the
registry, with an `LlmPacer` holding `paced_limits` of every model's rpm/tpm), at
``concurrency=1`` (a) and ``--concurrency`` (b). A full (a) takes about one latency per
answer (450 s by default); ``--baseline-sample N`` fetches only the day's first N answers
(rounded up to whole prompts) for (a) and extrapolates its time linearly, marked ``*``
(or, when the limits alone would hold one call at a time longer than that, takes their lower
bound for the day, and says the speed-up is then a lower bound, ``>=``).

The table goes to stdout, progress lines to stderr. Besides wall times, answers/s and the
speed-up, it prints the 429s each fake answered (``fake.stats.rate_limited``) and (b)'s
lower bound (concurrency x latency, or the pacer's budgets), and checks each database: every
item the step was given at step ``extracted``, none failed, one stored extraction per answer
by the model the item names. The exit status is 0 only when both checks pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ingest_pipeline_tests is not installed into the venv

import sqlalchemy as sa  # noqa: E402

from ingest_pipeline.defs.resources import (  # noqa: E402
    PACING_HEADROOM,
    ExtractorResource,
    limits_from,
    paced_limits,
)
from ingest_pipeline.extraction.llm_pacing import pacing_url_for  # noqa: E402
from ingest_pipeline.extraction.tasks import get_task  # noqa: E402
from ingest_pipeline.settings import get_settings  # noqa: E402
from ingest_pipeline.sources.registry import build_source  # noqa: E402
from ingest_pipeline.steps.enumerate_step import enumerate_partition  # noqa: E402
from ingest_pipeline.steps.extract_step import extract_partition  # noqa: E402
from ingest_pipeline.steps.fetch_step import fetch_partition  # noqa: E402
from ingest_pipeline.steps.parse_step import parse_partition  # noqa: E402
from ingest_pipeline.steps.partition_lease import hold_partition, release_partition  # noqa: E402
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext  # noqa: E402
from ingest_pipeline.store.database import dispose_engine, session_scope  # noqa: E402
from ingest_pipeline.store.ledger import PartitionKey, in_partition  # noqa: E402
from ingest_pipeline.store.migrate import upgrade  # noqa: E402
from ingest_pipeline.store.models import IngestItem, LlmExtraction  # noqa: E402
from ingest_pipeline.store.prompts import PromptSpec, add_prompt, prompt_set  # noqa: E402
from ingest_pipeline.streams.registry import get_stream  # noqa: E402
from ingest_pipeline_tests.fakes.openai_server import (  # noqa: E402
    ChatRequest,
    FakeOpenAI,
    OpenAIStats,
    RateLimit,
)

DAY = dt.date(2026, 12, 7)
STREAM = "prompt_runs"
KIND = get_stream(STREAM)
TASK = get_task("prompt_answer")
SET_NAME = "bench-prompt-set"
API_KEY = "bench"  # LLM_API_KEY, the key of every "compatible" registry entry
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# Registry name -> the provider (fake) serving it; provider A's two share its key's limits.
MODELS = {"llama-3-8b": "A", "qwen-2.5-7b": "A", "mistral-small": "B"}
PROVIDERS = ("A", "B")

# Topic -> what an answer names; every one a product, except those in COMPANIES.
TOPICS: dict[str, tuple[str, ...]] = {
    "CRM for a small sales team": ("HubSpot", "Salesforce", "Pipedrive", "Zoho CRM", "Close"),
    "project management tool for a remote agency": (
        "Asana",
        "Trello",
        "Monday.com",
        "ClickUp",
        "Basecamp",
    ),
    "cloud data warehouse for a startup": (
        "Snowflake",
        "BigQuery",
        "Amazon Redshift",
        "Databricks",
        "ClickHouse",
    ),
    "password manager for a small company": (
        "1Password",
        "Bitwarden",
        "Dashlane",
        "Keeper",
        "LastPass",
    ),
    "email marketing platform for an online shop": (
        "Mailchimp",
        "Klaviyo",
        "Brevo",
        "ConvertKit",
        "Omnisend",
    ),
    "accounting software for freelancers": ("QuickBooks", "Xero", "FreshBooks", "Wave"),
    "video conferencing tool for hybrid teams": (
        "Zoom",
        "Microsoft Teams",
        "Google Meet",
        "Webex",
        "Whereby",
    ),
    "help desk software for a SaaS company": (
        "Zendesk",
        "Freshdesk",
        "Intercom",
        "Help Scout",
        "Front",
    ),
    "observability platform for Kubernetes": (
        "Datadog",
        "Grafana",
        "New Relic",
        "Honeycomb",
        "Dynatrace",
    ),
    "e-signature service for sales contracts": (
        "DocuSign",
        "Dropbox Sign",
        "PandaDoc",
        "SignNow",
    ),
}
COMPANIES = frozenset(
    {"Salesforce", "Snowflake", "Databricks", "Klaviyo", "Xero", "Zoom", "Zendesk", "Intercom"}
    | {"Datadog", "New Relic", "Honeycomb", "Dynatrace", "DocuSign"}
)
ASKS = [
    "What is the best {topic}?",
    "Which {topic} would you recommend to a friend, and why?",
    "List the top three options for a {topic}, with one reason each.",
    "I am choosing a {topic}; what should be on my shortlist?",
    "Compare the most popular choices of {topic} on price and ease of use.",
]
_answers = itertools.count()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prompt_texts(count: int) -> list[str]:
    """``count`` distinct prompts (each topic asked in each way, then numbered variants)."""
    texts = [ask.format(topic=topic) for ask in ASKS for topic in TOPICS]
    return [
        texts[i % len(texts)] + (f" (variant {i // len(texts) + 1})" if i >= len(texts) else "")
        for i in range(count)
    ]


def answer(request: ChatRequest) -> dict[str, Any]:
    """A valid ``prompt_answer``: an answer naming three of the topic's products, listed
    with their offsets; each call draws its own three, as runs of one prompt differ."""
    text = str(request.messages[-1].get("content", ""))
    names = next((names for topic, names in TOPICS.items() if topic in text), ("Acme",) * 3)
    rng = random.Random(f"{request.model}|{text}|{next(_answers)}")
    a, b, c = rng.sample(names, 3)
    said = (
        f"{a} is the usual first choice. {b} suits larger budgets, and {c} is quickest to set up."
    )
    return {
        "answer": said,
        "entities": [
            {
                "name": name,
                "type": "company" if name in COMPANIES else "product",
                "normalized": name,
                "position": said.find(name),
            }
            for name in (a, b, c)
        ],
    }


@dataclass(frozen=True)
class Plan:
    """The day's size and the conditions every scenario runs under."""

    prompts: int
    runs: int
    latency: float
    concurrency: int
    rpm: int
    tpm: int
    baseline_sample: int | None
    redis_url: str | None

    @property
    def answers(self) -> int:
        return self.prompts * len(MODELS) * self.runs

    @property
    def per_prompt(self) -> int:
        return len(MODELS) * self.runs

    def provider_limit(self, provider: str) -> RateLimit:
        """A provider's per-key limits: each of its models' registry limits, added up."""
        share = sum(1 for p in MODELS.values() if p == provider)
        return RateLimit(rpm=self.rpm * share, tpm=self.tpm * share)


@dataclass(frozen=True)
class Scenario:
    """One scenario's figures: the step's metrics, the fakes' counters, the ledger after."""

    label: str
    concurrency: int
    timed: int  # answers the step was given (the baseline sample, or the whole day)
    seconds: float
    metrics: dict[str, Any]
    stats: dict[str, OpenAIStats]
    steps: dict[tuple[str, str], int]  # (ledger step, status) -> items
    by_model: dict[str, int]  # stored extractions per answering model

    @property
    def refused(self) -> int:
        return sum(sum(s.rate_limited.values()) for s in self.stats.values())

    @property
    def calls(self) -> int:
        return sum(s.chat_calls for s in self.stats.values())

    @property
    def rate(self) -> float:
        return self.metrics["extracted"] / self.seconds if self.seconds > 0 else 0.0

    @property
    def in_flight(self) -> str:
        """The most calls each fake answered at once, ``A/B``."""
        return "/".join(str(self.stats[p].max_in_flight) for p in PROVIDERS)

    @property
    def tokens_per_call(self) -> float:
        """Prompt plus completion tokens per answered call: what the pacer spends (it books
        the prompt estimate, and `settle` charges the answer's usage beyond it)."""
        ok = sum(s.chat_ok for s in self.stats.values())
        used = sum(s.prompt_tokens + s.completion_tokens for s in self.stats.values())
        return used / max(ok, 1)


def registry_json(urls: dict[str, str], plan: Plan) -> str:
    """The ``INGEST_MODELS`` JSON of the bench's three models on the fakes at ``urls``."""
    return json.dumps(
        {
            name: {
                "provider": "compatible",
                "base_url": urls[provider],
                "rpm": plan.rpm,
                "tpm": plan.tpm,
                "input_price_per_million": 0.15,
                "output_price_per_million": 0.60,
            }
            for name, provider in MODELS.items()
        }
    )


def parsed_day(url: str, plan: Plan, fetch_cap: int | None) -> StepContext:
    """A new prompt set with ``plan.prompts`` prompts, its DAY enumerated, fetched (the first
    ``fetch_cap`` runs only, when given) and parsed, each step holding the partition lease."""
    with session_scope(url) as session:
        row = prompt_set(session, SET_NAME, create=True)
        for text in prompt_texts(plan.prompts):
            add_prompt(
                session, row, PromptSpec(text=text, models=tuple(MODELS), runs_per_day=plan.runs)
            )
        info = IntegrationInfo.of(row)
    limits = limits_from(get_settings())
    ctx = StepContext(
        url,
        info,
        PartitionKey(info.id, DAY, STREAM),
        uuid.uuid4().hex,
        limits.batch_size,
        lease=limits.lease_terms(),
    )
    source = build_source(
        provider="prompts", account=info.account, database_url=url, integration_id=info.id
    )
    source.check()
    with hold_partition(ctx):
        enumerate_partition(ctx, source)
    with hold_partition(ctx):
        fetch_partition(ctx, source, max_items=fetch_cap)
    with hold_partition(ctx):
        parse_partition(ctx, kind=KIND, options=limits.parse_options())
    return ctx


def forget_budgets(redis_url: str) -> None:
    """Delete the bench models' budgets from Redis, so a scenario starts with full ones."""
    import redis

    from ingest_pipeline.extraction.llm_pacing_redis import KEY_PREFIX

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(*(KEY_PREFIX + name for name in MODELS))
    finally:
        client.close()


def ledger_after(url: str, ctx: StepContext) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """The partition's items by (step, status), and the stored extractions by model."""
    with session_scope(url) as session:
        steps = session.execute(
            sa.select(IngestItem.step, IngestItem.status, sa.func.count())
            .where(in_partition(ctx.part))
            .group_by(IngestItem.step, IngestItem.status)
        ).all()
        models = session.execute(
            sa.select(LlmExtraction.model, sa.func.count())
            .where(LlmExtraction.task == TASK.name)
            .group_by(LlmExtraction.model)
        ).all()
    return {(step, status): n for step, status, n in steps}, {m: n for m, n in models}


def run_scenario(
    folder: Path, plan: Plan, label: str, *, concurrency: int, sample: int | None
) -> Scenario:
    """Fresh database, fakes and pacer store; the day prepared untimed; the gpt step timed."""
    log(f"  {label}: preparing the day (prompt set, enumerate, fetch, parse) ...")
    work = folder / uuid.uuid4().hex[:8]
    work.mkdir()
    url = f"sqlite:///{work / 'app.db'}"
    upgrade(url)
    fakes = {
        provider: FakeOpenAI(
            responder=answer,
            latency_seconds=plan.latency,
            limits={"*": plan.provider_limit(provider)},
        )
        for provider in PROVIDERS
    }
    router: Any = None
    try:
        for fake in fakes.values():
            fake.start()
        ctx = parsed_day(url, plan, sample)
        if plan.redis_url is not None:
            forget_budgets(plan.redis_url)
        # The extractor as the gpt op builds it for a stream whose items name their model.
        router = ExtractorResource(
            kind="openai",
            concurrency=concurrency,
            pacing_url=plan.redis_url or pacing_url_for(url),
            models_json=registry_json({p: f.base_url for p, f in fakes.items()}, plan),
            compatible_api_key=API_KEY,
        ).router()
        log(f"  {label}: gpt step on {sample or plan.answers} answers ...")
        with hold_partition(ctx):
            started = time.perf_counter()
            metrics = extract_partition(
                ctx, kind=KIND, task=TASK, extractor=router, concurrency=concurrency
            )
            seconds = time.perf_counter() - started
        release_partition(ctx)
        steps, by_model = ledger_after(url, ctx)
        errors = [e for fake in fakes.values() for e in fake.server_errors]
        if errors:
            raise RuntimeError(
                f"{label}: the fake logged {len(errors)} server errors:\n{errors[0]}"
            )
        return Scenario(
            label,
            concurrency,
            sample or plan.answers,
            seconds,
            metrics,
            {p: f.stats for p, f in fakes.items()},
            steps,
            by_model,
        )
    finally:
        if router is not None and router.pacer is not None:
            router.pacer.close()
        for fake in fakes.values():
            fake.stop()
        if plan.redis_url is not None:
            forget_budgets(plan.redis_url)
        dispose_engine(url)


def lower_bound(
    plan: Plan, *, answers: int, concurrency: int, tokens_per_call: float
) -> tuple[float, str]:
    """The least wall time ``answers`` (spread evenly over the models) could take at this
    concurrency, latency and these limits, and which of those sets it (each bound alone; the
    pacer's budgets start full: a minute's worth at `PACING_HEADROOM`)."""
    per_model = answers / len(MODELS)
    limits = paced_limits(plan.rpm, plan.tpm)
    by_requests = max(0.0, per_model - limits.request_capacity) / limits.requests_per_second
    tokens = per_model * tokens_per_call
    by_tokens = max(0.0, tokens - limits.token_capacity) / limits.tokens_per_second
    bounds = {
        f"{concurrency} in flight x {plan.latency:g} s": math.ceil(answers / concurrency)
        * plan.latency,
        f"each model's requests ({limits.request_capacity:.0f} at once, then "
        f"{limits.requests_per_second:.2f}/s)": plan.latency + by_requests,
        f"each model's tokens ({limits.token_capacity:,.0f} at once, then "
        f"{limits.tokens_per_second:,.0f}/s)": plan.latency + by_tokens,
    }
    binding = max(bounds, key=lambda name: bounds[name])
    return bounds[binding], binding


def baseline_day(plan: Plan, base: Scenario) -> tuple[float, str]:
    """The baseline's seconds for the whole day: measured, or extrapolated from its sample
    (linearly, or the limits' lower bound for the day one call at a time when that is more:
    a sample too small to meet the limits says nothing about them). The second value marks
    an extrapolated figure (``*``) or a lower bound (``>=``)."""
    if base.timed == plan.answers:
        return base.seconds, ""
    linear = base.seconds * plan.answers / base.timed
    floor, binding = lower_bound(
        plan, answers=plan.answers, concurrency=1, tokens_per_call=base.tokens_per_call
    )
    print(
        f"\n* EXTRAPOLATED: (a) timed {base.timed} of the {plan.answers} answers "
        f"({base.seconds:.1f} s, the day's first {base.timed // plan.per_prompt} of "
        f"{plan.prompts} prompts) and "
        f"scaled linearly to {plan.answers}: {linear:.1f} s"
    )
    if floor <= linear:
        return linear, "*"
    print(
        f"  but one call at a time the whole day needs at least {floor:.1f} s, set by "
        f"{binding};\n  (a) is taken as that lower bound, so the speed-up below is a lower "
        "bound too"
    )
    return floor, ">="


def verify(plan: Plan, row: Scenario) -> list[str]:
    """Problems with a scenario's ledger and extractions (empty: every item it was given
    ended extracted, answered by the model it names, and nothing else moved)."""
    problems = []
    extracted = sum(n for (step, status), n in row.steps.items() if step == "extracted")
    failed = sum(n for (_, status), n in row.steps.items() if status == "failed")
    unfetched = row.steps.get(("none", "pending"), 0)
    if extracted != row.timed:
        problems.append(f"{extracted} items at step extracted, expected {row.timed}")
    if failed:
        problems.append(f"{failed} items failed")
    if unfetched != plan.answers - row.timed:
        problems.append(f"{unfetched} items left unfetched, expected {plan.answers - row.timed}")
    each = row.timed // len(MODELS)
    if row.by_model != dict.fromkeys(MODELS, each):
        problems.append(f"extractions by model {row.by_model}, expected {each} each")
    if row.metrics["extraction_calls"] != row.timed:
        problems.append(f"{row.metrics['extraction_calls']} calls for {row.timed} answers")
    return problems


def report(plan: Plan, rows: list[Scenario], store: str) -> bool:
    base, fast = rows
    limits = paced_limits(plan.rpm, plan.tpm)
    print(
        f"prompt runs benchmark: one day of a prompt set, {plan.prompts} prompts x {len(MODELS)} "
        f"models x {plan.runs} run{'s' if plan.runs > 1 else ''} = {plan.answers} answers, "
        f"{plan.latency:g} s per answer"
    )
    for provider in PROVIDERS:
        names = ", ".join(name for name, p in MODELS.items() if p == provider)
        limit = plan.provider_limit(provider)
        print(
            f"  provider {provider} (FakeOpenAI, rpm={limit.rpm:,} tpm={limit.tpm:,} per key): "
            f"{names}"
        )
    print(
        f"  registry: every model rpm={plan.rpm:,} tpm={plan.tpm:,}; pacer budgets at "
        f"{PACING_HEADROOM:.0%} (rpm {limits.rpm:,}, tpm {limits.tpm:,}), store: {store}"
    )
    print(
        f"  each scenario: fresh SQLite app db, fresh fakes and pacer budgets (full, as on the "
        f"day's first run); Python {platform.python_version()}, {os.cpu_count()} CPUs\n"
    )
    head = f"{'scenario':<26}{'answers':>8}{'calls':>7}{'429s':>6}{'failed':>7}{'seconds':>10}"
    print(head + f"{'answers/s':>11}{'in flight A/B':>15}{'tok/call':>9}")
    print("-" * (len(head) + 35))
    for row in rows:
        print(
            f"{row.label:<26}{row.metrics['extracted']:>8}{row.calls:>7}{row.refused:>6}"
            f"{row.metrics['extraction_failed']:>7}{row.seconds:>10.1f}{row.rate:>11.2f}"
            f"{row.in_flight:>15}{row.tokens_per_call:>9.0f}"
        )
    print(
        "\ncalls: chat completions the fakes got (429s included); 429s: answered 429 by the "
        "fakes' limits (fake.stats.rate_limited);\nin flight A/B: the most each fake "
        "answered at once; tok/call: prompt + completion tokens per answer"
    )
    for row in rows:
        parts = ", ".join(
            f"{p} {sum(s.rate_limited.values())} {dict(s.rate_limited) or ''}".rstrip()
            for p, s in row.stats.items()
        )
        print(f"  429s by provider, {row.label}: {parts}")

    base_seconds, mark = baseline_day(plan, base)
    note, at_least = ("*", "") if mark == "*" else ("", f"{mark} " if mark else "")
    floor, binding = lower_bound(
        plan,
        answers=fast.timed,
        concurrency=fast.concurrency,
        tokens_per_call=fast.tokens_per_call,
    )
    print(
        f"\nlower bound for {fast.label}: {floor:.1f} s, set by {binding};\n  "
        f"measured {fast.seconds:.1f} s = {floor / fast.seconds:.0%} of the best possible"
    )
    print(f"\nspeed-up, same run ({fast.label} vs {base.label}):")
    print(
        f"  wall time for the day's {plan.answers} answers: {at_least}{base_seconds:.1f}{note} s"
        f" / {fast.seconds:.1f} s = {at_least}{base_seconds / fast.seconds:.1f}x{note}"
    )
    base_rate = plan.answers / base_seconds
    print(
        f"  answers/s: {fast.rate:.2f} / {'<= ' if at_least else ''}{base_rate:.2f}{note} = "
        f"{at_least}{fast.rate / base_rate:.1f}x{note}"
        + (f" ((a) measured {base.rate:.2f}/s on its sample)" if note or at_least else "")
    )

    ok = True
    print(
        "\nverification (each scenario's ledger by step/status, and llm_extractions by model; "
        "an item\nstays 'processing' at step 'extracted' until persist, which is not run, "
        "ends it):"
    )
    for row in rows:
        problems = verify(plan, row)
        ok = ok and not problems
        steps = ", ".join(f"{step}/{status} {n}" for (step, status), n in sorted(row.steps.items()))
        verdict = "OK" if not problems else "FAILED: " + "; ".join(problems)
        print(f"  {row.label}: items {steps}; extractions {row.by_model} -> {verdict}")
    print(f"speed-up: {at_least}{base_seconds / fast.seconds:.1f}x{note}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="10 prompts x 3 models x 1 run, 0.2 s per answer"
    )
    parser.add_argument("--prompts", type=int, help="prompts in the set (50; quick 10)")
    parser.add_argument("--runs", type=int, help="runs per prompt and model a day (3; quick 1)")
    parser.add_argument("--latency", type=float, help="seconds per answer (1.0; quick 0.2)")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight in (b) (16)")
    parser.add_argument("--rpm", type=int, default=100, help="requests/minute per model (100)")
    parser.add_argument(
        "--tpm", type=int, default=100_000, help="tokens/minute per model (100,000)"
    )
    parser.add_argument(
        "--baseline-sample",
        type=int,
        metavar="N",
        help="time (a) on the day's first N answers only (whole prompts) and extrapolate",
    )
    parser.add_argument(
        "--redis",
        nargs="?",
        const=DEFAULT_REDIS,
        metavar="URL",
        help=f"pacer budgets in Redis ({DEFAULT_REDIS}); its llm_pacing:<bench model> keys "
        "are deleted before and after each scenario",
    )
    args = parser.parse_args()
    prompts = args.prompts or (10 if args.quick else 50)
    runs = args.runs or (1 if args.quick else 3)
    latency = args.latency if args.latency is not None else (0.2 if args.quick else 1.0)
    sample = None
    if args.baseline_sample is not None:
        per_prompt = len(MODELS) * runs
        whole = math.ceil(max(args.baseline_sample, 1) / per_prompt) * per_prompt
        sample = whole if whole < prompts * per_prompt else None
    plan = Plan(prompts, runs, latency, args.concurrency, args.rpm, args.tpm, sample, args.redis)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: temp files, fakes
    folder = Path(tempfile.mkdtemp(prefix="prompt-runs-bench-"))
    try:
        rows = [
            run_scenario(
                folder, plan, "(a) 1 call at a time", concurrency=1, sample=plan.baseline_sample
            ),
            run_scenario(
                folder,
                plan,
                f"(b) {plan.concurrency} in flight",
                concurrency=plan.concurrency,
                sample=None,
            ),
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    store = f"Redis at {plan.redis_url}" if plan.redis_url else "SQLite file beside the app db"
    return 0 if report(plan, rows, store) else 1


if __name__ == "__main__":
    sys.exit(main())
