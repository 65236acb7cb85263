"""Benchmark: the gpt step's throughput against the provider's rate limits - one call at a
time (the step before pacing) against 32 calls in flight under the shared LLM pacer, in one
run and in four runs at once.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/llm_throughput_bench.py [--quick] [--rpm 500] [--tpm 200000]
        [--latency 1.0] [--messages 600] [--baseline-messages 120] [--postgres [ADMIN_URL]]

The provider is `FakeOpenAI` (the tests' local OpenAI server) in this process, with one
per-key limit (``RateLimit(rpm, tpm)``, token buckets that refill continuously) and
``latency_seconds`` per accepted call. Every run is its own process (multiprocessing spawn)
calling ``extract_partition`` on its own integration's partition of distinct job-ish
messages (enumerate, fetch and parse done beforehand, untimed), with
``OpenAIExtractor(OpenAIConfig(...), pacer=LlmPacer.open(pacing_url, {model:
paced_limits(rpm, tpm)}))`` - or no pacer for the baseline. Both the server's buckets and
the pacer's budgets are emptied before each paced scenario, so their rates are the steady
ones, not the first minute's burst. The last line printed is the four-run case's
``share of ceiling: NN%``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from mailbox import mbox, mboxMessage
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ingest_pipeline_tests is not installed into the venv

import sqlalchemy as sa  # noqa: E402

from ingest_pipeline.defs.resources import PACING_HEADROOM, limits_from, paced_limits  # noqa: E402
from ingest_pipeline.extraction.llm_input import CHARS_PER_TOKEN  # noqa: E402
from ingest_pipeline.extraction.llm_pacing import LlmPacer, pacing_url_for  # noqa: E402
from ingest_pipeline.extraction.openai_extractor import (  # noqa: E402
    OpenAIConfig,
    OpenAIExtractor,
)
from ingest_pipeline.extraction.tasks import get_task  # noqa: E402
from ingest_pipeline.settings import get_settings  # noqa: E402
from ingest_pipeline.steps import enumerate_step, fetch_step, parse_step  # noqa: E402
from ingest_pipeline.steps.extract_step import extract_partition  # noqa: E402
from ingest_pipeline.steps.integration_source import open_source  # noqa: E402
from ingest_pipeline.steps.partition_lease import hold_partition, release_partition  # noqa: E402
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext  # noqa: E402
from ingest_pipeline.store.database import dispose_engine, session_scope  # noqa: E402
from ingest_pipeline.store.integrations import add_integration, find_integration  # noqa: E402
from ingest_pipeline.store.ledger import PartitionKey  # noqa: E402
from ingest_pipeline.store.migrate import upgrade  # noqa: E402
from ingest_pipeline.streams.registry import get_stream  # noqa: E402
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI, OpenAIStats, RateLimit  # noqa: E402

DAY = dt.date(2026, 11, 2)
TASK = get_task("job_posting")
STREAM = "mail"
KIND = get_stream(STREAM)
MODEL = "gpt-4o-mini"
API_KEY = "bench"
CONCURRENCY = 32
PARALLEL_RUNS = 4
SEED = 20261102
RUN_TIMEOUT_SECONDS = 3600.0
DEFAULT_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
POSTING = {
    "is_job_posting": True,
    "title": "Data Engineer",
    "company": "Acme",
    "location": "Remote",
    "remote": True,
    "skills": ["SQL", "Python"],
    "rate": None,
    "contact": None,
    "confidence": 0.9,
}

TITLES = ["Data Engineer", "Backend Developer", "Analytics Engineer", "Platform Engineer"]
COMPANIES = ["Acme Analytics", "Northwind Logistics", "Globex Health", "Initech Payments"]
PLACES = ["Remote (EU)", "Berlin, Germany", "London, UK (hybrid)", "Lisbon, Portugal"]
SKILLS = ["Python", "SQL", "dbt", "Dagster", "Spark", "Kafka", "Kubernetes", "AWS", "Postgres"]
RECRUITERS = ["Maya Lindqvist", "Tom Okafor", "Priya Raman", "Lukas Weber", "Sofia Marques"]
FILLER = [
    "The team owns the ingestion layer end to end, from source connectors to the warehouse.",
    "You would join a group of six engineers who ship to production several times a day.",
    "Our client is replacing a set of cron jobs with an orchestrated, tested pipeline.",
    "Most of the work is Python and SQL, with some infrastructure as code on the side.",
    "On-call is shared across the team and rarely busy; incidents are reviewed blamelessly.",
    "The interview process is two conversations and a short take-home exercise, paid.",
    "Start date is flexible within the next six weeks; the first review is after three months.",
    "Equipment is provided, and there is a yearly budget for conferences and training.",
    "The product serves hospitals and clinics across Europe, so data quality matters a lot.",
    "You will mentor two junior engineers and help shape the team's technical roadmap.",
    "The stack is on a managed cloud; cost awareness is part of every design discussion.",
    "Happy to share the full job description and the salary bands if this sounds interesting.",
]


def job_mail(rng: random.Random, tag: str, i: int) -> EmailMessage:
    """One recruiter email about a role, its body 1.2-2.4 KB and unique (``ref`` line)."""
    title, company, place = rng.choice(TITLES), rng.choice(COMPANIES), rng.choice(PLACES)
    recruiter = rng.choice(RECRUITERS)
    rate = (
        f"EUR {rng.randrange(500, 900, 25)} per day"
        if rng.random() < 0.5
        else f"USD {rng.randrange(110, 190, 5)}k per year"
    )
    filler = []
    target = rng.randint(1200, 2400)
    while sum(len(s) + 1 for s in filler) < target - 600:
        filler.append(rng.choice(FILLER))
    paragraphs = "\n\n".join(" ".join(filler[n : n + 3]) for n in range(0, len(filler), 3))
    body = (
        f"Hi,\n\nI'm {recruiter} from TalentBridge. We have an opening for {company} "
        f"({place}): {title}.\n\nRole: {title}\nCompany: {company}\nLocation: {place}\n"
        f"Contract: {rng.choice(['permanent', '6 months, extendable', '12 months'])}\n"
        f"Rate: {rate}\nSkills: {', '.join(rng.sample(SKILLS, 5))}\n\n{paragraphs}\n\n"
        f"Reference {tag}-{i:05d}. Reply to this email or call +44 20 7946 {i % 10000:04d}.\n\n"
        f"Best regards,\n{recruiter}\n"
    )
    message = EmailMessage()
    message["From"] = f"{recruiter} <{recruiter.split()[0].lower()}@talentbridge.example>"
    message["To"] = "me@example.com"
    message["Subject"] = f"{title} at {company} - {place} [{tag}-{i}]"
    message["Message-ID"] = f"<{tag}.{i}@bench.example>"
    message["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
    message.set_content(body, cte="7bit")
    return message


def write_mailbox(path: Path, count: int, tag: str) -> Path:
    """An mbox of ``count`` distinct job-ish messages received on DAY, a few seconds apart."""
    rng = random.Random(f"{SEED}-{tag}")
    midnight = dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC).timestamp()
    box = mbox(path, create=True)
    try:
        for i in range(count):
            entry = mboxMessage(job_mail(rng, tag, i))
            entry.set_from("bench@example.com", time.gmtime(midnight + 5 * i))
            box.add(entry)
        box.flush()
    finally:
        box.close()
    return path


@contextmanager
def app_database(folder: Path, admin_url: str | None) -> Iterator[str]:
    """A migrated app database: SQLite in ``folder``, or a throwaway Postgres database."""
    if admin_url is None:
        url = f"sqlite:///{folder / 'app.db'}"
        upgrade(url)
        yield url
        return
    name = f"llm_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        dispose_engine(url)
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def parsed_partition(url: str, mbox_path: Path) -> StepContext:
    """A new integration on ``mbox_path`` and its DAY partition enumerated, fetched and parsed
    (untimed), each step holding the partition lease as its op does."""
    with session_scope(url) as session:
        row = add_integration(
            session, provider="mailbox", account=str(mbox_path), task=TASK.name, stream=STREAM
        )
        info = IntegrationInfo.of(find_integration(session, row.partition_key or ""))
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


@dataclass(frozen=True)
class RunPlan:
    """What one run process does: the gpt step on ``ctx`` with ``concurrency`` calls in
    flight, paced through the store at ``pacing_url`` (None: no pacer, the client retries)."""

    ctx: StepContext
    base_url: str
    concurrency: int
    pacing_url: str | None
    rpm: int
    tpm: int


def run_process(plan: RunPlan, ready: Any, go: Event, results: Any) -> None:
    """A run process: build the extractor as the gpt op does, say ready, wait for the start,
    run the gpt step holding the partition's lease, report its metrics."""
    try:
        config = OpenAIConfig(api_key=API_KEY, base_url=plan.base_url, model=MODEL)
        pacer = None
        if plan.pacing_url is not None:
            pacer = LlmPacer.open(plan.pacing_url, {MODEL: paced_limits(plan.rpm, plan.tpm)})
        extractor = OpenAIExtractor(config, pacer=pacer)
        ready.put(os.getpid())
        go.wait()
        with hold_partition(plan.ctx):
            metrics = extract_partition(
                plan.ctx, kind=KIND, task=TASK, extractor=extractor, concurrency=plan.concurrency
            )
        release_partition(plan.ctx)
        results.put(("ok", metrics))
    except BaseException:
        results.put(("error", traceback.format_exc()))


