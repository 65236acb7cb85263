"""A run killed with SIGKILL half-way, then run again, ends with exactly the rows of an
uninterrupted run and a fully accounted ledger, for every stream."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.mail_folders import BIG_DAY as DAY
from ingest_pipeline_tests.mail_folders import big_eml_folder
from ingest_pipeline_tests.pipeline_runner import (
    ledger_rows,
    register_mailbox,
    register_source,
    run_days,
    snapshot,
)
from ingest_pipeline_tests.stream_samples import big_ics_file, big_vcard_file

STEPS = ("none", "fetched", "parsed", "extracted", "persisted")


def _progress(db_url: str) -> dict[str, int]:
    """How many items have reached each step, and how many ended."""
    with get_engine(db_url).connect() as c:
        rows = c.execute(
            sa.text("select step, status, count(*) from ingest_items group by 1, 2")
        ).all()
    reached = {step: 0 for step in STEPS}
    ended = 0
    for step, status, count in rows:
        for s in STEPS[: STEPS.index(step) + 1]:
            reached[s] += count
        ended += count if status in ("done", "skipped", "failed") else 0
    return {**reached, "ended": ended}


KILL_POINTS: dict[str, Callable[[dict[str, int], int], bool]] = {
    "during fetch": lambda p, n: n // 10 <= p["fetched"] <= n // 2 and p["parsed"] == 0,
    "during parse and gpt": lambda p, n: p["parsed"] >= n // 10 and p["persisted"] == 0,
    "during persist": lambda p, n: n // 10 <= p["ended"] <= n // 2,
    # Every item committed, the Dagster run not yet finished (checks, materialization).
    "after persist": lambda p, n: p["ended"] == n,
}


@dataclass(frozen=True)
class Scenario:
    """A stream's big input on disk, how to register it, and the days its run covers."""

    stream: str
    write: Callable[[Path], int]
    register: Callable[[str, Path], str]
    days: list[dt.date] | None


SCENARIOS = {
    "mail": Scenario("mail", big_eml_folder, register_mailbox, [DAY]),
    "contacts": Scenario(
        "contacts",
        lambda path: big_vcard_file(path, 400),
        lambda url, path: register_source(url, path, provider="vcard", stream="contacts"),
        None,
    ),
    "calendar_events": Scenario(
        "calendar_events",
        lambda path: big_ics_file(path, 400, day=DAY),
        lambda url, path: register_source(url, path, provider="ics", stream="calendar_events"),
        [DAY],
    ),
}
# The steps and the ledger are the same for every stream; mail runs on both dialects at
# every kill point, the other streams on SQLite at the two that cut a batch in half.
OTHER_STREAM_CASES = [
    (stream, point)
    for stream in ("contacts", "calendar_events")
    for point in ("during fetch", "during persist")
]


@pytest.mark.slow
@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_sigkilled_mail_run_then_rerun_matches_uninterrupted(
    kill_point: str,
    db_url: str,
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    kill_and_rerun("mail", kill_point, db_url, make_db, dagster_instance, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("stream", "kill_point"), OTHER_STREAM_CASES)
def test_sigkilled_run_of_another_stream_then_rerun_matches_uninterrupted(
    stream: str,
    kill_point: str,
    sqlite_url: str,
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    kill_and_rerun(stream, kill_point, sqlite_url, make_db, dagster_instance, tmp_path)


def kill_and_rerun(
    stream: str,
    kill_point: str,
    db_url: str,
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    """SIGKILL ``stream``'s CLI run at ``kill_point``, run the partition again, and compare
    with an uninterrupted run on a fresh database."""
    scenario = SCENARIOS[stream]
    path = tmp_path / "input"
    total = scenario.write(path)
    dialect = "sqlite" if db_url.startswith("sqlite") else "postgres"

    reference_url = make_db(dialect)
    reference_key = scenario.register(reference_url, path)
    reference = run_days(
        reference_url, dagster_instance, reference_key, scenario.days, stream=stream
    )
    assert all(o.success for o in reference)

    key = scenario.register(db_url, path)
    assert key == reference_key
    env = {
        **os.environ,
        "INGEST_DATABASE_URL": db_url,
        "DAGSTER_HOME": str(tmp_path / "cli_dagster_home"),
        "INGEST_BATCH_SIZE": "4",
        # The killed run's partition lease expires soon after, so the re-run need not wait.
        "INGEST_LEASE_TTL_SECONDS": "2",
    }
    dates = ["--date", scenario.days[0].isoformat()] if scenario.days else []
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest_pipeline.cli", "run", "--integration", key, *dates],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killed_at = None
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        progress = _progress(db_url)
        if KILL_POINTS[kill_point](progress, total):
            process.send_signal(signal.SIGKILL)
            killed_at = progress
            break
        time.sleep(0.003)
    process.wait(timeout=30)
    assert killed_at is not None, f"the run ended before reaching {kill_point}: {_progress(db_url)}"
    assert process.returncode == -signal.SIGKILL
    if kill_point != "after persist":
        assert _progress(db_url)["ended"] < total

    [outcome] = run_days(db_url, dagster_instance, key, scenario.days, stream=stream)

    assert outcome.success, outcome.error
    assert snapshot(db_url, natural=True) == snapshot(reference_url, natural=True)
    rows = ledger_rows(db_url)
    assert len(rows) == total
    assert all(r["status"] in {"done", "skipped", "failed"} for r in rows)
