"""Benchmark: Outlook fetch throughput of `OutlookSource.fetch` against the per-mailbox request
ceiling, compared with one ``GET $value`` at a time.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/outlook_fetch_bench.py [--quick] [--messages N]
        [--baseline-messages N] [--latency S] [--window-seconds S] [--requests-per-window N]

The server is the test suite's `FakeGraph` (Graph and its token endpoint over TLS) in this
process, with 50 ms (``--latency``) added to every Graph request and Outlook's per-mailbox
limits: 4 requests at once and a sliding request window. Outlook allows 10,000 requests per
600 s; the bench scales the window down at the same rate (1,000 per 60 s; quick: 500 per
30 s), and the source's `MailboxLimits` are told the same. Every message is one request (a
``$batch`` part counts as one), so the ceiling is ``requests_per_window / window_seconds``
messages a second. Each method gets its own freshly filled server, so both start with an
empty window.

(a) pipeline: ``OutlookSource.fetch`` over the day's refs from its own ``enumerate``
    (``$batch`` of 20 ``$value`` parts, up to 4 at once, `QuotaBudget` at 95% of the window);
(b) baseline: one ``GET /users/{mailbox}/messages/{id}/$value`` at a time with httpx and an
    msal app token, sleeping Retry-After when throttled, for ``--baseline-messages``.

The last line printed is the pipeline's ``share of ceiling: NN%``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import ssl
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ingest_pipeline_tests is not installed into the venv

import httpx  # noqa: E402
import msal  # noqa: E402
import requests  # noqa: E402

from ingest_pipeline.domain import FetchError, Window  # noqa: E402
from ingest_pipeline.sources.microsoft.graph_mailbox import GraphAccount, MailboxLimits  # noqa: E402
from ingest_pipeline.sources.microsoft.ms_credentials import GRAPH_SCOPE, GraphEndpoint  # noqa: E402
from ingest_pipeline.sources.microsoft.outlook_source import OutlookSource  # noqa: E402
from ingest_pipeline_tests.fakes.graph_faults import MailboxLimits as ServerLimits  # noqa: E402
from ingest_pipeline_tests.fakes.graph_server import FakeGraph, GraphStats  # noqa: E402

TENANT = "contoso-tenant"
CLIENT_ID = "outlook-bench-app"
CLIENT_SECRET = "bench-secret"
MAILBOX = "recruiting@contoso.example"
DAY = dt.date(2026, 11, 2)
SEED = 20261102
CONCURRENCY = 4  # Outlook's requests at once per mailbox
OUTLOOK_REQUESTS, OUTLOOK_WINDOW = 10_000, 600.0
TARGET_SHARE, TARGET_THROTTLED = 0.90, 0.01
LUMP_SECONDS = 0.01  # deliveries closer than this arrived together (one batch's parts)
Messages = list[tuple[bytes, dt.datetime]]

VOCABULARY = ("data", "engineer", "role", "remote", "contract", "python", "sql", "team", "rate")
VOCABULARY += ("client", "platform", "kafka", "spark", "dagster", "review", "budget", "offer")


def build_messages(count: int) -> Messages:
    """``count`` distinct recruiter-ish MIME messages of 1.5-4 KB, from a fixed seed, received
    over DAY in whole seconds (Graph keeps whole seconds)."""
    rng = random.Random(SEED)
    midnight = dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC)
    step = 86_400 / count
    messages = []
    for i in range(count):
        lines, size = [], rng.randint(1500, 4000)
        while sum(len(line) + 1 for line in lines) < size:
            lines.append(" ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(8, 14))))
        message = EmailMessage()
        message["From"] = f"Recruiter {i % 37} <r{i % 37}@talent.example>"
        message["To"] = MAILBOX
        message["Subject"] = (
            f"{rng.choice(VOCABULARY).title()} {rng.choice(VOCABULARY)} opening #{i}"
        )
        message["Message-ID"] = f"<bench{i:06d}.{SEED}@talent.example>"
        message["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
        message.set_content("\n".join(lines) + "\n")
        messages.append((message.as_bytes(), midnight + dt.timedelta(seconds=int(i * step))))
    return messages


def server_limits(args: argparse.Namespace) -> ServerLimits:
    return ServerLimits(
        concurrency=CONCURRENCY,
        requests_per_window=args.requests_per_window,
        window_seconds=args.window_seconds,
    )


@contextmanager
def filled_server(
    args: argparse.Namespace, messages: Messages
) -> Iterator[tuple[FakeGraph, dict[str, bytes]]]:
    """A running FakeGraph with the app, MAILBOX and ``messages``; yields the server and the
    messages' MIME by Graph id (in receipt order)."""
    with FakeGraph(
        latency_seconds=args.latency,
        mailbox_concurrency=CONCURRENCY,
        mailbox_requests_per_window=args.requests_per_window,
        window_seconds=args.window_seconds,
        seed=SEED,
    ) as graph:
        graph.add_app(TENANT, CLIENT_ID, CLIENT_SECRET)
        graph.add_mailbox(MAILBOX, address=MAILBOX)
        raw_by_id = {graph.add_message(MAILBOX, raw, when): raw for raw, when in messages}
        yield graph, raw_by_id