@dataclass(frozen=True)
class Scenario:
    """One scenario's figures: the steps' metrics and the server's counters."""

    label: str
    extracted: int
    failed: int
    seconds: float  # wall clock, start signal to the last run's report
    stats: OpenAIStats
    booked_per_call: float  # tokens the pacer books per call (the extractor's estimate)

    @property
    def accepted(self) -> int:
        return len(self.stats.accepted_at)

    @property
    def tokens_per_call(self) -> float:
        """Tokens the server charged per accepted call (prompt plus requested max output)."""
        return self.stats.tokens_charged / max(self.accepted, 1)

    @property
    def refused(self) -> int:
        return sum(self.stats.rate_limited.values())

    @property
    def refused_share(self) -> float:
        return self.refused / max(self.stats.chat_calls, 1)

    @property
    def rate(self) -> float:
        """Extractions per second over the wall clock."""
        return self.extracted / self.seconds

    @property
    def steady_rate(self) -> float:
        """Calls the server accepted per second over the middle 80% of its acceptances: the
        runs' start (new connections) and their tail (fewer calls left than in flight) are
        left out."""
        at = sorted(self.stats.accepted_at)
        cut = len(at) // 10
        window = at[cut : len(at) - cut]
        span = window[-1] - window[0] if window else 0.0
        return (len(window) - 1) / span if span > 0 else 0.0

    @property
    def paced_per_call(self) -> float:
        """Tokens the pacer spends per call: the estimate it books, or the answer's usage when
        that is larger (`LlmPacer.settle` charges the difference)."""
        used = (self.stats.prompt_tokens + self.stats.completion_tokens) / max(self.accepted, 1)
        return max(self.booked_per_call, used)

    def ceiling(self, rpm: int, tpm: int) -> tuple[float, str]:
        """The most calls per second the limits allow at this scenario's tokens per call,
        and which limit binds."""
        by_requests, by_tokens = rpm / 60, tpm / 60 / self.tokens_per_call
        return (by_requests, "requests") if by_requests <= by_tokens else (by_tokens, "tokens")


