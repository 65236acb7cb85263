"""Benchmark: the gpt step on OpenAI - throughput at a fixed server latency, and what the
extraction cache and the Batch API save.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/extraction_bench.py [--messages 200] [--latency 0.2]

Everything talks to `FakeOpenAI` (the tests' local OpenAI server) through the real
``openai`` client, built by ``ExtractorResource(kind="openai", openai_api_key=...,
openai_base_url=...).build()`` as the gpt op builds it. The mail is the sample mailbox's
messages, each with a unique ``[tag #i]`` subject, all received on one day, in migrated
SQLite app databases in a temp dir (the cache scenarios reuse the first run's database, the
others start empty). A partition run is the five step functions of the mail stream, each
holding the partition lease as its op does (enumerate, fetch, parse untimed;
``extract_partition`` timed; persist untimed), except the batch scenario, which goes through
the Dagster job, the ``llm_batches_sensor`` and the follow-up run as ingest_pipeline_tests/defs
does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ingest_pipeline_tests is not installed into the venv

import dagster as dg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from ingest_pipeline.defs.ingest_assets import output_node, stream_defs  # noqa: E402
from ingest_pipeline.defs.llm_batch_sensor import llm_batches_sensor  # noqa: E402
from ingest_pipeline.defs.pools import LLM_POOL, POOL_LIMITS  # noqa: E402
from ingest_pipeline.defs.resources import (  # noqa: E402
    AppDatabaseResource,
    ExtractorResource,
    limits_from,
)
from ingest_pipeline.domain import ExtractionInput  # noqa: E402
from ingest_pipeline.extraction.offline_extractor import OfflineExtractor  # noqa: E402
from ingest_pipeline.extraction.openai_batch import BATCH_PRICE_FACTOR  # noqa: E402
from ingest_pipeline.extraction.openai_extractor import OpenAIConfig  # noqa: E402
from ingest_pipeline.extraction.tasks import get_task  # noqa: E402
from ingest_pipeline.settings import get_settings  # noqa: E402
from ingest_pipeline.sources.mailbox.mbox_reader import read_span, scan_mbox  # noqa: E402
from ingest_pipeline.steps import enumerate_step, fetch_step, parse_step  # noqa: E402
from ingest_pipeline.steps.extract_step import extract_partition  # noqa: E402
from ingest_pipeline.steps.integration_source import open_source  # noqa: E402
from ingest_pipeline.steps.partition_lease import hold_partition, release_partition  # noqa: E402
from ingest_pipeline.steps.persist_step import persist_partition  # noqa: E402
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext  # noqa: E402
from ingest_pipeline.store.database import get_engine, session_scope  # noqa: E402
from ingest_pipeline.store.integrations import add_integration, find_integration  # noqa: E402
from ingest_pipeline.store.ledger import PartitionKey  # noqa: E402
from ingest_pipeline.store.migrate import upgrade  # noqa: E402
from ingest_pipeline.streams.registry import get_stream  # noqa: E402
from ingest_pipeline_tests.fakes.openai_server import ChatRequest, FakeOpenAI  # noqa: E402
from ingest_pipeline_tests.pipeline_runner import HISTORY_START, ingest_job, run_days  # noqa: E402

SAMPLE = ROOT / "ingest_pipeline" / "sample_data" / "sample.mbox"
DAY = dt.date(2026, 11, 2)
TASK = get_task("job_posting")
STREAM = "mail"
KIND = get_stream(STREAM)
API_KEY = "bench-key"
PRICES = OpenAIConfig(api_key="-")  # the configured defaults: gpt-4o-mini, $0.15 / $0.60 per M
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def offline_model(request: ChatRequest) -> dict[str, Any]:
    """The stand-in model: the offline rules' answer for the delimited email it was sent."""
    text = str(request.messages[-1]["content"]).removeprefix("<<<EMAIL\n")
    text = text.removesuffix("\nEMAIL>>>")
    return OfflineExtractor().extract(TASK, ExtractionInput.of(task=TASK.name, text=text)).result


def write_mailbox(path: Path, count: int, tag: str, copies: int = 1) -> Path:
    """``count`` distinct messages received on DAY (sample message ``i % 62`` with the subject
    ``[tag #i] ...``), each delivered ``copies`` times (the copies differ in one header)."""
    samples = [read_span(SAMPLE, s.start, s.end).rstrip(b"\n") + b"\n\n" for s in scan_mbox(SAMPLE)]
    midnight = dt.datetime.combine(DAY, dt.time())
    with path.open("wb") as out:
        for i in range(count):
            data = samples[i % len(samples)]
            data = data.replace(b"\nSubject: ", f"\nSubject: [{tag} #{i}] ".encode(), 1)
            data = data.replace(b"\nMessage-ID: <", f"\nMessage-ID: <{tag}.{i}.".encode(), 1)
            for copy in range(copies):
                at = midnight + dt.timedelta(seconds=copies * i + copy)
                stamp = f"{at:%a %b} {at.day} {at:%H:%M:%S %Y}"
                out.write(f"From bench@example.com {stamp}\nX-Delivery: {copy}\n".encode() + data)
    return path


