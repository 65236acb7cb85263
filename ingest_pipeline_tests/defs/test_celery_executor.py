"""``INGEST_EXECUTOR=celery``: a partition run whose steps execute on a real dagster-celery
worker process, taking them from the RabbitMQ that runs on this machine, with the Dagster
instance and the app database on Postgres shared by both processes."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from ingest_pipeline.defs.executors import run_executor
from ingest_pipeline.defs.local_launch import register_partition_key
from ingest_pipeline.settings import Settings
from ingest_pipeline_tests.conftest import PROJECT_ROOT, SAMPLE_MBOX
from ingest_pipeline_tests.dagster_services import instance_at, production_home, wait_for
from ingest_pipeline_tests.pipeline_runner import (
    register_mailbox,
    run_days,
    snapshot,
)

BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
DAY = dt.date(2026, 11, 3)
BIN = Path(sys.executable).parent
EXECUTE = [str(BIN / "dagster"), "job", "execute", "-m", "ingest_pipeline.definitions"]


def _rabbitmq_or_skip() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as error:
        message = f"the Celery smoke test needs RabbitMQ on 127.0.0.1:5672: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: .ci/run starts it)")
        pytest.skip(message)


@contextlib.contextmanager
def celery_worker(env: dict[str, str], config: Path, queue: str, log: Path) -> Iterator[None]:
    """One worker process (two pool processes) on ``queue``, stopped with its children."""
    command = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"]
    command += ["-y", str(config), "-q", queue, "-l", "INFO", "--", "--concurrency=2"]
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )

    def ready() -> bool:
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited: {log.read_text(errors='replace')[-3000:]}")
        return b"ready." in log.read_bytes()

    try:
        wait_for("the worker to be ready", ready, timeout=120)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def test_the_executor_setting_picks_where_steps_run() -> None:
    assert run_executor(Settings(executor="in_process")) is dg.in_process_executor
    assert run_executor(Settings(executor="multiprocess")) is dg.multiprocess_executor
    celery = run_executor(Settings(executor="celery", celery_queue="q1"))
    assert celery.name == "celery"
    with pytest.raises(ValueError):
        Settings(executor="threads")  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_partition_runs_its_steps_on_a_celery_worker(
    postgres_url: str,
    sqlite_url: str,
    dagster_storage_url: str,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _rabbitmq_or_skip()
    queue = f"ingest-test-{uuid.uuid4().hex[:8]}"  # nobody else's worker takes these steps
    home = production_home(tmp_path / "dagster_home")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery runs `celery`
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": dagster_storage_url,
        "INGEST_DATABASE_URL": postgres_url,
        "INGEST_EXECUTOR": "celery",
        "INGEST_CELERY_BROKER": BROKER,
        "INGEST_CELERY_QUEUE": queue,
    }
    key = register_mailbox(postgres_url, SAMPLE_MBOX)
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_storage_url)
    register_partition_key(instance_at(home), key, stream="mail")

    config = tmp_path / "celery.yaml"
    written = subprocess.run(
        [str(BIN / "ingest-pipeline"), "workers", "celery-config", "-o", str(config)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"-q {queue}" in written.stdout
    assert yaml.safe_load(config.read_text())["config_source"]["task_default_queue"] == queue

    partition = f"{DAY}|{key}"
    tags = {
        "dagster/partition": partition,
        "dagster/partition/date": str(DAY),
        "dagster/partition/integration": key,
    }
    with celery_worker(env, config, queue, tmp_path / "worker.log"):
        run = subprocess.run(
            [*EXECUTE, "-j", "ingest_mail_job", "--tags", json.dumps(tags)],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    worker_log = (tmp_path / "worker.log").read_text(errors="replace")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + worker_log[-3000:]

    # Every one of the five steps went through the broker and succeeded on the worker.
    for step in ("enumerate", "fetch", "parse", "gpt", "persist"):
        assert f'Submitting celery task for step "ingest__mail.mail_{step}"' in run.stderr
    assert worker_log.count("succeeded in") >= 5

    # What the worker imported is what an in-process run of the same day imports.
    twin = register_mailbox(sqlite_url, SAMPLE_MBOX)
    [outcome] = run_days(sqlite_url, dagster_instance, twin, [DAY])
    assert outcome.success
    on_worker, in_process = snapshot(postgres_url, natural=True), snapshot(sqlite_url, natural=True)
    assert on_worker["messages"] and on_worker["messages"] == in_process["messages"]
    assert on_worker["ingest_items"] == in_process["ingest_items"]