def booked_tokens(requests: list[Any]) -> float:
    """Tokens the pacer books per call before it is made, as
    `OpenAIExtractor.estimated_tokens` counts them: the prompt's characters /
    CHARS_PER_TOKEN + 1 (the answer's usage settles the output afterwards)."""
    sizes = [
        sum(len(str(m.get("content", ""))) for m in r.messages) // CHARS_PER_TOKEN + 1
        for r in requests
    ]
    return sum(sizes) / max(len(sizes), 1)


def empty_buckets(fake: FakeOpenAI, pacing_url: str, rpm: int, tpm: int) -> None:
    """Both the server's buckets for the bench's key and the pacer's budgets empty now, as
    after a minute at the limit: no scenario gets the first minute's burst."""
    fake.set_limit(API_KEY, rpm=rpm, tpm=tpm)  # full again, then spent
    fake.limiter.admit(API_KEY, tpm)
    for _ in range(rpm - 1):
        fake.limiter.admit(API_KEY, 0)
    with LlmPacer.open(pacing_url, {MODEL: paced_limits(rpm, tpm)}) as pacer:
        pacer.cool_down(MODEL, 0.0)


def run_scenario(label: str, plans: list[RunPlan], fake: FakeOpenAI, pacing_url: str) -> Scenario:
    """Start one process per plan, wait until all are ready, empty the buckets (paced runs:
    the baseline stays below the limits, so its buckets never run dry), start them together
    and collect their metrics."""
    print(f"  {label} ...", file=sys.stderr)
    spawn = mp.get_context("spawn")
    ready, results, go = spawn.Queue(), spawn.Queue(), spawn.Event()
    processes = [
        spawn.Process(target=run_process, args=(plan, ready, go, results), daemon=True)
        for plan in plans
    ]
    for process in processes:
        process.start()
    try:
        for _ in plans:
            ready.get(timeout=300)
        if plans[0].pacing_url is not None:
            empty_buckets(fake, pacing_url, plans[0].rpm, plans[0].tpm)
        fake.stats = OpenAIStats()
        seen = len(fake.requests)
        started = time.perf_counter()
        go.set()
        reports = [results.get(timeout=RUN_TIMEOUT_SECONDS) for _ in plans]
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
    if errors := [body for status, body in reports if status != "ok"]:
        raise RuntimeError(f"{label}: a run failed:\n{errors[0]}")
    return Scenario(
        label,
        extracted=sum(m["extracted"] for _, m in reports),
        failed=sum(m["extraction_failed"] for _, m in reports),
        seconds=seconds,
        stats=fake.stats,
        booked_per_call=booked_tokens(fake.requests[seen:]),
    )