def new_db(folder: Path) -> str:
    url = f"sqlite:///{folder / f'app-{uuid.uuid4().hex[:8]}.db'}"
    upgrade(url)
    return url


def add_mailbox(url: str, mbox: Path) -> str:
    with session_scope(url) as session:
        row = add_integration(
            session, provider="mailbox", account=str(mbox), task=TASK.name, stream=STREAM
        )
        return row.partition_key or ""


def openai_resource(fake: FakeOpenAI) -> ExtractorResource:
    """The gpt op's extractor resource, pointing at the fake (no batch threshold)."""
    return ExtractorResource(kind="openai", openai_api_key=API_KEY, openai_base_url=fake.base_url)


def prepare(url: str, key: str) -> StepContext:
    """A new run's context for (key, DAY), with enumerate, fetch and parse done (untimed),
    each holding the partition lease as its op does."""
    with session_scope(url) as session:
        info = IntegrationInfo.of(find_integration(session, key))
    limits = limits_from(get_settings())
    part = PartitionKey(info.id, DAY, STREAM)
    ctx = StepContext(
        url, info, part, uuid.uuid4().hex, limits.batch_size, lease=limits.lease_terms()
    )
    source = open_source(ctx, credentials_key=None)
    with hold_partition(ctx):
        enumerate_step.enumerate_partition(ctx, source)
    with hold_partition(ctx):
        fetch_step.fetch_partition(ctx, source)
    with hold_partition(ctx):
        parse_step.parse_partition(ctx, kind=KIND, options=limits.parse_options())
    return ctx


def extract(ctx: StepContext, extractor: ExtractorResource) -> dict[str, Any]:
    """The gpt step as gpt_op calls it when no batch threshold is configured."""
    with hold_partition(ctx):
        return extract_partition(ctx, kind=KIND, task=TASK, extractor=extractor.build())


def persist(ctx: StepContext) -> None:
    """The persist step as persist_op calls it; the run gives up the partition's lease."""
    with hold_partition(ctx):
        persist_partition(ctx, kind=KIND, task=TASK, min_confidence=0.6)
    release_partition(ctx)


def partition_run(url: str, key: str, extractor: ExtractorResource) -> dict[str, Any]:
    """One partition run of the five steps; returns the gpt step's metrics."""
    ctx = prepare(url, key)
    metrics = extract(ctx, extractor)
    persist(ctx)
    return metrics


@dataclass
class Row:
    """One table row: the gpt step's metrics and the fake's counters for one scenario."""

    label: str
    items: int  # items extracted (from the cache or by a call)
    calls: int  # extractor calls the step made
    hits: int  # cache hits
    http: int  # chat completion HTTP requests the fake answered (-1: not known per run)
    tokens: tuple[int, int]  # input/output tokens the fake counted (HTTP calls + batch lines)
    cost: float  # USD as the pipeline recorded it
    seconds: float
    rate: bool = True  # False: the seconds are not an extraction rate (the batch's queue)

    @property
    def fake_cost(self) -> float:
        """The fake's token usage at the configured prices, without the batch discount."""
        return PRICES.cost(*self.tokens)


def measured(label: str, fake: FakeOpenAI, run: Callable[[], dict[str, Any]]) -> Row:
    """Run a scenario between two reads of the fake's counters; seconds are the gpt step's
    own (``gpt_seconds``) when the metrics have them, else the wall clock."""
    stats = fake.stats
    before = (stats.chat_calls, stats.prompt_tokens, stats.completion_tokens)
    wall = time.perf_counter()
    m = run()
    wall = time.perf_counter() - wall
    tokens = (stats.prompt_tokens - before[1], stats.completion_tokens - before[2])
    counts = m["extracted"], m["extraction_calls"], m["cache_hits"], stats.chat_calls - before[0]
    return Row(label, *counts, tokens, m["cost_usd"], m.get("gpt_seconds", wall))


