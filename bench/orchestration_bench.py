"""Benchmark: what Dagster costs per ingest partition run, and how many integrations fit.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/orchestration_bench.py [--repeat 5] [--quick] [--url ADMIN_URL]

Part 1 runs one-day partitions of ``sample.mbox`` (9-10 messages) through (a) the shipped
in-process job, (b) the same selection on ``dg.multiprocess_executor`` and (c) the five step
functions without Dagster, each on its own fresh Postgres app database, first on new mail
and then with nothing to do. Part 2 times a 15-minute tick (0-3 new messages per
integration) in this process and as one ``dagster job execute`` process per run, and
derives a capacity estimate. Runs are timed for wall, CPU of this process and its children,
and CPU of a local Postgres server. Every database is dropped at the end, even on error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from ingest_pipeline.defs.code_location import build_definitions
from ingest_pipeline.defs.ingest_assets import job_name, stream_defs
from ingest_pipeline.defs.local_launch import register_partition_key
from ingest_pipeline.defs.partitions import IngestPartition
from ingest_pipeline.defs.pools import apply_pool_limits
from ingest_pipeline.defs.resources import AppDatabaseResource as AppDb
from ingest_pipeline.defs.resources import extractor_from, limits_from
from ingest_pipeline.settings import get_settings
from ingest_pipeline.sources.mailbox.mbox_reader import from_line_time, read_span, scan_mbox
from ingest_pipeline.steps.integration_source import open_source
from ingest_pipeline.steps.partition_runner import run_partition
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext
from ingest_pipeline.store.database import dispose_engine, session_scope
from ingest_pipeline.store.integrations import add_integration, find_integration
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "ingest_pipeline" / "sample_data" / "sample.mbox"
DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DAYS = [dt.date(2026, 11, d) for d in range(2, 9)]  # the sample's 7 receipt days
WARMUP_DAY, TIMED_DAYS = DAYS[-1], DAYS[:5]  # 11-08 warms up; 11-02..06 (9-10 msgs) are timed
STREAM = "mail"
JOB = job_name(STREAM)  # ingest_mail_job
# The shipped first day of the date dimension (January 1st of last year), moved back if the
# sample's days fall before it; `dagster job execute` gets it as INGEST_HISTORY_START.
HISTORY_START = min(get_settings().history_start_day(), dt.date(DAYS[0].year, 1, 1))
MAIL = stream_defs(STREAM, history_start=HISTORY_START)  # the asset's selection and partitions
MODES = ("in-process executor (shipped)", "multiprocess executor", "direct steps, no Dagster")
APP_DB_ENV = "ORCH_BENCH_APP_DB"  # the app database the reconstructed multiprocess job uses
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
TICK_SECONDS, CORES = 900.0, os.cpu_count() or 1
MAX_CONCURRENT_RUNS, UTILISATION = 8, 0.7  # shipped dagster.yaml; CPU share left for runs
Sample = tuple[float, float, float]  # wall s, CPU s (this process + children), server CPU s
COLUMNS = ("wall", "CPU", "server")
Instance = dg.DagsterInstance
_postmaster: list[int] = []  # pid of the local Postgres server, when /proc shows it


def cpu_now() -> float:
    """User + system CPU seconds of this process and of its children that have exited."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def find_postmaster(admin: str) -> None:
    """Remember the local server's postmaster pid (the parent of our backend), if visible."""
    engine = sa.create_engine(admin)
    with engine.connect() as c:
        backend = c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    engine.dispose()
    with suppress(OSError):
        stat = Path(f"/proc/{backend}/stat").read_text()
        _postmaster.append(int(stat.rsplit(")")[-1].split()[1]))  # field 4, the ppid


def server_cpu() -> float:
    """CPU seconds of the Postgres server (postmaster with its exited backends, plus the live
    ones; whoever else uses the server counts too); NaN when the server is not local."""
    if not _postmaster:
        return math.nan
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            pid, fields = int(stat.parent.name), stat.read_text().rsplit(")")[-1].split()
            if pid == _postmaster[0]:
                total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
            elif int(fields[1]) == _postmaster[0]:
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds all processes on the machine have used since boot (user, system, irq)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:8]]
    return (sum(fields[:3]) + fields[5] + fields[6]) / os.sysconf("SC_CLK_TCK")


def our_cpu() -> float:
    """CPU seconds used by this process, its children and (if local) the Postgres server."""
    return cpu_now() + (server_cpu() if _postmaster else 0.0)


