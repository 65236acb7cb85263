"""A run killed with SIGKILL half-way, then run again, ends with exactly the rows of an
uninterrupted run and a fully accounted ledger."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.mail_folders import BIG_DAY as DAY
from ingest_pipeline_tests.mail_folders import big_eml_folder
from ingest_pipeline_tests.pipeline_runner import ledger_rows, register_mailbox, run_days, snapshot

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


@pytest.mark.slow
@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_sigkilled_run_then_rerun_matches_uninterrupted(
    kill_point: str,
    db_url: str,
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mail"
    total = big_eml_folder(folder)
    dialect = "sqlite" if db_url.startswith("sqlite") else "postgres"

    reference_url = make_db(dialect)
    reference_key = register_mailbox(reference_url, folder)
    assert all(o.success for o in run_days(reference_url, dagster_instance, reference_key, [DAY]))

    key = register_mailbox(db_url, folder)
    assert key == reference_key
    env = {
        **os.environ,
        "INGEST_DATABASE_URL": db_url,
        "DAGSTER_HOME": str(tmp_path / "cli_dagster_home"),
        "INGEST_BATCH_SIZE": "4",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ingest_pipeline.cli",
            "run",
            "--integration",
            key,
            "--date",
            DAY.isoformat(),
        ],
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

    [outcome] = run_days(db_url, dagster_instance, key, [DAY])

    assert outcome.success, outcome.error
    assert snapshot(db_url, natural=True) == snapshot(reference_url, natural=True)
    rows = ledger_rows(db_url)
    assert len(rows) == total
    assert all(r["status"] in {"done", "skipped", "failed"} for r in rows)