def scenarios(
    folder: Path, url: str, fake: FakeOpenAI, args: argparse.Namespace, pacing_url: str
) -> list[Scenario]:
    """(a) the baseline, (b) one paced run, (c) four paced runs at once; each run on its own
    integration with messages no other run has (the extraction cache never answers)."""
    print("  preparing partitions (enumerate, fetch, parse) ...", file=sys.stderr)
    each = args.messages // PARALLEL_RUNS

    def plan(tag: str, count: int, concurrency: int, paced: bool) -> RunPlan:
        ctx = parsed_partition(url, write_mailbox(folder / f"{tag}.mbox", count, tag))
        pacing = pacing_url if paced else None
        return RunPlan(ctx, fake.base_url, concurrency, pacing, args.rpm, args.tpm)

    baseline = [plan("a", args.baseline_messages, 1, paced=False)]
    one = [plan("b", args.messages, CONCURRENCY, paced=True)]
    four = [plan(f"c{n}", each, CONCURRENCY, paced=True) for n in range(PARALLEL_RUNS)]
    return [
        run_scenario("(a) 1 run, 1 call at a time, no pacer", baseline, fake, pacing_url),
        run_scenario(f"(b) 1 run, {CONCURRENCY} in flight, pacer", one, fake, pacing_url),
        run_scenario(
            f"(c) {PARALLEL_RUNS} runs (processes), {CONCURRENCY} each, pacer",
            four,
            fake,
            pacing_url,
        ),
    ]