def at_once(url: str, keys: list[str], fake: FakeOpenAI) -> list[Row]:
    """One gpt step per partition, each in its own thread, all started together."""
    contexts = [prepare(url, key) for key in keys]
    runs: list[dict[str, Any]] = []
    extractor = openai_resource(fake)

    def together() -> dict[str, Any]:
        with ThreadPoolExecutor(len(contexts)) as pool:
            runs.extend(pool.map(lambda ctx: extract(ctx, extractor), contexts))
        names = ("extracted", "extraction_calls", "cache_hits", "cost_usd")
        return {name: sum(m[name] for m in runs) for name in names}

    total = measured(f"  aggregate ({len(keys)} runs, wall clock)", fake, together)
    for ctx in contexts:
        release_partition(ctx)  # the runs end here: persist is not part of this scenario
    rows = [  # one shared server: HTTP requests and tokens are known for the aggregate only
        Row(f"  run {n} of {len(runs)}", m["extracted"], m["extraction_calls"],
            m["cache_hits"], -1, (-1, -1), m["cost_usd"], m["gpt_seconds"])
        for n, m in enumerate(runs, 1)
    ]  # fmt: skip
    return [*rows, total]


def sensor_requests(
    url: str, instance: dg.DagsterInstance, fake: FakeOpenAI
) -> list[dg.RunRequest]:
    """One evaluation of the llm_batches_sensor, as the tests drive it."""
    db, extractor = AppDatabaseResource(url=url), openai_resource(fake)
    resources = {"app_db": db, "extractor": extractor}
    sensor = llm_batches_sensor(stream_defs(STREAM, history_start=HISTORY_START).job)
    result = sensor(dg.build_sensor_context(instance=instance, resources=resources))
    return [] if isinstance(result, dg.SkipReason) else list(result.run_requests or [])


def batch_flow(url: str, key: str, fake: FakeOpenAI, instance: dg.DagsterInstance) -> dict:
    """The Dagster job with INGEST_OPENAI_BATCH_THRESHOLD=1 submits the partition as one batch;
    the fake finishes it; the sensor stores the results and requests the follow-up run, which
    takes them from the cache and persists. Returns the follow-up run's metrics, with the cost
    of everything stored (the batch's outcomes, already at the batch price). The job's
    extractor resource comes from the settings, as the code location builds it: the
    ``INGEST_OPENAI_*`` variables `main` sets point it at the fake."""
    os.environ["INGEST_OPENAI_BATCH_THRESHOLD"] = "1"
    try:
        [submitted] = run_days(url, instance, key, [DAY], extractor="openai", stream=STREAM)
    finally:
        del os.environ["INGEST_OPENAI_BATCH_THRESHOLD"]
    assert submitted.success and "llm_batch_submitted" in submitted.metrics, submitted
    assert sensor_requests(url, instance, fake) == []  # still in progress
    fake.complete_batches()
    [request] = sensor_requests(url, instance, fake)
    result = ingest_job(url, extractor="openai", stream=STREAM).execute_in_process(
        instance=instance, partition_key=request.partition_key, tags=request.tags, run_config=QUIET
    )
    follow = dict(result.output_for_node(output_node(STREAM)))
    del follow["gpt_seconds"]  # the row shows the whole flow's wall clock
    with get_engine(url).connect() as c:
        paid = c.execute(sa.text("select sum(cost_usd) from llm_extractions")).scalar()
    return {**follow, "cost_usd": float(paid or 0)}


def print_table(rows: list[Row | str]) -> None:
    head = f"{'scenario':<42}{'items':>6}{'calls':>6}{'hits':>6}{'HTTP':>6}{'in tok':>9}"
    print(head + f"{'out tok':>9}{'cost USD':>11}{'seconds':>9}{'items/s':>9}")
    print("-" * 113)
    for row in rows:
        if isinstance(row, str):
            print(row)
            continue
        counters = zip((row.http, *row.tokens), (6, 9, 9), strict=True)
        known = [f"{v:>{w}}" if v >= 0 else f"{'-':>{w}}" for v, w in counters]
        rate = f"{row.items / row.seconds:9.1f}" if row.items and row.rate else f"{'-':>9}"
        print(
            f"{row.label:<42}{row.items:>6}{row.calls:>6}{row.hits:>6}{''.join(known)}"
            f"{row.cost:>11.6f}{row.seconds:>9.3f}{rate}"
        )


