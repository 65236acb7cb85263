"""Benchmark: Gmail fetch throughput of `GmailSource` against the per-user quota ceiling.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/gmail_fetch_bench.py [--messages N] [--seconds S] [--quick]

Both methods fetch the same ``format=raw`` message ids from the test suite's FakeGmail, with
50 ms added to every HTTP request and Gmail's 15,000 units a minute per user (a sliding 60 s
window; ``messages.get`` costs 5 units, so the ceiling is 50 messages/s). Each method gets its
own freshly filled server, so neither inherits the other's quota window.

(a) pipeline: ``GmailSource.fetch`` over all N ids (batches of 50, `QuotaBudget`, retries
    with Retry-After, real ``time.sleep``); also split into the first 60 s and the rest;
(b) baseline: one ``messages.get(...).execute()`` at a time with the same googleapiclient
    service, no budget, sleeping Retry-After on a 429, for at most ``--seconds``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ingest_pipeline_tests is not installed into the venv

from googleapiclient.errors import HttpError  # noqa: E402

from ingest_pipeline.domain import FetchError, ItemRef  # noqa: E402
from ingest_pipeline.sources.gmail.gmail_client import (  # noqa: E402
    GmailEndpoint,
    authorized_http,
    gmail_service,
    google_credentials,
    retry_after_seconds,
)
from ingest_pipeline.sources.gmail.gmail_source import UNITS, GmailOptions, GmailSource  # noqa: E402
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail, ServerStats  # noqa: E402
from ingest_pipeline_tests.gmail_fixtures import USER, credentials_info, sample_messages  # noqa: E402

LATENCY = 0.05
QUOTA = 15_000
CEILING = QUOTA / UNITS["messages.get"] / 60  # 50 messages/s
WARM_UP = 60.0  # the server's quota window: report the rate after it separately
DAY = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
SEED = 7
TARGET_SHARE, TARGET_429 = 0.90, 0.01
Messages = list[tuple[bytes, dt.datetime]]
Counts = tuple[int, int, int, int, int]  # HTTP requests, batches, API calls, 429s, units


@dataclass
class Row:
    """One line of the table: what a method fetched, in how long, and what the server saw."""

    label: str
    messages: int
    seconds: float
    requests: int
    batches: int
    api_calls: int
    rejected: int  # API calls answered 429
    units: int
    waited: float | None  # seconds QuotaBudget.acquire slept (None: no budget)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def met(self) -> bool:
        return self.rate >= TARGET_SHARE * CEILING and self.rejected < TARGET_429 * self.api_calls


def build_messages(count: int) -> Messages:
    """The sample mailbox's messages repeated with unique Message-IDs, spread over one day."""
    samples = [raw for raw, _ in sample_messages()]
    step = dt.timedelta(days=1) / count
    messages = []
    for i in range(count):
        raw = re.sub(
            rb"(?im)^(Message-ID:\s*<)", b"\\1bench%06d." % i, samples[i % len(samples)], count=1
        )
        messages.append((raw, DAY + i * step))
    return messages


@contextmanager
def filled_server(messages: Messages) -> Iterator[tuple[FakeGmail, dict[str, Any], list[str]]]:
    """A running FakeGmail (50 ms latency, 15,000 units/min) holding ``messages`` for USER;
    yields the server, credentials and the message ids in insertion order."""
    with FakeGmail(latency=LATENCY, quota_units_per_minute=QUOTA, seed=SEED) as server:
        token = server.add_user(USER)
        ids = [server.add_message(USER, raw, internal_date=when) for raw, when in messages]
        server.stats = ServerStats()
        yield server, credentials_info(server, token), ids


def counters(stats: ServerStats) -> Counts:
    """The server counters a `Row` reports, in its field order."""
    return (
        stats.requests,
        stats.batch_requests,
        stats.api_calls,
        stats.status_counts[429],
        stats.units_used,
    )


def make_row(
    label: str, messages: int, seconds: float, after: Counts, before: Counts, waited: float | None
) -> Row:
    """A row whose server columns are ``after - before``."""
    requests, batches, calls, rejected, units = (a - b for a, b in zip(after, before, strict=True))
    return Row(label, messages, seconds, requests, batches, calls, rejected, units, waited)


