"""Two runs of one partition at once, with a slow extractor: the partition lease lets one
of them do the work, so extraction calls equal the distinct inputs and the rows equal a
single run's, whoever launched the runs (two CLI processes, or the CLI beside a run the
dagster-daemon launched from its queue).

The overlap is made certain, not hoped for: the fake OpenAI server holds every completion
until both runs have started, so the run holding the lease is still in its gpt step when
the other arrives.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.defs.local_launch import local_instance, register_partition_key
from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.offline_extractor import OfflineExtractor
from ingest_pipeline.extraction.tasks import TASKS
from ingest_pipeline.store.database import get_engine
from ingest_pipeline.store.models import Base
from ingest_pipeline_tests.conftest import PROJECT_ROOT, SAMPLE_MBOX
from ingest_pipeline_tests.dagster_services import (
    dagster_services,
    instance_at,
    production_home,
    wait_for,
)
from ingest_pipeline_tests.fakes.openai_server import ChatRequest, FakeOpenAI
from ingest_pipeline_tests.pipeline_runner import (
    SURROGATE,
    VOLATILE,
    derive,
    register_mailbox,
    snapshot,
)
from ingest_pipeline_tests.pipeline_runner import run_days as run_days_in_process

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DAY = dt.date(2026, 11, 2)
LATENCY = 0.3  # seconds the fake OpenAI takes per request: the slow extractor
GATE_SECONDS = 120.0
INGEST_JOB = "ingest_mail_job"
BIN = Path(sys.executable).parent
# Differ between two correct runs: which HTTP answer a result came from, and the outcome
# the daemon's run-status sensors write back (the CLI alone has no sensors).
RUN_SPECIFIC = {"llm_extractions": {"request_id"}, "integrations": {"last_sync_status"}}


def model_answer(request: ChatRequest) -> dict[str, Any]:
    """A stand-in model: the offline rules' answer, for the task the request names (the
    import's job postings, the derived relationship insights), to the fenced text it was
    sent."""
    name = (request.response_format or {}).get("json_schema", {}).get("name", "job_posting")
    text = str(request.messages[-1]["content"]).removeprefix("<<<EMAIL\n")
    text = text.removesuffix("\nEMAIL>>>")
    task = TASKS[name]
    return OfflineExtractor().extract(task, ExtractionInput.of(task=name, text=text)).result


class Gate:
    """Holds every completion until `opened` is set (or `GATE_SECONDS` pass, which the test
    then reports), so the run holding the lease stays in its gpt step."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.timed_out = False

    def responder(self, request: ChatRequest) -> dict[str, Any]:
        if not self.opened.wait(GATE_SECONDS):
            self.timed_out = True
        return model_answer(request)


@dataclass(frozen=True)
class Imported:
    """What a partition run (with the derived assets' run `ingest-pipeline run` follows it
    with) left in the app database, and what it cost: LLM requests in all, and those of the
    import's gpt step."""

    tables: dict[str, list[tuple[Any, ...]]]
    extractions: int
    requests: int
    import_calls: int