def scenarios(folder: Path, fake: FakeOpenAI, n: int, pool_limit: int) -> list[Row | str]:
    mbox = write_mailbox(folder / "a.mbox", n, "a")
    extractor = openai_resource(fake)
    warm = new_db(folder)  # imports, client and first connections: not measured
    partition_run(warm, add_mailbox(warm, write_mailbox(folder / "w.mbox", 3, "w")), extractor)

    print(f"  1 run of {n} messages ...", file=sys.stderr)
    url = new_db(folder)
    key = add_mailbox(url, mbox)
    first = measured("  1 run, sequential calls", fake, lambda: partition_run(url, key, extractor))

    print(f"  {pool_limit} runs at once ...", file=sys.stderr)
    both = new_db(folder)
    boxes = [write_mailbox(folder / f"b{i}.mbox", n, f"b{i}") for i in range(pool_limit)]
    concurrent = at_once(both, [add_mailbox(both, box) for box in boxes], fake)

    print("  cache ...", file=sys.stderr)
    label = "  re-run of the same partition"
    rerun = measured(label, fake, lambda: partition_run(url, key, extractor))
    again = add_mailbox(url, Path(shutil.copy(mbox, folder / "a-again.mbox")))
    label = "  same mail, new integration (re-import)"
    reimport = measured(label, fake, lambda: partition_run(url, again, extractor))
    dup_url = new_db(folder)
    dup_key = add_mailbox(dup_url, write_mailbox(folder / "d.mbox", n // 2, "d", copies=2))
    label = f"  {n // 2} messages delivered twice each"
    dup = measured(label, fake, lambda: partition_run(dup_url, dup_key, extractor))

    print("  batch mode ...", file=sys.stderr)
    batch_url = new_db(folder)
    (folder / "dagster").mkdir()
    batch_key = add_mailbox(batch_url, mbox)
    with dg.instance_for_test(temp_dir=str(folder / "dagster")) as instance:
        label = "  submit, sensor collects, follow-up run"
        batch = measured(label, fake, lambda: batch_flow(batch_url, batch_key, fake, instance))
    batch.rate = False  # the fake runs the batch at once; OpenAI takes up to 24 hours
    return [
        "throughput, one partition:",
        first,
        f"throughput, {pool_limit} partitions at once (the llm pool's limit), one thread each:",
        *concurrent,
        "cache (after the first run above):",
        rerun,
        reimport,
        dup,
        f"Batch API (the same {n} messages, fresh database):",
        batch,
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="distinct messages (200)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request (0.2)")
    args = parser.parse_args()
    n, pool_limit = args.messages, POOL_LIMITS[LLM_POOL]
    folder = Path(tempfile.mkdtemp(prefix="extraction-bench-"))
    try:
        with FakeOpenAI(responder=offline_model, latency=args.latency) as fake:
            # For the batch scenario's Dagster job, whose resources come from the settings.
            os.environ["INGEST_OPENAI_API_KEY"] = API_KEY
            os.environ["INGEST_OPENAI_BASE_URL"] = fake.base_url
            table = scenarios(folder, fake, n, pool_limit)
            lines, errors = fake.stats.batch_lines, fake.server_errors
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [r for r in table if isinstance(r, Row)]
    first, aggregate, rerun, reimport, dup, batch = rows[0], *rows[-5:]

    print(
        f"extraction benchmark: {n} distinct messages (sample.mbox, unique subjects), "
        f"FakeOpenAI latency {args.latency * 1000:.0f} ms per HTTP request"
    )
    print(
        f"{PRICES.model} at ${PRICES.input_price_per_million}/M input, "
        f"${PRICES.output_price_per_million}/M output tokens, batch factor {BATCH_PRICE_FACTOR}; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs\n"
    )
    print_table(table)
    print("\nHTTP: chat completion requests the fake answered; tokens: the fake's usage; seconds:")
    print("the gpt step's own (aggregate and batch: wall clock)\n")
    single, both = first.items / first.seconds, aggregate.items / aggregate.seconds
    per_call = first.seconds / max(first.calls, 1) * 1000
    print(f"1 run: {single:.2f} items/s, {per_call:.0f} ms per call")
    print(f"{pool_limit} runs at once: {both:.2f} items/s aggregate = {both / single:.2f}x 1 run")
    every = dup.cost * dup.items / max(dup.calls, 1)
    print(
        f"duplicates: {dup.items} items, {dup.calls} calls, ${dup.cost:.6f} "
        f"(${every:.6f} if every delivery were paid)"
    )
    print(
        f"batch: ${batch.cost:.6f} vs ${first.cost:.6f} direct = {batch.cost / first.cost:.1%}; "
        f"{batch.http} synchronous chat calls, {lines} batch lines"
    )
    checks = [abs(r.cost - r.fake_cost) < 1e-5 for r in (first, aggregate, rerun, reimport, dup)]
    checks.append(abs(batch.cost - batch.fake_cost * BATCH_PRICE_FACTOR) < 1e-5)
    ok = all(checks) and not errors
    print(f"recorded costs = the fake's usage x configured prices: {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