def timed(run: Callable[..., object], *args: object) -> Sample:
    """(wall, CPU, server CPU) seconds of ``run(*args)``; raises when it reports failure."""
    wall, cpu, server = time.perf_counter(), cpu_now(), server_cpu()
    if run(*args) is False:
        raise RuntimeError(f"run failed: {run}{args}")
    return time.perf_counter() - wall, cpu_now() - cpu, server_cpu() - server


@contextmanager
def throwaway_db(admin: str, label: str, *, migrate: bool = True) -> Iterator[str]:
    """A new database ``orch_bench_<hex>_<label>`` (migrated), dropped on exit."""
    name = f"orch_bench_{uuid.uuid4().hex[:8]}_{label}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        dispose_engine(url)
        with engine.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def dagster_instance(stack: ExitStack, admin: str) -> Instance:
    """The shipped dagster.yaml in a temp DAGSTER_HOME, its storage in a throwaway database."""
    home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="orch-bench-")))
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    storage = stack.enter_context(throwaway_db(admin, "dagster", migrate=False))
    os.environ["DAGSTER_PG_URL"] = storage
    instance = stack.enter_context(Instance.get())
    apply_pool_limits(instance)
    return instance


def bound_job(db_url: str, executor: dg.ExecutorDefinition | None = None) -> dg.JobDefinition:
    """``ingest_mail_job`` bound to ``db_url`` as the tests bind it, or a copy on ``executor``."""
    settings = get_settings()
    resources = {
        "app_db": AppDb(url=db_url),
        "extractor": extractor_from(settings, kind="offline", min_confidence=0.6),
        "limits": limits_from(settings),
    }
    defs = build_definitions(resources, history_start=HISTORY_START)
    if executor is None:
        return defs.resolve_job_def(JOB)
    copy = dg.define_asset_job(
        name=f"{JOB}_multiprocess",
        selection=dg.AssetSelection.assets(MAIL.asset).without_checks()
        | dg.AssetSelection.checks_for_assets(MAIL.asset),
        partitions_def=MAIL.partitions,
        executor_def=executor,
    )
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[copy])).resolve_job_def(copy.name)


def multiprocess_job() -> dg.JobDefinition:
    """The reconstructable target: the multiprocess copy, on the database in ``APP_DB_ENV``."""
    return bound_job(os.environ[APP_DB_ENV], dg.multiprocess_executor)


def register(db_url: str, instance: Instance, mbox: Path) -> str:
    """Add a ``job_posting`` mailbox integration and its dynamic partition; returns the key."""
    with session_scope(db_url) as session:
        row = add_integration(
            session, provider="mailbox", account=str(mbox), task="job_posting", stream=STREAM
        )
        key = row.partition_key or ""
    register_partition_key(instance, key, stream=STREAM)
    return key


def run_in_process(job: dg.JobDefinition, instance: Instance, key: str, day: dt.date) -> bool:
    part = IngestPartition(key, day).key
    return job.execute_in_process(instance=instance, partition_key=part, run_config=QUIET).success


def run_multiprocess(db_url: str, instance: Instance, key: str, day: dt.date) -> bool:
    os.environ[APP_DB_ENV] = db_url  # the step processes inherit it
    tags = MAIL.partitions.get_tags_for_partition_key(IngestPartition(key, day).key)
    recon = dg.reconstructable(multiprocess_job)
    with dg.execute_job(recon, instance=instance, run_config=QUIET, tags=tags) as result:
        return result.success


def run_direct(db_url: str, key: str, day: dt.date) -> None:
    """The five step functions in order (`run_partition`, holding the partition lease), with
    the StepContext, source and extractor the ops build from the same resources."""
    settings = get_settings()
    limits = limits_from(settings)
    extractor = extractor_from(settings, kind="offline", min_confidence=0.6)
    with session_scope(db_url) as session:
        info = IntegrationInfo.of(find_integration(session, key))
    part = PartitionKey(info.id, day, STREAM)
    run_id = uuid.uuid4().hex
    ctx = StepContext(db_url, info, part, run_id, limits.batch_size, lease=limits.lease_terms())
    source = open_source(ctx, credentials_key=None)
    source.check()
    run_partition(
        ctx,
        source,
        extractor=extractor.build(),
        parse_options=limits.parse_options(),
        min_confidence=extractor.min_confidence,
        max_items=limits.max_items_per_run,
        max_seconds=limits.max_run_seconds,
    )