def imported_rows(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """`snapshot(natural=True)` without the `RUN_SPECIFIC` columns."""
    tables = snapshot(db_url, natural=True)
    for table in Base.metadata.sorted_tables:
        drop = RUN_SPECIFIC.get(table.name, set())
        names = [c.name for c in table.columns if c.name not in VOLATILE | SURROGATE]
        keep = [i for i, name in enumerate(names) if name not in drop]
        tables[table.name] = sorted(
            (tuple(row[i] for i in keep) for row in tables[table.name]), key=repr
        )
    return tables


def lease_holder(db_url: str) -> str | None:
    """The run id holding a partition lease in the app database, if any."""
    with get_engine(db_url).connect() as c:
        return c.execute(sa.text("select run_id from partition_leases")).scalar_one_or_none()


def extraction_count(db_url: str) -> int:
    with get_engine(db_url).connect() as c:
        return int(c.execute(sa.text("select count(*) from llm_extractions")).scalar_one())


def openai_env(server: FakeOpenAI) -> dict[str, str]:
    return {
        "INGEST_EXTRACTOR": "openai",
        "INGEST_OPENAI_API_KEY": "test-key",
        "INGEST_OPENAI_BASE_URL": server.base_url,
        "INGEST_OPENAI_MAX_RETRIES": "0",
        "INGEST_OPENAI_TIMEOUT_SECONDS": str(GATE_SECONDS + 60),
    }


@pytest.fixture
def single_run(
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> Imported:
    """One clean run of the partition, alone, on its own fresh Postgres database, then its
    derived assets' run, as `ingest-pipeline run` does."""
    url = make_db("postgres")
    key = register_mailbox(url, SAMPLE_MBOX)
    with FakeOpenAI(responder=model_answer) as server:
        for name, value in openai_env(server).items():
            monkeypatch.setenv(name, value)
        [outcome] = run_days_in_process(url, dagster_instance, key, [DAY], extractor="openai")
        assert outcome.success, outcome.error
        import_calls = len(server.requests)
        [derived] = derive(url, dagster_instance, key, [DAY], extractor="openai")
        assert derived.success, derived.error
        requests = len(server.requests)
    assert outcome.metrics["extraction_calls"] == import_calls > 0
    return Imported(imported_rows(url), extraction_count(url), requests, import_calls)


@pytest.fixture
def slow_openai() -> Iterator[tuple[FakeOpenAI, Gate]]:
    gate = Gate()
    with FakeOpenAI(responder=gate.responder, latency=LATENCY) as server:
        try:
            yield server, gate
        finally:
            gate.opened.set()


def cli_run(env: dict[str, str], key: str, log: Path) -> subprocess.Popen[bytes]:
    """`ingest-pipeline run` of the partition, as a user starts it, output to ``log``."""
    return subprocess.Popen(
        [str(BIN / "ingest-pipeline"), "run", "--integration", key, "--date", DAY.isoformat()],
        cwd=log.parent,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def partition_runs(instance: dg.DagsterInstance, key: str) -> list[dg.DagsterRun]:
    """The ingest job's runs of the partition (other jobs of the same partition, such as
    the derived assets' runs an import may be followed by, are not the lease's concern)."""
    runs = dg.RunsFilter(job_name=INGEST_JOB, tags={"dagster/partition": f"{DAY}|{key}"})
    return list(instance.get_runs(filters=runs))


def running_or_done(instance: dg.DagsterInstance, key: str, count: int) -> bool:
    """Whether ``count`` runs of the partition have started (or already ended)."""
    runs = partition_runs(instance, key)
    return sum(r.status == dg.DagsterRunStatus.STARTED or r.is_finished for r in runs) >= count


def ended_runs(instance: dg.DagsterInstance, key: str, count: int) -> list[dg.DagsterRun] | None:
    """The partition's runs once ``count`` of them exist and all have ended."""
    runs = partition_runs(instance, key)
    return runs if len(runs) >= count and all(r.is_finished for r in runs) else None


def one_gave_up(instance: dg.DagsterInstance, key: str) -> bool:
    """Whether a run of the partition has failed (gave up waiting for the lease)."""
    return any(r.status == dg.DagsterRunStatus.FAILURE for r in partition_runs(instance, key))


def finish(processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> list[str]:
    """Wait for the CLI processes; their outputs."""
    for process in processes:
        process.wait(timeout=GATE_SECONDS + 60)
    return [log.read_text() for log in logs]


def extraction_calls(output: str) -> int:
    """The extraction calls one `ingest-pipeline run` printed for the day."""
    [calls] = re.findall(r"^\s+2026-11-02\s+ok .* extraction calls (\d+)$", output, re.M)
    return int(calls)


def assert_overlapped(runs: list[dg.DagsterRun], instance: dg.DagsterInstance) -> None:
    """Each run started before the other ended: they really ran at once."""
    records = {r.dagster_run.run_id: r for r in instance.get_run_records()}
    first, second = (records[run.run_id] for run in runs)
    assert first.start_time is not None and second.start_time is not None
    assert first.end_time is not None and second.end_time is not None
    assert first.start_time < second.end_time and second.start_time < first.end_time


def assert_imported_once(db_url: str, server: FakeOpenAI, gate: Gate, single_run: Imported) -> None:
    """Extraction calls equal the distinct inputs, and the rows equal a single run's."""
    assert not gate.timed_out, "the second run never started while the first held the lease"
    assert not server.server_errors
    distinct_inputs = extraction_count(db_url)
    assert len(server.requests) == distinct_inputs == single_run.extractions
    assert len(server.requests) == single_run.requests
    assert imported_rows(db_url) == single_run.tables


@pytest.mark.parametrize("lease_wait", ["waits", "gives up"])
def test_two_cli_runs_of_one_partition_import_it_once(
    lease_wait: str,
    postgres_url: str,
    single_run: Imported,
    slow_openai: tuple[FakeOpenAI, Gate],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, gate = slow_openai
    key = register_mailbox(postgres_url, SAMPLE_MBOX)
    home = tmp_path / "cli_dagster_home"
    env = {
        **os.environ,
        **openai_env(server),
        "DAGSTER_HOME": str(home),
        "INGEST_DATA_DIR": str(tmp_path / ".ingest"),
        "INGEST_DATABASE_URL": postgres_url,
        "INGEST_LEASE_TTL_SECONDS": "10",
        "INGEST_LEASE_WAIT_SECONDS": "120" if lease_wait == "waits" else "0",
    }
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = local_instance()  # the embedded home both processes share
    # A partition already, as `ingest-pipeline integrations add` leaves it, so the two
    # processes race for the lease alone (registering a new key in the SQLite home at the
    # same moment once killed one of them before it launched a run, on a loaded machine).
    register_partition_key(instance, key, stream="mail")
    logs = [tmp_path / "cli-1.log", tmp_path / "cli-2.log"]
    processes = [cli_run(env, key, log) for log in logs]
    try:
        # The holder stays in gpt until the other run has started (or, when it may not
        # wait, has given up).
        if lease_wait == "waits":
            wait_for(
                "both runs to start",
                lambda: running_or_done(instance, key, 2) or _exited(processes),
                timeout=90,
                every=0.2,
            )
        else:
            wait_for(
                "the second run to give up",
                lambda: one_gave_up(instance, key) or _exited(processes),
                timeout=90,
                every=0.2,
            )
        gate.opened.set()
        outputs = finish(processes, logs)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()

    runs = partition_runs(instance, key)
    assert len(runs) == 2, outputs
    assert_overlapped(runs, instance)
    assert_imported_once(postgres_url, server, gate, single_run)
    if lease_wait == "waits":
        # Each exits 0: one imported the partition, the other then found nothing to do.
        assert [p.returncode for p in processes] == [0, 0], outputs
        assert sorted(extraction_calls(out) for out in outputs) == [0, single_run.import_calls]
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    else:
        # The loser fails at once, naming the run that holds the partition, and is not
        # retried; the holder imports the partition.
        [winner] = [r for r in runs if r.status == dg.DagsterRunStatus.SUCCESS]
        [loser] = [r for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
        codes = {out: p.returncode for out, p in zip(outputs, processes, strict=True)}
        [lost] = [out for out, code in codes.items() if code == 1]
        [won] = [out for out, code in codes.items() if code == 0]
        assert f"FAILED run {loser.run_id[:8]}" in lost
        assert f"is being imported by run {winner.run_id}" in lost
        assert extraction_calls(won) == single_run.import_calls
        retries = instance.all_logs(loser.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
        assert retries == []


def _exited(processes: list[subprocess.Popen[bytes]]) -> bool:
    """Stop waiting when a process ended early (its output then says why)."""
    return any(p.poll() is not None for p in processes)


def launch_backfill(env: dict[str, str], partition: str) -> None:
    """Queue a run of the partition through the daemon: `dagster job backfill`."""
    subprocess.run(
        [
            str(BIN / "dagster"),
            "job",
            "backfill",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            "-j",
            "ingest_mail_job",
            "--partitions",
            partition,
            "--noprompt",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_a_cli_run_beside_a_daemon_launched_run_imports_the_partition_once(
    postgres_url: str,
    dagster_storage_url: str,
    single_run: Imported,
    slow_openai: tuple[FakeOpenAI, Gate],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The daemon's run goes through the queue; the CLI's does not (it executes in
    process), so only the lease keeps the two apart. The CLI starts once the daemon's run
    holds the partition: launched the other way round, the queue's one-run-per-integration limit
    would hold the daemon's run back and the lease would not be what is tested."""
    server, gate = slow_openai
    key = register_mailbox(postgres_url, SAMPLE_MBOX)
    home = production_home(tmp_path / "daemon_dagster_home")
    never = "0 0 1 1 *"  # no schedule tick launches other runs while the test runs
    env = {
        **os.environ,
        **openai_env(server),
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": dagster_storage_url,
        "INGEST_DATABASE_URL": postgres_url,
        "INGEST_LEASE_TTL_SECONDS": "10",
        "INGEST_LEASE_WAIT_SECONDS": "120",
        "INGEST_TODAY_CRON": never,
        "INGEST_NIGHTLY_CRON": never,
    }
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_storage_url)
    instance = instance_at(home)
    # Already a partition: the integrations sensor launches no first run of its own.
    register_partition_key(instance, key, stream="mail")

    with dagster_services(env, tmp_path):
        launch_backfill(env, f"{DAY}|{key}")
        [daemon_run] = wait_for(
            "the daemon to start its run", lambda: partition_runs(instance, key), timeout=120
        )
        wait_for(
            "the daemon's run to hold the partition",
            lambda: lease_holder(postgres_url) == daemon_run.run_id,
            timeout=120,
            every=0.2,
        )
        log = tmp_path / "cli.log"
        process = cli_run(env, key, log)
        try:
            wait_for(
                "the CLI run to start",
                lambda: running_or_done(instance, key, 2) or process.poll() is not None,
                timeout=90,
                every=0.2,
            )
            gate.opened.set()
            [output] = finish([process], [log])
            runs = wait_for(
                "both runs to end", lambda: ended_runs(instance, key, 2), timeout=120, every=0.5
            )
        finally:
            if process.poll() is None:
                process.kill()

    assert process.returncode == 0, output
    assert len(runs) == 2
    assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    assert {r.run_id for r in runs if r.tags.get("dagster/backfill")} == {daemon_run.run_id}
    [cli_run_] = [r for r in runs if r.tags.get("ingest/launched_by") == "cli"]
    assert_overlapped([daemon_run, cli_run_], instance)
    assert_imported_once(postgres_url, server, gate, single_run)
    # The daemon's run held the partition; the CLI's found nothing left to extract.
    assert extraction_calls(output) == 0
