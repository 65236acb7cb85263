"""The `ingest-pipeline` command as a user types it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest_pipeline.cli import main
from ingest_pipeline_tests.conftest import SAMPLE_MBOX


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean embedded default: app database and Dagster home under tmp_path/.ingest."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("INGEST_DATA_DIR", str(tmp_path / ".ingest"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".ingest" / "dagster_home"))
    return tmp_path


def test_add_list_run_status_disable(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "integrations",
                "add",
                "--provider",
                "mailbox",
                "--path",
                str(SAMPLE_MBOX),
                "--name",
                "inbox",
            ]
        )
        == 0
    )
    key = capsys.readouterr().out.strip()
    assert key == "mailbox-1"

    assert main(["integrations", "list"]) == 0
    listing = capsys.readouterr().out
    assert "mailbox-1" in listing and "inbox" in listing and "active" in listing

    assert (
        main(["run", "--integration", "inbox", "--date", "2026-11-02", "--to", "2026-11-03"]) == 0
    )
    out = capsys.readouterr().out
    assert "2026-11-02  ok" in out and "2026-11-03  ok" in out
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert total.split()[1] == "19"  # 10 + 9 messages received on those two days

    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert "mailbox-1" in status

    assert main(["integrations", "disable", key]) == 0
    assert "disabled" in capsys.readouterr().out
    assert main(["run", "--integration", key, "--date", "2026-11-04"]) == 1
    assert "disabled" in capsys.readouterr().out


def test_an_integration_gets_and_loses_its_own_llm_budget(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["integrations", "add", "--provider", "mailbox", "--path", str(SAMPLE_MBOX)]) == 0
    key = capsys.readouterr().out.strip()

    assert main(["integrations", "budget", key, "--usd", "2.5"]) == 0
    assert "past $2.50 a day" in capsys.readouterr().out
    assert main(["integrations", "list"]) == 0
    assert "$2.50" in capsys.readouterr().out

    assert main(["integrations", "budget", key, "--usd", "-1"]) == 2
    assert "cannot be negative" in capsys.readouterr().err

    assert main(["integrations", "budget", key, "--clear"]) == 0
    assert "the deployment's applies" in capsys.readouterr().out
    assert main(["integrations", "list"]) == 0
    assert "$2.50" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["integrations", "add", "--provider", "mailbox", "--path", "/no/such/mbox"],
            "does not exist",
        ),
        (
            [
                "integrations",
                "add",
                "--provider",
                "mailbox",
                "--path",
                str(SAMPLE_MBOX),
                "--task",
                "job_application",
            ],
            "needs --job-id",
        ),
        (["run", "--integration", "nobody", "--date", "2026-11-02"], "no integration"),
        (["integrations", "disable", "nobody"], "no integration"),
    ],
)
def test_bad_arguments_get_a_message_and_exit_2(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_date_range_backwards_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["integrations", "add", "--provider", "mailbox", "--path", str(SAMPLE_MBOX)])
    capsys.readouterr()
    assert (
        main(["run", "--integration", "mailbox-1", "--date", "2026-11-05", "--to", "2026-11-01"])
        == 2
    )
    assert "before" in capsys.readouterr().err


def test_malformed_date_is_an_argparse_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--integration", "x", "--date", "02/11/2026"])
    assert exit_info.value.code == 2
    assert "is not a date like" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_twice_second_run_changes_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INGEST_", "DAGSTER_"))}
    command = [sys.executable, "-m", "ingest_pipeline.cli", "demo"]
    first = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    assert "rows inserted" in first.stdout
    assert (tmp_path / ".ingest" / "app.db").exists()
    assert (tmp_path / ".ingest" / "dagster_home" / "dagster.yaml").exists()

    second = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert second.returncode == 0, second.stderr
    # Two mail integrations, the address book, the calendar and the prompt set: nothing new.
    assert second.stdout.count("Nothing changed") == 5
    assert "contacts created" in first.stdout and "calendar events" in first.stdout
    progress = [line for line in second.stdout.splitlines() if "  ok   run " in line]
    ingest = [line for line in progress if "derived:" not in line]
    assert len(ingest) == 7 + 7 + 1 + 7 + 2
    assert all(line.endswith("inserted 0, extraction calls 0") for line in ingest)
    # Each mail day's derived assets are computed again, and change nothing either.
    derived = [line for line in progress if "derived:" in line]
    assert len(derived) == 7 + 7 + 7 + 2  # both mailboxes, the calendar, the prompts' 2 days
    assert all(line.endswith("derived: 0 rows inserted, 0 updated") for line in derived)
    assert "== derived from mail ==" in first.stdout and "contacts seen in mail" in first.stdout
    assert "Top matches (embeddings: offline-lexical" in first.stdout
    mentioned = first.stdout.split("Most mentioned entities")[1].split("\n\n")[0]
    assert "HubSpot" in mentioned and "offline-rules-1" in mentioned

    # What the demo embedded answers search and matching from the command line.
    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "ingest_pipeline.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    found = cli("search", "Java Spring Boot Kafka developer", "--kind", "job_posting")
    assert "job_posting" in found.splitlines()[2] and "Java" in found.splitlines()[2]
    ranked = cli("match", "--posting", "1", "--limit", "3")
    assert "why: shared skills" in ranked and len(ranked.splitlines()) == 2 + 3
    # Neha's recruiting mail and her meeting with Morgan, on one timeline.
    timeline = cli("timeline", "--contact", "Neha.Sharma@apextalent.example.com")
    assert timeline.startswith("timeline of ")
    assert "email in" in timeline and "meeting" in timeline
    assert "next: " in timeline and "(insight by offline-rules-1)" in timeline
