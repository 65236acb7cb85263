"""Benchmark: how many integrations one machine keeps fresh at a 15-minute cadence, with
change probes before runs against one run per integration per tick.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/capacity_bench.py [--integrations 2000] [--changed 0.1] [--runs 8]

Set-up (not timed): a throwaway Postgres app database and Dagster instance (the shipped
``dagster.yaml``) on the local server; ``--integrations`` mailbox integrations, each an mbox
of its own with one day of the sample's mail, each imported once and recorded as a
successful run with the change token it was launched with, their last successes spread
over the 6-hour safety interval. Then ``--changed`` of the mailboxes get a new message.

Timed, in one run:

- the 15-minute trigger with change probes (``mail_today_schedule`` as shipped), evaluated
  here on that instance: it probes every integration and asks for runs of the changed ones
  and of those due their safety run;
- ``--runs`` sample runs of each kind (new mail; nothing new) as ``dagster job execute``
  processes, the way the daemon's run launcher starts every run in its own process.

CPU counts this process and its children plus the local Postgres server's CPU: Postgres
runs on the same two cores. A tick's CPU is the trigger plus each requested run at the
sampled median; without probes every integration runs on every tick. Capacity is what fits
in the CPU budget of a tick (900 s × cores × 0.7; the rest is the daemon's, webserver's and
code server's). Every database and folder is removed at the end, even on error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
from orchestration_bench import (
    CORES,
    DAYS,
    HISTORY_START,
    MAIL,
    TICK_SECONDS,
    UTILISATION,
    Sample,
    bound_job,
    dagster_instance,
    find_postmaster,
    load,
    machine_busy,
    mbox_copy,
    our_cpu,
    run_in_process,
    run_worker,
    throwaway_db,
    timed,
)

from ingest_pipeline.defs.ingest_schedules import ingest_today_schedule
from ingest_pipeline.defs.partitions import integration_set_name
from ingest_pipeline.defs.resources import AppDatabaseResource, CredentialsResource
from ingest_pipeline.sources.file_signature import files_signature
from ingest_pipeline.steps.change_probes import ProbeSettings
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import add_integration, integrations_by_key, record_sync

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DAY = DAYS[1]  # 2026-11-03: 10 messages in the sample
SAFETY = dt.timedelta(hours=6)
TICK = dt.datetime.combine(DAY, dt.time(12, 0), tzinfo=dt.UTC)


def setup(url: str, instance: dg.DagsterInstance, folder: Path, count: int) -> list[str]:
    """``count`` mailbox integrations, each imported once (one of them through the job, the
    rest recorded as if: same token, success time spread over the safety interval)."""
    job, keys = bound_job(url), []
    with session_scope(url) as session:
        for i in range(count):
            mbox = folder / f"{i}.mbox"
            mbox_copy(mbox, DAY, i, 1)  # one held back: it arrives as the "new mail"
            row = add_integration(
                session, provider="mailbox", account=str(mbox), task="job_posting", stream="mail"
            )
            keys.append(row.partition_key or "")
    instance.add_dynamic_partitions(integration_set_name("mail"), keys)
    run_in_process(job, instance, keys[0], DAY)  # warms this process's imports
    with session_scope(url) as session:
        for i, row in enumerate(integrations_by_key(session, keys)):
            # Spread uniformly over the 25 ticks between two safety runs (6 h, then the
            # next tick), so 1 in 25 is due this tick, as in the steady state.
            ago = (SAFETY + dt.timedelta(minutes=15)) * ((i * 7919) % count) / count
            record_sync(
                session,
                row.id,
                status="success",
                probe_token=files_signature([Path(row.account)]),
                now=TICK - ago,
            )
    return keys


def tick(url: str, instance: dg.DagsterInstance) -> tuple[Sample, list[dg.RunRequest]]:
    """The shipped trigger evaluated at ``TICK`` on the instance: (cost, run requests)."""
    schedule = ingest_today_schedule(MAIL, probes=ProbeSettings())
    resources = {"app_db": AppDatabaseResource(url=url), "credentials": CredentialsResource()}
    found: list[dg.RunRequest] = []

    def evaluate() -> None:
        with dg.build_schedule_context(
            scheduled_execution_time=TICK, instance=instance, resources=resources
        ) as context:
            result = schedule(context)  # type: ignore[arg-type]
            found.extend([] if isinstance(result, dg.SkipReason) else result)  # type: ignore[arg-type]

    return timed(evaluate), found


def sample_runs(keys: list[str], runs: int, env: dict[str, str]) -> list[Sample]:
    samples = []
    for key in keys[:runs]:
        samples.append(timed(run_worker, key, DAY, env))
        print(f"  run {key}: {samples[-1][0]:.2f} s wall", file=sys.stderr)
    return samples


def cpu_of(sample: Sample) -> float:
    return sample[1] + sample[2]


def median_cpu(samples: list[Sample]) -> float:
    return statistics.median(cpu_of(s) for s in samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="admin URL (creates/drops databases)")
    parser.add_argument("--integrations", type=int, default=2000)
    parser.add_argument("--changed", type=float, default=0.1, help="share with new mail")
    parser.add_argument("--runs", type=int, default=8, help="sample runs of each kind")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    find_postmaster(args.url)
    start = (load(), machine_busy(), our_cpu())
    with ExitStack() as stack:
        instance = dagster_instance(stack, args.url)
        url = stack.enter_context(throwaway_db(args.url, "capacity"))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="capacity-")))
        print(f"set-up: {args.integrations} integrations", file=sys.stderr)
        keys = setup(url, instance, folder, args.integrations)
        changed = keys[: round(len(keys) * args.changed)]
        for i, _ in enumerate(changed):
            mbox_copy(folder / f"{i}.mbox", DAY, i, 0)  # the held-back message arrives
        print("timed: the trigger", file=sys.stderr)
        cost, requests = tick(url, instance)
        reasons = [r.tags.get("ingest/reason", "") for r in requests]
        requested = {r.partition_key.split("|", 1)[1] for r in requests if r.partition_key}
        new_mail = [k for k in changed if k in requested]
        quiet = [k for k in requested if k not in set(changed)]
        env = {
            **os.environ,
            "INGEST_DATABASE_URL": url,
            "INGEST_EXTRACTOR": "offline",
            "INGEST_HISTORY_START": HISTORY_START.isoformat(),
        }
        print("timed: sample runs", file=sys.stderr)
        new_runs = sample_runs(new_mail, args.runs, env)
        unchanged = quiet + [k for k in keys[len(changed) :] if k not in requested]
        quiet_runs = sample_runs(unchanged, args.runs, env)
    report(args, start, cost, requests, reasons, new_mail, quiet, new_runs, quiet_runs)
    return 0


def report(
    args: argparse.Namespace,
    start: tuple[str, float, float],
    cost: Sample,
    requests: list[dg.RunRequest],
    reasons: list[str],
    new_mail: list[str],
    quiet: list[str],
    new_runs: list[Sample],
    quiet_runs: list[Sample],
) -> None:
    n = args.integrations
    busy, ours = machine_busy() - start[1], our_cpu() - start[2]
    budget = TICK_SECONDS * CORES * UTILISATION
    c_new, c_quiet = median_cpu(new_runs), median_cpu(quiet_runs)
    share = len(new_mail) / n
    before = n * (share * c_new + (1 - share) * c_quiet)
    after = cpu_of(cost) + len(new_mail) * c_new + len(quiet) * c_quiet
    per_before, per_after = before / n, after / n
    safety = sum(r.startswith("safety") for r in reasons)
    print(
        f"capacity benchmark: Dagster {dg.__version__}, Python {sys.version.split()[0]}, "
        f"{CORES} CPUs, Postgres on the same machine\n"
        f"load average at start {start[0]}, at end {load()}; machine CPU during the run "
        f"{busy:.0f} s, of which not ours {busy - ours:.0f} s\n"
        f"CPU = this process + children + the Postgres server; medians of the sample runs\n"
    )
    print(f"{n} integrations, {len(new_mail)} with new mail ({share:.0%}) on this tick")
    print(
        f"trigger with change probes: {cost[0]:.2f} s wall, {cpu_of(cost):.2f} CPU s "
        f"({cost[1]:.2f} here, {cost[2]:.2f} Postgres); {len(requests)} runs requested: "
        f"{len(new_mail)} changed, {safety} safety, {len(quiet) - safety} other"
    )
    for label, runs, total in (("new mail", new_runs, c_new), ("nothing new", quiet_runs, c_quiet)):
        here = statistics.median(s[1] for s in runs)
        server = statistics.median(s[2] for s in runs)
        wall = statistics.median(s[0] for s in runs)
        print(
            f"one run, own process, {label}: {total:.2f} CPU s ({here:.2f} process, "
            f"{server:.2f} Postgres), {wall:.2f} s wall; median of {len(runs)} runs"
        )
    print(f"\nCPU per tick            {'today':>12} {'with probes':>12}")
    print(f"  all {n} integrations  {before:>12.0f} {after:>12.0f}")
    print(f"  per integration       {per_before:>12.3f} {per_after:>12.3f}")
    print(
        f"integrations kept fresh {budget / per_before:>12.0f} {budget / per_after:>12.0f}"
        f"   (budget {TICK_SECONDS:.0f} s x {CORES} cores x {UTILISATION})"
    )
    print(f"ratio: {per_before / per_after:.1f}x the integrations per machine")


if __name__ == "__main__":
    sys.exit(main())
