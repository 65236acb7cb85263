"""`ingest-pipeline prompts add|list|disable|status` as a user types them, and a prompt
set's day run through Dagster from the command line (offline: no key)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest_pipeline.cli import main
from ingest_pipeline_tests.test_cli import workdir

__all__ = ["workdir"]  # the fixture, imported for pytest

CRM = "Which CRM should a startup pick: HubSpot, Salesforce or Pipedrive?"


def _lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip()]


def test_add_list_run_status_disable(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add = ["prompts", "add", "--set", "brands", "--model", "gpt-4o-mini", "--model"]
    assert main([*add, "gpt-4.1-mini", "--runs", "2", "--name", "crm", CRM]) == 0
    assert "prompt set brands (prompts-1): added prompt(s) 1" in capsys.readouterr().out
    assert main(["prompts", "add", "--set", "brands", "--model", "gpt-4o-mini", "Any ATS?"]) == 0
    capsys.readouterr()

    assert main(["prompts", "list", "--set", "brands"]) == 0
    listing = _lines(capsys.readouterr().out)
    assert listing[2].split()[:4] == ["1", "brands", "crm", "gpt-4o-mini,"]
    assert listing[3].split()[:3] == ["2", "brands", "p2"]

    assert main(["run", "--integration", "brands", "--date", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    total = next(line for line in out.splitlines() if line.startswith("2026-12-01  "))
    assert total.split()[1:6] == ["5", "5", "5", "5", "5"]  # 2 models × 2 runs + 1

    assert main(["prompts", "disable", "p2", "--set", "brands"]) == 0
    assert "prompt 2 (p2) disabled" in capsys.readouterr().out
    assert main(["prompts", "disable", "2"]) == 0
    assert "already disabled" in capsys.readouterr().out
    assert main(["run", "--integration", "brands", "--date", "2026-12-02"]) == 0
    capsys.readouterr()

    assert main(["prompts", "status", "--set", "brands"]) == 0
    rows = _lines(capsys.readouterr().out)
    assert rows[0].split() == [
        "batch", "set", "queued", "processing", "succeeded", "failed", "skipped", "total"
    ]  # fmt: skip
    assert rows[2].split() == ["2026-12-02", "brands", "0", "0", "4", "0", "0", "4"]
    assert rows[3].split() == ["2026-12-01", "brands", "0", "0", "5", "0", "0", "5"]

    assert main(["prompts", "status", "--day", "2026-12-01", "--prompt", "crm"]) == 0
    rows = _lines(capsys.readouterr().out)
    assert len(rows) == 3 and rows[2].split()[4] == "4"

    assert main(["prompts", "status", "--status", "succeeded", "--prompt", "p2"]) == 0
    out = capsys.readouterr().out
    assert "2026-12-01:p2:r1:gpt-4o-mini" in out and "2026-12-02:p2" not in out

    assert main(["prompts", "list"]) == 0
    assert "p2" not in capsys.readouterr().out, "disabled prompts are listed with --all only"
    assert main(["prompts", "list", "--all"]) == 0
    assert "disabled" in capsys.readouterr().out


def test_prompts_from_a_file_and_the_mistakes_a_user_makes(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = [
        {"name": "crm", "text": CRM, "models": ["gpt-4o-mini"], "runs_per_day": 3},
        {"name": "ats", "text": "Which ATS?", "models": ["gpt-4o"], "owner": "sam"},
    ]
    path = workdir / "prompts.json"
    path.write_text(json.dumps(prompts))
    assert main(["prompts", "add", "--set", "watch", "--from-file", str(path)]) == 0
    assert "added prompt(s) 1, 2" in capsys.readouterr().out

    mistakes = [
        (["prompts", "add", "--set", "watch", "--model", "gpt-9", "x"], "unknown model 'gpt-9'"),
        (["prompts", "add", "--set", "watch", "x"], "at least one model"),
        (["prompts", "add", "--set", "watch", "--model", "gpt-4o", "--runs", "0", "x"], "1 to"),
        (["prompts", "add", "--set", "watch", "--model", "gpt-4o", "--name", "crm", "x"], "has"),
        (["prompts", "add", "--set", "watch", "--from-file", str(path), "x"], "not both"),
        (["prompts", "disable", "nope"], "no prompt 'nope'"),
        (["prompts", "status", "--set", "nope"], "no prompt set named 'nope'"),
        (
            ["integrations", "add", "--provider", "prompts"],
            "prompts add --set NAME",
        ),
    ]  # fmt: skip
    for argv, message in mistakes:
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv
    assert main(["prompts", "status"]) == 0
    assert "no prompt runs match" in capsys.readouterr().out