def partition_runner(mode: str, db_url: str, instance: Instance) -> Callable:
    """Register the sample mailbox on ``db_url``; return a function running one of its days."""
    key = register(db_url, instance, SAMPLE)
    if mode.startswith("in-process"):
        job = bound_job(db_url)
        return lambda day: run_in_process(job, instance, key, day)
    if mode.startswith("multiprocess"):
        return lambda day: run_multiprocess(db_url, instance, key, day)
    return lambda day: run_direct(db_url, key, day)


def orchestration_costs(admin: str, instance: Instance, repeat: int) -> dict:
    """Part 1: {(mode, phase): [Sample, ...]} over ``repeat`` partitions per mode."""
    samples: dict[tuple[str, str], list[Sample]] = {}
    for start in range(0, repeat, len(TIMED_DAYS)):  # fresh databases every 5 partitions
        days = TIMED_DAYS[: repeat - start]
        with ExitStack() as stack:
            runs = {}
            for mode in MODES:
                url = stack.enter_context(throwaway_db(admin, mode.split()[0].replace("-", "")))
                runs[mode] = partition_runner(mode, url, instance)
                timed(runs[mode], WARMUP_DAY)  # imports, first connections: not timed
            for phase in ("first run", "re-run"):
                for day in days:
                    for mode in MODES:
                        sample = timed(runs[mode], day)
                        samples.setdefault((mode, phase), []).append(sample)
                        print(f"  {phase} {day} {mode}: {sample[0]:.2f} s", file=sys.stderr)
    return samples


def mbox_copy(path: Path, day: dt.date, tag: int, held_back: int) -> None:
    """Write the messages received on ``day`` except the last ``held_back``, the Subject tagged
    ``[bench <tag>]`` so that no two copies share extraction-cache entries."""
    chunks = []
    for span in scan_mbox(SAMPLE):
        received = from_line_time(span.from_line)
        if received is not None and received.date() == day:
            data = read_span(SAMPLE, span.start, span.end).rstrip(b"\n") + b"\n\n"
            data = data.replace(b"\nSubject: ", f"\nSubject: [bench {tag}] ".encode(), 1)
            chunks.append(b"From " + span.from_line.encode("latin-1") + b"\n" + data)
    path.write_bytes(b"".join(chunks[: len(chunks) - held_back]))


def run_worker(key: str, day: dt.date, env: dict[str, str]) -> bool:
    """One run as its own process: ``dagster job execute`` of the code location's job."""
    tags = MAIL.partitions.get_tags_for_partition_key(IngestPartition(key, day).key)
    dagster = [str(Path(sys.executable).with_name("dagster")), "job", "execute"]
    target = ["-m", "ingest_pipeline.definitions", "-j", JOB]
    done = subprocess.run(
        [*dagster, *target, "--tags", json.dumps(tags)], env=env, capture_output=True
    )
    sys.stderr.write(done.stderr.decode()[-3000:] if done.returncode else "")
    return done.returncode == 0


def capacity(admin: str, instance: Instance, integrations: int, starts: int) -> dict:
    """Part 2: the import floor, and two ticks of one run per integration, 0-3 new messages."""
    out: dict[str, list[Sample]] = {"floor": [], "this process": [], "own process": []}
    for _ in range(starts):
        floor = [sys.executable, "-c", "import ingest_pipeline.definitions"]
        out["floor"].append(timed(subprocess.run, floor))
    with ExitStack() as stack:
        url = stack.enter_context(throwaway_db(admin, "capacity"))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="orch-bench-")))
        job, plan = bound_job(url), []
        for i in range(integrations):
            day, new, mbox = DAYS[i % len(DAYS)], i % 4, folder / f"{i}.mbox"
            mbox_copy(mbox, day, i, 2 * new)
            key = register(url, instance, mbox)
            run_in_process(job, instance, key, day)  # the import before the ticks, not timed
            plan.append((mbox, day, i, new, key))
        env = {
            **os.environ,
            "INGEST_DATABASE_URL": url,
            "INGEST_EXTRACTOR": "offline",
            "INGEST_HISTORY_START": HISTORY_START.isoformat(),
        }
        for tick, where in ((1, "this process"), (2, "own process")):
            for mbox, day, i, new, key in plan:
                mbox_copy(mbox, day, i, (2 - tick) * new)  # ``new`` messages arrived
                if where == "this process":
                    sample = timed(run_in_process, job, instance, key, day)
                else:
                    sample = timed(run_worker, key, day, env)
                out[where].append(sample)
                print(f"  tick {tick} {key} +{new}: {where} {sample[0]:.2f} s", file=sys.stderr)
    return out


