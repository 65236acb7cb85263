"""Every message of the shared real-world corpus goes through a full partition run."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from ingest_pipeline_tests.pipeline_runner import ledger_rows, register_mailbox, run_days

DAY = dt.date(2026, 11, 3)


def corpus_messages(corpus: Path) -> list[Path]:
    """Every single-message file of the corpus (mbox files are read by the mbox test)."""
    found = []
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.name in {"README.md", ".gitattributes"}:
            continue
        if path.suffix.lower() in {".eml", ".msg", ".txt", ""} or "emails" in path.parts:
            head = path.read_bytes()[:5]
            if head == b"From ":
                continue
            found.append(path)
    return found


def as_eml_folder(paths: list[Path], folder: Path, day: dt.date) -> None:
    """Copy messages into a folder of .eml files received on ``day`` (file mtime)."""
    folder.mkdir()
    stamp = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).timestamp()
    for n, path in enumerate(paths):
        target = folder / f"{n:04d}-{path.stem[:40]}.eml"
        shutil.copyfile(path, target)
        os.utime(target, (stamp, stamp))


@pytest.mark.slow
def test_every_corpus_message_is_accounted_for(
    corpus: Path, sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    messages = [p for p in corpus_messages(corpus) if p.suffix.lower() in {".eml", ".msg", ""}]
    assert len(messages) > 100
    folder = tmp_path / "corpus"
    as_eml_folder(messages, folder, DAY)
    key = register_mailbox(sqlite_url, folder)

    [outcome] = run_days(sqlite_url, dagster_instance, key, [DAY])

    assert outcome.success, outcome.error
    rows = ledger_rows(sqlite_url)
    assert len(rows) == len(messages)
    for row in rows:
        assert row["status"] in {"done", "skipped", "failed"}, row
        if row["status"] != "done":
            assert row["last_error"], row
    evaluations = [
        e
        for e in dagster_instance.all_logs(outcome.run_id)
        if e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert evaluations
    by_name = {
        e.dagster_event.event_specific_data.check_name: e.dagster_event.event_specific_data
        for e in evaluations
    }
    assert by_name["mail_items_accounted"].passed
    assert by_name["mail_no_duplicate_keys"].passed
