"""Every message of the shared real-world corpus goes through full partition runs: each ends
done, skipped or failed with a reason, the runs succeed, and nothing raises out of the parser."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from ingest_pipeline.sources.mailbox.mailbox_source import MailboxSource
from ingest_pipeline_tests.corpus_files import mbox_files, single_message_files
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    ledger_rows,
    register_mailbox,
    run_days,
)

DAY = dt.date(2026, 11, 3)


def as_eml_folder(paths: list[Path], folder: Path, day: dt.date) -> None:
    """Copy messages into a folder of .eml files received on ``day`` (their mtime)."""
    folder.mkdir()
    stamp = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).timestamp()
    for n, path in enumerate(paths):
        target = folder / f"{n:04d}-{path.stem[:40]}.eml"
        shutil.copyfile(path, target)
        os.utime(target, (stamp, stamp))


def assert_accounted(db_url: str, expected: int) -> None:
    rows = ledger_rows(db_url)
    assert len(rows) == expected
    for row in rows:
        assert row["status"] in {"done", "skipped", "failed"}, row
        if row["status"] != "done":
            assert row["last_error"], row


@pytest.mark.slow
def test_every_single_message_file_is_accounted_for(
    corpus: Path, sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    messages = single_message_files()
    assert len(messages) == 152
    folder = tmp_path / "corpus"
    as_eml_folder(messages, folder, DAY)
    key = register_mailbox(sqlite_url, folder)

    [outcome] = run_days(sqlite_url, dagster_instance, key, [DAY])

    assert outcome.success, outcome.error
    assert_accounted(sqlite_url, len(messages))
    checks = check_results(dagster_instance, outcome.run_id)
    assert checks["mail_items_accounted"] and checks["mail_counts_reconcile"]


@pytest.mark.slow
@pytest.mark.parametrize("mbox", mbox_files(), ids=lambda p: p.name)
def test_every_mbox_message_is_accounted_for(
    corpus: Path, mbox: Path, sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    source = MailboxSource(mbox)
    days = source.receipt_days()
    key = register_mailbox(sqlite_url, mbox)

    outcomes = run_days(sqlite_url, dagster_instance, key, days)

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    assert_accounted(sqlite_url, len({e.external_id for e in source._index().values()}))
    for outcome in outcomes:
        assert check_results(dagster_instance, outcome.run_id)["mail_items_accounted"]