def medians(samples: list[Sample]) -> list[float]:
    """The median wall, CPU and server CPU seconds."""
    return [statistics.median(column) for column in zip(*samples, strict=True)]


def row(label: str, samples: list[Sample]) -> str:
    wall, cpu, server = medians(samples)
    return f"{label:<48} {len(samples):>4} {wall:>7.2f} {cpu:>7.2f} {server:>9.2f}"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def report(costs: dict, cap: dict, integrations: int, start: tuple[str, float, float]) -> None:
    """Print both tables, the ratios and the capacity estimate with its assumptions."""
    busy, ours = machine_busy() - start[1], our_cpu() - start[2]
    print(
        f"orchestration benchmark: Dagster {dg.__version__}, Python {sys.version.split()[0]},\n"
        f"{CORES} CPUs, load average (1/5/15 min) at start {start[0]}, at end {load()};\n"
        f"machine CPU used during the run {busy:.0f} s, of which not ours {busy - ours:.0f} s\n"
        "medians; CPU = this process + children; server = CPU of the local Postgres server"
    )
    header = f"{'runs':>4} {'wall s':>7} {'CPU s':>7} {'server s':>9}"
    print(f"\n1. per partition run (one day of sample.mbox, 9-10 messages)\n{'':<48} {header}")
    for phase in ("first run", "re-run"):
        for mode in MODES:
            print(row(f"{phase:<10} {mode}", costs[mode, phase]))
    for phase in ("first run", "re-run"):
        ip, mp, direct = (medians(costs[mode, phase]) for mode in MODES)
        ratios = ", ".join(f"{m / i:.1f}x {n}" for m, i, n in zip(mp, ip, COLUMNS, strict=True))
        extra = ", ".join(f"{i - d:.2f} s {n}" for i, d, n in zip(ip, direct, COLUMNS, strict=True))
        print(f"  {phase:<9}: multiprocess / in-process = {ratios}")
        print(f"  {'':<9}  in-process - direct = {extra}")
    print(f"\n2. capacity: {integrations} integrations, one 15-minute tick, 0-3 new messages each")
    print(f"{'':<48} {header}")
    print(row("process start floor (import definitions)", cap["floor"]))
    print(row("tick run in this process (in-process executor)", cap["this process"]))
    print(row("tick run, `dagster job execute` process per run", cap["own process"]))
    wall, cpu, server = medians(cap["own process"])
    budget = TICK_SECONDS * CORES * UTILISATION
    by_cpu, by_both = budget / cpu, budget / (cpu + server)
    by_slots = TICK_SECONDS * MAX_CONCURRENT_RUNS / wall
    print(
        f"  CPU bound:  {TICK_SECONDS:.0f} s x {CORES} cores x {UTILISATION} utilisation / "
        f"{cpu:.2f} CPU s per run = {by_cpu:.0f} (Postgres on another machine)\n"
        f"              same / ({cpu:.2f} + {server:.2f} server) CPU s = {by_both:.0f}"
        " (Postgres on the same 2 cores)\n"
        f"  slot bound: {TICK_SECONDS:.0f} s x {MAX_CONCURRENT_RUNS} max_concurrent_runs / "
        f"{wall:.2f} s wall per run = {by_slots:.0f} (binds if runs mostly wait, e.g. on an LLM)\n"
        f"  estimate:   {min(by_cpu, by_slots):.0f} integrations per 2-core machine "
        f"({min(by_both, by_slots):.0f} with Postgres on it), one run per integration per tick;"
        f" {1 - UTILISATION:.0%} of the CPU left to the daemon, webserver and code server"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="admin URL (creates/drops databases)")
    parser.add_argument("--repeat", type=int, default=5, help="timed partitions per mode")
    parser.add_argument("--integrations", type=int, default=8, help="integrations in the tick")
    parser.add_argument("--quick", action="store_true", help="2 partitions, 4 integrations")
    args = parser.parse_args()
    repeat, integrations, starts = (2, 4, 3) if args.quick else (args.repeat, args.integrations, 5)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds, so databases are dropped
    find_postmaster(args.url)
    start = (load(), machine_busy(), our_cpu())
    with ExitStack() as stack:
        instance = dagster_instance(stack, args.url)
        print("part 1: per-run cost", file=sys.stderr)
        costs = orchestration_costs(args.url, instance, repeat)
        print("part 2: capacity", file=sys.stderr)
        cap = capacity(args.url, instance, integrations, starts)
    report(costs, cap, integrations, start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
