"""A person launches one ingest partition from the Dagster UI and sees it succeed.

Headless Chromium opens Jobs → ingest_mail_job, clicks "Materialize…", picks date 2026-11-02
and integration mailbox-1 in the partition dialog, clicks "Launch 1 run", follows the toast's
"View" link to the run page and waits for "Success"; GraphQL then shows the SUCCESS run of
ingest_mail_job for that partition, tagged as launched from the UI.

The local DAGSTER_HOME's dagster.yaml (EMBEDDED_DAGSTER_YAML) sets run concurrency limits and
no run_coordinator, so Dagster uses the QueuedRunCoordinator: UI launches stay QUEUED until
`dagster-daemon` dequeues them. The test therefore runs the daemon next to the webserver.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from ingest_pipeline.cli import main
from ingest_pipeline_tests.browser import headless_chromium, require_chromium
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.dagster_services import free_port, graphql, wait_for

pytestmark = pytest.mark.slow

DAY = "2026-11-02"
HISTORY_START = "2026-01-01"  # the first day of the date dimension in this test
INTEGRATION = "mailbox-1"
PARTITION = f"{DAY}|{INTEGRATION}"
UI_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 120_000

DAEMON_HEALTH = """
{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }
"""
RUNS_OF_PARTITION = """
query($partition: String!) {
  runsOrError(
    filter: {pipelineName: "ingest_mail_job", tags: [{key: "dagster/partition", value: $partition}]}
  ) {
    ... on Runs { results { runId status jobName tags { key value } } }
    ... on PythonError { message }
  }
}
"""


@contextlib.contextmanager
def _started(
    commands: dict[str, list[str]], *, env: dict[str, str], cwd: Path, logs: Path
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Start each command in its own process group; on exit, stop the groups (and so the
    code servers and run workers they spawned), however the test ended."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, command in commands.items():
            with (logs / f"{name}.log").open("wb") as log:
                processes[name] = subprocess.Popen(
                    command,
                    cwd=cwd,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        yield processes
    finally:
        for process in processes.values():
            _signal_group(process, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=30)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def _webserver_up(port: int, webserver: subprocess.Popen[bytes], log: Path) -> bool:
    if webserver.poll() is not None:
        raise AssertionError(f"the webserver exited ({webserver.returncode}):\n{_log_tail(log)}")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
            return True
    except OSError:
        return False


def _run_coordinator_healthy(port: int, daemon: subprocess.Popen[bytes], log: Path) -> bool:
    if daemon.poll() is not None:
        raise AssertionError(f"dagster-daemon exited ({daemon.returncode}):\n{_log_tail(log)}")
    statuses = graphql(port, DAEMON_HEALTH)["instance"]["daemonHealth"]["allDaemonStatuses"]
    return any(s["daemonType"] == "QUEUED_RUN_COORDINATOR" and s["healthy"] for s in statuses)


def _runs_of_partition(port: int) -> list[dict[str, Any]]:
    result = graphql(port, RUNS_OF_PARTITION, {"partition": PARTITION})["runsOrError"]
    assert "results" in result, result
    runs: list[dict[str, Any]] = result["results"]
    return runs


def _text(label: str) -> re.Pattern[str]:
    """Exactly ``label`` as an element's text. Dagster's accessible names also hold icon names
    that come and go as data loads ("job ingest_mail_job info"), so match the text instead."""
    return re.compile(rf"^\s*{re.escape(label)}\s*$")


def _launch_partition_from_job_page(page: Page, base: str) -> str:
    """Jobs → ingest_mail_job → Materialize… → pick the partition → Launch 1 run.

    Returns the run id from the "Launched run" toast, after following its View link.
    """
    page.goto(f"{base}/jobs")
    page.get_by_role("link").filter(has_text=_text("ingest_mail_job")).click()
    page.get_by_role("button").filter(has_text=_text("Materialize…")).click()

    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    dialog.wait_for()
    # The date input's example is the first day of the date dimension.
    date = dialog.get_by_placeholder(f"ex: {HISTORY_START}", exact=False)
    date.fill(DAY)
    date.press("Enter")
    dialog.get_by_text("Select a partition or create one", exact=True).click()
    # The menu's labels render their text twice (to measure truncation); the title is exact.
    integration = page.get_by_role("menuitem").filter(
        has=page.get_by_title(INTEGRATION, exact=True)
    )
    integration.click()
    # Close the menu by clicking the dialog's title (Escape could close the whole dialog).
    dialog.get_by_text("Launch runs to materialize", exact=False).first.click()
    integration.wait_for(state="hidden")
    dialog.get_by_text("1 partition", exact=True).wait_for()
    dialog.get_by_role("button").filter(has_text=_text("Launch 1 run")).click()

    view = page.get_by_role("link").filter(has_text=_text("View"))
    view.wait_for()
    href = view.get_attribute("href") or ""
    match = re.fullmatch(r"/runs/([0-9a-f-]{36})", href)
    assert match, f"the launch toast links to {href!r}, not to a run"
    view.click()
    page.wait_for_url(re.compile(rf"/runs/{match.group(1)}$"))
    return match.group(1)


def test_launch_ingest_partition_from_dagster_ui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require_chromium()
    home = tmp_path / ".ingest" / "dagster_home"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    monkeypatch.delenv("INGEST_EXTRACTOR", raising=False)
    monkeypatch.setenv("INGEST_DATA_DIR", str(tmp_path / ".ingest"))
    monkeypatch.setenv("INGEST_HISTORY_START", HISTORY_START)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["integrations", "add", "--provider", "mailbox", "--path", str(SAMPLE_MBOX)]) == 0
    assert capsys.readouterr().out.strip() == INTEGRATION

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    module = ["-m", "ingest_pipeline.definitions"]
    bin_dir = Path(sys.executable).parent
    commands = {
        "webserver": [
            sys.executable,
            "-m",
            "dagster_webserver",
            *module,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", *module],
    }
    with _started(commands, env={**os.environ}, cwd=tmp_path, logs=tmp_path) as processes:
        wait_for(
            "the webserver",
            lambda: _webserver_up(port, processes["webserver"], tmp_path / "webserver.log"),
            timeout=120,
            every=0.5,
        )
        wait_for(
            "dagster-daemon's run queue",
            lambda: _run_coordinator_healthy(port, processes["daemon"], tmp_path / "daemon.log"),
            timeout=120,
        )
        # Skip the "Join the Dagster community" modal that would cover the page.
        assert graphql(port, "mutation { setNuxSeen }")["setNuxSeen"] is True

        screenshot = tmp_path / "finished_run.png"
        with headless_chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(UI_TIMEOUT_MS)
            try:
                run_id = _launch_partition_from_job_page(page, base)
                page.get_by_text("Success", exact=True).first.wait_for(timeout=RUN_TIMEOUT_MS)
                page.screenshot(path=str(screenshot), full_page=True)
                page_text = page.locator("body").inner_text()
            except Exception:
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                    (tmp_path / "failure.aria.yaml").write_text(
                        page.locator("body").aria_snapshot()
                    )
                raise

        runs = wait_for(
            f"a SUCCESS run of ingest_mail_job for {PARTITION} in GraphQL",
            lambda: [
                r
                for r in _runs_of_partition(port)
                if r["runId"] == run_id and r["status"] == "SUCCESS"
            ],
            timeout=30,
        )

    assert screenshot.is_file() and screenshot.stat().st_size > 0
    assert "Success" in page_text
    assert PARTITION in page_text
    assert "ingest_mail_job" in page_text
    (run,) = runs
    assert run["jobName"] == "ingest_mail_job"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/partition"] == PARTITION
    assert tags["dagster/from_ui"] == "true"