def run_pipeline(messages: Messages) -> tuple[list[Row], int]:
    """GmailSource.fetch over every id; rows for the whole run, the first 60 s and the rest."""
    with filled_server(messages) as (server, info, ids):
        endpoint = GmailEndpoint(api_endpoint=server.base_url)
        source = GmailSource(info, options=GmailOptions(endpoint=endpoint))
        zero = counters(ServerStats())
        fetched = errors = 0
        split: tuple[float, int, Counts, float] | None = None  # state at the last yield < 60 s
        start = time.perf_counter()
        for item in source.fetch([ItemRef(external_id=i) for i in ids]):
            # The generator is suspended while we hold an item: no request is in flight.
            errors += isinstance(item, FetchError)
            fetched += not isinstance(item, FetchError)
            elapsed = time.perf_counter() - start
            if elapsed < WARM_UP:
                split = (elapsed, fetched, counters(server.stats), source.budget.waited_seconds)
        seconds = time.perf_counter() - start
        end, waited = counters(server.stats), source.budget.waited_seconds
        rows = [make_row("pipeline, whole run", fetched, seconds, end, zero, waited)]
        if split is not None and seconds > WARM_UP + 10:
            at, count, state, budget = split
            rows.append(make_row("pipeline, first 60 s", count, at, state, zero, budget))
            rows.append(
                make_row(
                    "pipeline, after 60 s",
                    fetched - count,
                    seconds - at,
                    end,
                    state,
                    waited - budget,
                )
            )
        return rows, errors


def run_baseline(messages: Messages, budget: float) -> Row:
    """One ``messages.get`` at a time, no batching or budget; a 429 waits its Retry-After."""
    with filled_server(messages) as (server, info, ids):
        endpoint = GmailEndpoint(api_endpoint=server.base_url)
        service = gmail_service(authorized_http(google_credentials(info), endpoint), endpoint)
        fetched = 0
        start = time.perf_counter()
        for message_id in ids:
            if time.perf_counter() - start >= budget:
                break
            request = service.users().messages().get(userId="me", id=message_id, format="raw")
            while True:
                try:
                    request.execute()
                    break
                except HttpError as exc:
                    if int(exc.resp.status) != 429:
                        raise
                    time.sleep(retry_after_seconds(exc, 1.0))
            fetched += 1
        seconds = time.perf_counter() - start
        return make_row(
            "baseline, one at a time",
            fetched,
            seconds,
            counters(server.stats),
            counters(ServerStats()),
            None,
        )


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'method':<24} {'msgs':>6} {'wall s':>7} {'msgs/s':>7} {'ceiling':>7} {'HTTP':>6} "
        f"{'batches':>7} {'API':>6} {'429':>5} {'429 %':>6} {'units':>7} {'budget s':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        share = r.rejected / r.api_calls if r.api_calls else 0.0
        waited = f"{r.waited:8.1f}" if r.waited is not None else f"{'-':>8}"
        print(
            f"{r.label:<24} {r.messages:>6} {r.seconds:>7.1f} {r.rate:>7.2f} "
            f"{r.rate / CEILING:>7.1%} {r.requests:>6} {r.batches:>7} {r.api_calls:>6} "
            f"{r.rejected:>5} {share:>6.2%} {r.units:>7} {waited}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, help="ids to fetch (default 5000, quick 1000)")
    parser.add_argument("--seconds", type=float, help="baseline wall budget (60, quick 20)")
    parser.add_argument("--quick", action="store_true", help="about 20 s per method")
    args = parser.parse_args()
    count = args.messages or (1000 if args.quick else 5000)
    budget = args.seconds or (20.0 if args.quick else 60.0)

    print(f"Gmail fetch benchmark: {count} messages, FakeGmail latency {LATENCY * 1000:.0f} ms")
    print(f"quota {QUOTA} units/min per user (sliding 60 s) -> ceiling {CEILING:.0f} messages/s")
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    messages = build_messages(count)
    print(f"messages: {count}, mean {sum(len(r) for r, _ in messages) / count / 1024:.1f} KB")
    print("running the pipeline ...", file=sys.stderr, flush=True)
    rows, errors = run_pipeline(messages)
    print(f"running the baseline (at most {budget:.0f} s) ...", file=sys.stderr, flush=True)
    baseline = run_baseline(messages, budget)
    print()
    print_table([*rows, baseline])
    print(f"\npipeline fetch errors: {errors}")
    print(f"ceiling = {QUOTA} units/min / {UNITS['messages.get']} units / 60 s = {CEILING:.0f}/s")
    ratio = rows[0].rate / baseline.rate if baseline.rate else float("inf")
    print(
        f"ratio pipeline / baseline msgs/s: {rows[0].rate:.2f} / {baseline.rate:.2f} = {ratio:.2f}x"
    )
    print(f"target: >= {TARGET_SHARE:.0%} of the ceiling and < {TARGET_429:.0%} of API calls 429")
    for row in rows:
        print(f"  {row.label:<22} {'met' if row.met() else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
