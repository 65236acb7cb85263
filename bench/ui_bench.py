"""Benchmark: how long the Dagster UI takes to show the mail asset's partitions page and its
launch dialog, at many integrations, for several lengths of the date dimension.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/ui_bench.py [--integrations 2000] [--windows 7,30,90,365,default]

Set-up: a Dagster instance as shipped (``dagster.yaml``, storage in a throwaway database on
the local Postgres) holding ``--integrations`` integration keys, with the last
``--materialized-days`` days recorded as materialized for nine in ten integrations (a
different tenth missing each day, so the materialized set is many ranges, not one block).
For each window (days of history; ``default``: what ``INGEST_HISTORY_START`` defaults to)
a ``dagster-webserver`` loads the code location with that history start, and headless
Chromium (Debian's, as in the UI test) measures ``--repeat`` times, each in a fresh page:

- partitions page: from navigating to ``/assets/ingest/mail?view=partitions`` until the
  partition counts ("N Partitions Selected", "Missing (M)") are on screen;
- launch dialog: from clicking "Materialize…" on that page until the dialog shows its
  partition selection.

A measurement that takes longer than ``--timeout`` seconds is reported as such.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, suppress
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers: headless Chromium, ports, waiting

from orchestration_bench import dagster_instance  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Page  # noqa: E402

from ingest_pipeline.defs.partitions import integration_set_name  # noqa: E402
from ingest_pipeline.settings import get_settings  # noqa: E402
from ingest_pipeline_tests.browser import headless_chromium  # noqa: E402
from ingest_pipeline_tests.dagster_services import free_port, graphql, wait_for  # noqa: E402

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
ASSET = dg.AssetKey(["ingest", "mail"])
COUNTS = re.compile(r"[\d,]+ Partitions Selected")


def setup(instance: dg.DagsterInstance, integrations: int, materialized_days: int) -> None:
    """The integration keys as dynamic partitions; their last days (mostly) materialized."""
    keys = [f"mailbox-{i}" for i in range(1, integrations + 1)]
    instance.add_dynamic_partitions(integration_set_name("mail"), keys)
    today = dt.datetime.now(dt.UTC).date()
    for back in range(materialized_days):
        day = today - dt.timedelta(days=back)
        # Nine in ten per day, a different tenth missing each day: the status is many ranges.
        for key in [k for i, k in enumerate(keys) if (i + back) % 10]:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    ASSET,
                    partition=dg.MultiPartitionKey({"date": day.isoformat(), "integration": key}),
                )
            )
        print(f"  materialized {day} for {len(keys)} integrations", file=sys.stderr)


def start_webserver(history_start: dt.date, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INGEST_HISTORY_START": history_start.isoformat()}
    command = [sys.executable, "-m", "dagster_webserver", "-m", "ingest_pipeline.definitions"]
    with log.open("wb") as out:
        return subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def measure(page: Page, base: str, timeout_ms: float) -> tuple[float, float]:
    """Seconds to the partitions page's counts, then to the launch dialog's selection."""
    start = time.perf_counter()
    page.goto(f"{base}/assets/ingest/mail?view=partitions", wait_until="commit")
    page.get_by_text(COUNTS).first.wait_for(timeout=timeout_ms)
    page.get_by_text(re.compile(r"^Missing \([\d,]+\)$")).first.wait_for(timeout=timeout_ms)
    partitions = time.perf_counter() - start
    start = time.perf_counter()
    page.get_by_role("button").filter(has_text=re.compile(r"^\s*Materialize…\s*$")).click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    dialog.get_by_text("Partition selection", exact=True).wait_for(timeout=timeout_ms)
    return partitions, time.perf_counter() - start


def window_days(spec: str, today: dt.date) -> tuple[str, dt.date]:
    if spec == "default":
        start = get_settings().model_copy(update={"history_start": None}).history_start_day()
        return f"default ({(today - start).days + 1} d)", start
    return f"{spec} d", today - dt.timedelta(days=int(spec) - 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="admin URL (creates/drops databases)")
    parser.add_argument("--integrations", type=int, default=2000)
    parser.add_argument("--windows", default="7,30,90,365,default")
    parser.add_argument("--materialized-days", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per measurement")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    today = dt.datetime.now(dt.UTC).date()
    rows = []
    with ExitStack() as stack:
        instance = dagster_instance(stack, args.url)
        print(f"set-up: {args.integrations} integrations", file=sys.stderr)
        setup(instance, args.integrations, args.materialized_days)
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        browser = stack.enter_context(headless_chromium())
        for spec in args.windows.split(","):
            label, start = window_days(spec, today)
            days = (today - start).days + 1
            port = free_port()
            server = start_webserver(start, port, logs / f"webserver-{spec}.log")
            try:
                wait_for("the webserver", lambda: _up(port, server), timeout=180)  # noqa: B023
                graphql(port, "mutation { setNuxSeen }")
                samples: list[tuple[float, float]] = []
                for attempt in range(args.repeat):
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    try:
                        samples.append(
                            measure(page, f"http://127.0.0.1:{port}", args.timeout * 1e3)
                        )
                    except PlaywrightError as error:
                        print(f"  {label}: {str(error).splitlines()[0]}", file=sys.stderr)
                        samples.append((float("inf"), float("inf")))
                    finally:
                        page.close()
                    print(f"  {label} #{attempt + 1}: {samples[-1]}", file=sys.stderr)
            finally:
                stop(server)
            medians = [statistics.median(column) for column in zip(*samples, strict=True)]
            rows.append((label, days * args.integrations, *medians))
    report(args, rows)
    return 0


def _up(port: int, server: subprocess.Popen[bytes]) -> bool:
    if server.poll() is not None:
        raise RuntimeError(f"dagster-webserver exited with {server.returncode}")
    try:
        graphql(port, "{ version }")
        return True
    except OSError:
        return False


def report(args: argparse.Namespace, rows: list[tuple[str, int, float, float]]) -> None:
    print(
        f"UI benchmark: Dagster {dg.__version__}, headless Chromium, {os.cpu_count()} CPUs; "
        f"{args.integrations} integrations, last {args.materialized_days} days materialized; "
        f"medians of {args.repeat} fresh pages; over {args.timeout:.0f} s shown as 'timeout'\n"
    )
    columns = ("partitions", "partitions page s", "launch dialog s")
    print(f"{'history window':<18} {columns[0]:>11} {columns[1]:>18} {columns[2]:>16}")

    def shown(seconds: float) -> str:
        return "timeout" if seconds == float("inf") else f"{seconds:.1f}"

    for label, partitions, page_s, dialog_s in rows:
        print(f"{label:<18} {partitions:>11,} {shown(page_s):>18} {shown(dialog_s):>16}")


if __name__ == "__main__":
    sys.exit(main())
