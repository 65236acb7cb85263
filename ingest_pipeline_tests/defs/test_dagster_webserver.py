"""After `ingest-pipeline run`, the Dagster webserver on the same DAGSTER_HOME shows the runs,
the partitioned materializations with their metrics, and the asset checks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ingest_pipeline.cli import main
from ingest_pipeline_tests.conftest import SAMPLE_MBOX

QUERY = """
{
  runsOrError { ... on Runs { results { runId status jobName } } }
  assetOrError(assetKey: {path: ["ingest", "mail"]}) {
    ... on Asset {
      assetMaterializations(limit: 20) {
        partition
        runId
        metadataEntries { label }
      }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]  # type: ignore[no-any-return]


@pytest.mark.slow
def test_webserver_shows_cli_runs_and_materializations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / ".ingest" / "dagster_home"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("INGEST_DATA_DIR", str(tmp_path / ".ingest"))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["integrations", "add", "--provider", "mailbox", "--path", str(SAMPLE_MBOX)]) == 0
    assert (
        main(["run", "--integration", "mailbox-1", "--date", "2026-11-02", "--to", "2026-11-03"])
        == 0
    )
    capsys.readouterr()

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-m",
            "ingest_pipeline.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env={**os.environ},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        data = _graphql(port, QUERY)
    finally:
        server.terminate()
        server.wait(timeout=30)

    runs = data["runsOrError"]["results"]
    # Per day, the import and the derived assets computed after it.
    assert sorted(r["jobName"] for r in runs) == ["derive_mail_job"] * 2 + ["ingest_mail_job"] * 2
    assert {r["status"] for r in runs} == {"SUCCESS"}
    materializations = data["assetOrError"]["assetMaterializations"]
    assert {m["partition"] for m in materializations} == {
        "2026-11-02|mailbox-1",
        "2026-11-03|mailbox-1",
    }
    labels = {e["label"] for e in materializations[0]["metadataEntries"]}
    assert {"enumerated", "inserted", "extraction_calls", "cache_hits", "failed"} <= labels