def report(rows: list[Scenario], args: argparse.Namespace, store: str) -> None:
    rpm, tpm = args.rpm, args.tpm
    print(
        f"LLM throughput benchmark: FakeOpenAI limits rpm={rpm:,} tpm={tpm:,} per API key, "
        f"{args.latency:g} s per accepted call; {MODEL}"
    )
    print(
        f"pacer budgets at {PACING_HEADROOM:.0%} of the limits (paced_limits), store: {store}; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(
        "server buckets and pacer budgets emptied before (b) and (c), so their rates are the "
        "steady ones (no first-minute burst);\n(a) stays below the limits (one call at a "
        "time), so its buckets never run dry and start full\n"
    )
    head = f"{'scenario':<40}{'calls':>6}{'429s':>6}{'429 %':>7}{'extr':>6}{'failed':>7}"
    head += f"{'seconds':>9}{'extr/s':>8}{'steady/s':>9}{'tok/call':>9}{'ceiling/s':>10}"
    print(head + f"{'share':>7}{'in flight':>10}{'vs (a)':>8}")
    print("-" * 142)
    base = rows[0].rate
    for row in rows:
        ceiling, _ = row.ceiling(rpm, tpm)
        print(
            f"{row.label:<40}{row.stats.chat_calls:>6}{row.refused:>6}{row.refused_share:>7.1%}"
            f"{row.extracted:>6}{row.failed:>7}{row.seconds:>9.1f}{row.rate:>8.2f}"
            f"{row.steady_rate:>9.2f}{row.tokens_per_call:>9.0f}{ceiling:>10.2f}"
            f"{row.steady_rate / ceiling:>7.0%}{row.stats.max_in_flight:>10}"
            f"{row.rate / base:>7.1f}x"
        )
    print(
        "\ncalls: chat completion requests the server got (429s included); extr/s: extractions "
        "over the wall clock;\nsteady/s: calls the server accepted per second over the middle "
        "80% of its acceptances; tok/call: tokens it charged\nper call (prompt + requested max "
        "output); ceiling/s: min(rpm / 60, tpm / 60 / tok/call); share: steady/s / ceiling/s;"
        "\nvs (a): extr/s against the baseline's, same run"
    )
    last = rows[-1]
    ceiling, binding = last.ceiling(rpm, tpm)
    other = tpm / 60 / last.tokens_per_call if binding == "requests" else rpm / 60
    print(f"\nbinding limit: {binding} ({ceiling:.2f} calls/s; the other allows {other:.2f}/s)")
    if binding == "tokens":
        paced, charged = last.paced_per_call, last.tokens_per_call
        print(
            f"the pacer spends {paced:.0f} tokens per call (it books the extractor's prompt "
            f"estimate, {last.booked_per_call:.0f}; settle adds the usage beyond it, output "
            f"included)\nand the server charges {charged:.0f}, so the "
            f"pacer can reach at most {PACING_HEADROOM:.0%} x {charged:.0f} / {paced:.0f} = "
            f"{PACING_HEADROOM * charged / paced:.0%} of the token ceiling"
        )
    share, ratio = last.steady_rate / ceiling, last.rate / rows[0].rate
    best = PACING_HEADROOM * ceiling / rows[0].steady_rate
    print(f"\ntargets (the issue), {last.label[4:]}:")
    print(f"  >= 90% of the binding limit: {share:.0%} -> {met(share >= 0.9)}")
    print(
        f"  < 1% of calls answered 429:  {last.refused_share:.1%} ({last.refused} of "
        f"{last.stats.chat_calls}) -> {met(last.refused_share < 0.01)}"
    )
    print(
        f"  >= 10x today's rate:         {ratio:.1f}x -> {met(ratio >= 10)} (at "
        f"{PACING_HEADROOM:.0%} of the ceiling the most is {best:.1f}x the baseline's steady rate)"
    )
    print(f"share of ceiling: {share * 100:.0f}%")


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, about 2-3 minutes")
    parser.add_argument("--rpm", type=int, default=500, help="requests per minute (500)")
    parser.add_argument("--tpm", type=int, default=200_000, help="tokens per minute (200,000)")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per call (1.0)")
    parser.add_argument(
        "--messages", type=int, help="messages in (b), split over the runs of (c) (600; quick 100)"
    )
    parser.add_argument("--baseline-messages", type=int, help="messages in (a) (120; quick 20)")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        metavar="ADMIN_URL",
        help=f"app database and pacer store in a throwaway Postgres database ({DEFAULT_POSTGRES})",
    )
    args = parser.parse_args()
    args.messages = args.messages or (100 if args.quick else 600)
    args.baseline_messages = args.baseline_messages or (20 if args.quick else 120)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: temp files, database
    folder = Path(tempfile.mkdtemp(prefix="llm-throughput-bench-"))
    limits = {"*": RateLimit(rpm=args.rpm, tpm=args.tpm)}
    try:
        with (
            app_database(folder, args.postgres) as url,
            FakeOpenAI(
                responder=lambda _: dict(POSTING), limits=limits, latency_seconds=args.latency
            ) as fake,
        ):
            pacing_url = pacing_url_for(url)
            store = "the app's Postgres" if args.postgres else "SQLite file beside the app db"
            rows = scenarios(folder, url, fake, args, pacing_url)
            errors = fake.server_errors
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if errors:
        print(f"the fake logged {len(errors)} server errors:\n{errors[0]}", file=sys.stderr)
    report(rows, args, store)
    return 1 if errors or any(row.failed for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