def start_fresh(graph: FakeGraph, args: argparse.Namespace) -> None:
    """An empty request window and zeroed counters (nothing is in flight)."""
    graph.limits = server_limits(args)
    graph.stats = GraphStats()


@dataclass
class Run:
    """What one method fetched, when each message arrived, and what the server saw."""

    label: str
    seconds: float
    times: list[float]  # seconds from the start at which each message was delivered
    stats: GraphStats
    errors: int = 0  # fetch errors / non-retryable answers
    mismatched: int = 0  # delivered bytes that differ from the message added
    extra: dict[str, Any] = field(default_factory=dict)
    window_seconds: float | None = None  # set: the steady rate is over whole windows

    @property
    def messages(self) -> int:
        return len(self.times)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def whole_windows(self) -> int:
        """How many whole request windows the run lasted (0: not measured that way)."""
        if not self.window_seconds:
            return 0
        return int(self.seconds // self.window_seconds)

    @property
    def steady_rate(self) -> float:
        """The sustained rate: over whole windows from the start when the run lasted one or
        more, else over the middle 80% of deliveries (`middle_rate`)."""
        if self.whole_windows and self.window_seconds:
            span = self.whole_windows * self.window_seconds
            return sum(1 for at in self.times if at <= span) / span
        return self.middle_rate

    @property
    def steady_how(self) -> str:
        if self.whole_windows and self.window_seconds:
            return f"{self.whole_windows} x {self.window_seconds:g} s"
        return "middle 80%"

    @property
    def middle_rate(self) -> float:
        """Messages per second over the middle 80% of deliveries, from the end of one delivery
        to the end of another (deliveries under LUMP_SECONDS apart are one: the pipeline hands
        over a batch's 20 messages at once), so the first lumps and the tail are left out."""
        t = self.times
        cut = len(t) // 10

        def lump_end(i: int) -> int:
            while i + 1 < len(t) and t[i + 1] - t[i] < LUMP_SECONDS:
                i += 1
            return i

        first, last = lump_end(cut), lump_end(len(t) - 1 - cut)
        span = t[last] - t[first]
        return (last - first) / span if span > 0 else 0.0

    @property
    def requests(self) -> int:
        """``$value`` requests the server got: top-level GETs and batch parts, 429s included."""
        return self.stats.requests["message.value"]

    @property
    def throttled(self) -> int:
        return sum(self.stats.throttled.values())

    @property
    def throttled_share(self) -> float:
        return self.throttled / self.requests if self.requests else 0.0

    @property
    def in_flight(self) -> int:
        return self.stats.max_in_flight.get(MAILBOX, 0)


def account_for(graph: FakeGraph, args: argparse.Namespace) -> GraphAccount:
    """App-only access to MAILBOX through the fake, with the bench's limits."""
    return GraphAccount(
        credentials={
            "type": "client_credentials",
            "tenant_id": TENANT,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        mailbox=MAILBOX,
        endpoint=GraphEndpoint(
            graph_url=graph.graph_url,
            authority_host=graph.authority(TENANT).rsplit("/", 1)[0],
            ca_bundle=str(graph.ca_path),
        ),
        limits=MailboxLimits(
            requests_per_window=args.requests_per_window, window_seconds=args.window_seconds
        ),
    )


def run_pipeline(args: argparse.Namespace, messages: Messages) -> Run:
    """Enumerate the day (untimed), then time ``OutlookSource.fetch`` over its refs on an
    empty window with a new source (its budget full, its token fetched)."""
    with filled_server(args, messages) as (graph, raw_by_id):
        account = account_for(graph, args)
        listing = OutlookSource(account)
        refs = [r for page in listing.enumerate(Window.for_day(DAY), None) for r in page.items]
        listing.client.close()
        source = OutlookSource(account)
        source.client.tokens.bearer()
        start_fresh(graph, args)
        times: list[float] = []
        errors = mismatched = 0
        start = time.perf_counter()
        for item in source.fetch(refs):
            if isinstance(item, FetchError):
                errors += 1
                print(f"  fetch error {item.external_id}: {item.reason}", file=sys.stderr)
                continue
            times.append(time.perf_counter() - start)
            mismatched += item.data != raw_by_id.get(item.external_id)
        seconds = time.perf_counter() - start
        stats = graph.stats
        source.client.close()
        served = stats.value_served
        extra = {
            "listed": len(refs),
            "batches": stats.requests["batch"],
            "budget_waited": source.client.budget.waited_seconds if source.client.budget else 0,
            "retried": source.requests_retried,
            "served_twice": sum(1 for n in served.values() if n > 1),
            "server_errors": len(graph.server_errors),
        }
        return Run(
            "(a) pipeline, OutlookSource.fetch", seconds, times, stats, errors, mismatched, extra
        )


def app_token(graph: FakeGraph) -> str:
    """An app-only token from msal, built as `graph_auth` builds it for a local authority."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE silently replaces .verify
    session.verify = str(graph.ca_path)
    app = msal.ConfidentialClientApplication(
        CLIENT_ID,
        client_credential=CLIENT_SECRET,
        authority=graph.authority(TENANT),
        http_client=session,
        instance_discovery=False,
    )
    return str(app.acquire_token_for_client(scopes=[GRAPH_SCOPE])["access_token"])


def run_baseline(args: argparse.Namespace, messages: Messages) -> Run:
    """One ``GET $value`` at a time for the first ``--baseline-messages`` ids; a 429 or 503
    sleeps its Retry-After (1 s when absent) and asks again."""
    with filled_server(args, messages) as (graph, raw_by_id):
        ids = list(raw_by_id)[: args.baseline_messages]
        headers = {"Authorization": f"Bearer {app_token(graph)}"}
        verify = ssl.create_default_context(cafile=str(graph.ca_path))
        slept = 0.0
        times: list[float] = []
        errors = mismatched = 0
        with httpx.Client(verify=verify, headers=headers, timeout=60.0) as client:
            start_fresh(graph, args)
            start = time.perf_counter()
            for message_id in ids:
                url = f"{graph.graph_url}/users/{MAILBOX}/messages/{quote(message_id, safe='')}"
                while True:
                    response = client.get(url + "/$value")
                    if response.status_code not in (429, 503):
                        break
                    pause = float(response.headers.get("Retry-After", 1))
                    slept += pause
                    time.sleep(pause)
                if response.status_code != 200:
                    errors += 1
                    print(f"  {message_id}: HTTP {response.status_code}", file=sys.stderr)
                    continue
                times.append(time.perf_counter() - start)
                mismatched += response.content != raw_by_id[message_id]
            seconds = time.perf_counter() - start
        stats = graph.stats
        extra = {"slept": slept, "server_errors": len(graph.server_errors)}
        return Run(
            "(b) baseline, 1 GET $value at a time",
            seconds,
            times,
            stats,
            errors,
            mismatched,
            extra,
            window_seconds=args.window_seconds,
        )


def print_report(args: argparse.Namespace, messages: Messages, runs: list[Run]) -> None:
    ceiling = args.requests_per_window / args.window_seconds
    pipeline, baseline = runs
    base = baseline.steady_rate
    head = (
        f"{'scenario':<37}{'msgs':>6}{'seconds':>9}{'msgs/s':>8}{'steady/s':>9}{'over':>12}"
        f"{'ceiling/s':>10}{'share':>7}{'requests':>9}{'throttled':>10}{'thr %':>7}"
        f"{'in flight':>10}{'vs (b)':>8}"
    )
    print()
    print(head)
    print("-" * len(head))
    for run in runs:
        print(
            f"{run.label:<37}{run.messages:>6}{run.seconds:>9.1f}{run.rate:>8.2f}"
            f"{run.steady_rate:>9.2f}{run.steady_how:>12}{ceiling:>10.2f}"
            f"{run.steady_rate / ceiling:>7.0%}"
            f"{run.requests:>9}{run.throttled:>10}{run.throttled_share:>7.1%}"
            f"{run.in_flight:>10}{run.steady_rate / base if base else 0:>7.2f}x"
        )
    print(
        "\nmsgs/s: messages over the whole run; steady/s: the sustained rate, over what "
        "'over' says: (a) the middle 80% of its deliveries\n(end of one delivery to the end "
        f"of another; what arrived within {LUMP_SECONDS * 1000:.0f} ms is one delivery, a "
        "batch's parts arrive together;\nits budget's one burst at the start is left out), "
        "(b) whole windows from the start (a client faster than the ceiling\nspends a fresh "
        "window early, then waits; whole windows hold at most the limit each, as in the long "
        "run);\nshare: steady/s / ceiling/s; requests: $value requests the server got (batch "
        "parts counted one by one, 429s included);\nthrottled: those answered 429/503; in "
        "flight: most requests the mailbox had open at once; vs (b): steady/s over (b)'s"
    )
    extra = pipeline.extra
    print(
        f"\n(a): {extra['listed']} refs listed, {extra['batches']} $batch requests, "
        f"{extra['retried']} parts asked again, {extra['budget_waited']:.1f} s waited in "
        f"QuotaBudget.acquire (threads summed), throttled by reason "
        f"{dict(pipeline.stats.throttled) or '{}'}"
    )
    print(
        f"(b): {baseline.extra['slept']:.0f} s slept on Retry-After, throttled by reason "
        f"{dict(baseline.stats.throttled) or '{}'}"
    )
    budget = MailboxLimits(
        requests_per_window=args.requests_per_window, window_seconds=args.window_seconds
    )
    bucket = budget.batch_size  # the source's QuotaBudget holds one batch
    paced = (args.requests_per_window * budget.headroom - bucket) / args.window_seconds
    outlook = (OUTLOOK_REQUESTS * budget.headroom - bucket) / OUTLOOK_WINDOW
    print(
        f"\npacing bound: QuotaBudget refills ({budget.headroom:.0%} x "
        f"{args.requests_per_window} - {bucket}) / {args.window_seconds:g} s = {paced:.2f}/s = "
        f"{paced / ceiling:.1%} of the ceiling ({bucket} = its size, one batch of "
        f"{budget.batch_size} parts);\nat Outlook's own {OUTLOOK_REQUESTS:,} per "
        f"{OUTLOOK_WINDOW:g} s the same bound is {outlook:.2f}/s = "
        f"{outlook / (OUTLOOK_REQUESTS / OUTLOOK_WINDOW):.1%}"
    )
    print("\nverification:")
    for run, expected in ((pipeline, len(messages)), (baseline, args.baseline_messages)):
        twice = run.extra.get("served_twice")
        print(
            f"  {run.label[:3]} {run.messages} of {expected} messages delivered, "
            f"{run.mismatched} differ from what was added, {run.errors} errors, "
            f"{run.extra['server_errors']} server errors"
            + (f", {twice} $value served more than once" if twice is not None else "")
        )
    share = pipeline.steady_rate / ceiling
    print("\ntargets (the issue), pipeline:")
    print(f"  >= {TARGET_SHARE:.0%} of the ceiling:       {share:.0%} -> {met(share >= 0.9)}")
    print(
        f"  < {TARGET_THROTTLED:.0%} of requests throttled: {pipeline.throttled_share:.1%} "
        f"({pipeline.throttled} of {pipeline.requests}) -> "
        f"{met(pipeline.throttled_share < TARGET_THROTTLED)}"
    )
    print(f"  vs one GET at a time:         {pipeline.steady_rate / base if base else 0:.2f}x")
    print(f"share of ceiling: {share * 100:.0f}%")


def progress(text: str) -> None:
    sys.stdout.flush()  # keeps the two streams in order when both go to one file
    print(text, file=sys.stderr, flush=True)


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def failed(runs: list[Run], messages: Messages, args: argparse.Namespace) -> bool:
    pipeline, baseline = runs
    return (
        any(run.errors or run.mismatched or run.extra["server_errors"] for run in runs)
        or pipeline.messages != len(messages)
        or baseline.messages != args.baseline_messages
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, under 2 minutes")
    parser.add_argument(
        "--messages", type=int, help="messages the pipeline fetches (2000; quick 500)"
    )
    parser.add_argument(
        "--baseline-messages",
        type=int,
        help="messages the baseline fetches (2 x requests per window + 100: 2100; quick 1100)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds added to every Graph request (0.05)"
    )
    parser.add_argument(
        "--window-seconds", type=float, help="the mailbox's request window (60; quick 30)"
    )
    parser.add_argument(
        "--requests-per-window", type=int, help="requests allowed per window (1000; quick 500)"
    )
    args = parser.parse_args()
    args.messages = args.messages or (500 if args.quick else 2000)
    args.window_seconds = args.window_seconds or (30.0 if args.quick else 60.0)
    args.requests_per_window = args.requests_per_window or (500 if args.quick else 1000)
    # Two windows' worth and a little more: at least two whole windows, whatever the latency.
    args.baseline_messages = args.baseline_messages or 2 * args.requests_per_window + 100
    count = max(args.messages, args.baseline_messages)

    ceiling = args.requests_per_window / args.window_seconds
    print(
        f"Outlook fetch benchmark: FakeGraph latency {args.latency * 1000:.0f} ms per Graph "
        f"request; per mailbox {CONCURRENCY} requests at once and {args.requests_per_window} per "
        f"{args.window_seconds:g} s (sliding)"
    )
    print(
        f"(Outlook: {OUTLOOK_REQUESTS:,} per {OUTLOOK_WINDOW:g} s = "
        f"{OUTLOOK_REQUESTS / OUTLOOK_WINDOW:.2f}/s); ceiling {args.requests_per_window} / "
        f"{args.window_seconds:g} s = {ceiling:.2f} messages/s (one request each)"
    )
    print(
        f"Python {platform.python_version()}, httpx {httpx.__version__}, msal "
        f"{msal.__version__}, {os.cpu_count()} CPUs, load average "
        f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    progress("building messages ...")
    messages = build_messages(count)
    mean = sum(len(raw) for raw, _ in messages) / count / 1024
    digest = hashlib.sha256(b"".join(raw for raw, _ in messages)).hexdigest()[:12]
    print(
        f"messages: {count} on {DAY} (seed {SEED}, sha256 {digest}), mean {mean:.1f} KB; "
        f"pipeline {args.messages}, baseline the first {args.baseline_messages}; each method "
        "on its own fresh server"
    )
    progress(f"running the pipeline ({args.messages} messages) ...")
    pipeline = run_pipeline(args, messages[: args.messages])
    progress(f"running the baseline ({args.baseline_messages} messages) ...")
    baseline = run_baseline(args, messages[: args.baseline_messages])
    runs = [pipeline, baseline]
    print_report(args, messages[: args.messages], runs)
    return 1 if failed(runs, messages[: args.messages], args) else 0


if __name__ == "__main__":
    sys.exit(main())
