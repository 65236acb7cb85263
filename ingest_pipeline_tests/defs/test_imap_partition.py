"""IMAP mail through the Dagster job against a real Dovecot: the sample week loaded with
its receipt times imports with the mailbox provider's accounting, changes on the server show
in the next run without duplicates, and a server restarted in the middle of a run loses
nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
from imapclient.exceptions import IMAPClientError

from ingest_pipeline.cli import main
from ingest_pipeline.domain import ItemRef, RawItem
from ingest_pipeline.extraction.offline_extractor import OfflineExtractor
from ingest_pipeline.sources.base import closing
from ingest_pipeline.sources.imap.imap_source import parse_key
from ingest_pipeline.sources.mailbox.mailbox_source import MailboxSource
from ingest_pipeline.steps.integration_source import open_source
from ingest_pipeline.steps.partition_runner import run_partition
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.corpus_files import mbox_files, single_message_files
from ingest_pipeline_tests.defs.test_corpus_partition import as_eml_folder
from ingest_pipeline_tests.dovecot_server import HOST, DovecotServer
from ingest_pipeline_tests.gmail_fixtures import credentials_key
from ingest_pipeline_tests.imap_fixtures import (
    PASSWORD,
    USER,
    append,
    client,
    expunge,
    imap_sample,
    imap_server,
    load_mbox,
    register_imap,
)
from ingest_pipeline_tests.pipeline_runner import (
    count_rows,
    ledger_rows,
    register_mailbox,
    run_days,
)

__all__ = ["credentials_key", "imap_sample", "imap_server"]  # fixtures, imported for pytest

DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(7)]


def noon_on(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@pytest.mark.slow
def test_the_sample_week_on_dovecot_imports_every_message_once(
    db_url: str,
    dagster_instance: dg.DagsterInstance,
    imap_sample: DovecotServer,
    credentials_key: str,
) -> None:
    key = register_imap(db_url, imap_sample, credentials_key)

    outcomes = run_days(db_url, dagster_instance, key, DAYS)

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    rows = ledger_rows(db_url)
    assert len(rows) == 62  # as the mailbox provider lists the same mbox
    assert {r["status"] for r in rows} <= {"done", "skipped"}
    assert count_rows(db_url, "select count(*) from messages") == 60  # two duplicate deliveries
    assert all(parse_key(r["external_id"])[0] == "INBOX" for r in rows)

    again = run_days(db_url, dagster_instance, key, DAYS)
    assert sum(o.metrics["inserted"] + o.metrics["extraction_calls"] for o in again) == 0


def test_a_new_and_a_deleted_message_show_in_the_next_run_without_duplicates(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    imap_sample: DovecotServer,
    credentials_key: str,
) -> None:
    key = register_imap(sqlite_url, imap_sample, credentials_key)
    [first] = run_days(sqlite_url, dagster_instance, key, [DAYS[1]])
    messages = count_rows(sqlite_url, "select count(*) from messages")
    listed = [r for r in ledger_rows(sqlite_url) if str(r["partition_day"]) == str(DAYS[1])]

    new = (
        b"From: Neha <neha@example.test>\r\nTo: ann@example.test\r\n"
        b"Subject: Java developer, Dallas\r\nMessage-ID: <new-role@example.test>\r\n\r\n"
        b"We are hiring a Java developer in Dallas.\r\n"
    )
    append(imap_sample, new, dt.datetime(2026, 11, 3, 15, 0, tzinfo=dt.UTC))
    expunge(imap_sample, parse_key(listed[0]["external_id"])[2])
    [second] = run_days(sqlite_url, dagster_instance, key, [DAYS[1]])
    [third] = run_days(sqlite_url, dagster_instance, key, [DAYS[1]])

    assert first.success and second.success and third.success
    assert second.metrics["enumerated"] == len(listed)  # one gone, one new
    assert count_rows(sqlite_url, "select count(*) from messages") == messages + 1
    assert third.metrics["inserted"] == 0 and third.metrics["fetched"] == 0


def test_a_dovecot_restarted_mid_run_ends_with_every_message_once(
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    imap_server: DovecotServer,
    credentials_key: str,
) -> None:
    load_mbox(imap_server, SAMPLE_MBOX)
    key = register_imap(sqlite_url, imap_server, credentials_key)

    def restart_once_fetching_began() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(r["step"] != "none" for r in ledger_rows(sqlite_url)):
                break  # the first messages are fetched
            time.sleep(0.01)
        imap_server.stop()
        time.sleep(4.0)  # the next steps find it down: connections refused, then retried
        imap_server.start()

    restarter = threading.Thread(target=restart_once_fetching_began)
    restarter.start()
    during = run_days(sqlite_url, dagster_instance, key, DAYS)
    restarter.join()
    after = run_days(sqlite_url, dagster_instance, key, DAYS)

    assert all(o.success for o in after), [o.error for o in after]
    rows = ledger_rows(sqlite_url)
    assert len(rows) == 62 and {r["status"] for r in rows} <= {"done", "skipped"}
    assert count_rows(sqlite_url, "select count(*) from messages") == 60
    assert not restarter.is_alive()
    # The outage was felt: a step retried, a batch was left for later, or a run failed.
    retried = [
        o
        for o in during
        if not o.success
        or o.metrics.get("fetch_retry_later")
        or any(
            e.dagster_event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY
            for e in dagster_instance.all_logs(o.run_id)
        )
    ]
    assert retried, [o.metrics for o in during]


def test_cli_adds_imap_after_logging_in_and_stores_no_plain_password(
    imap_sample: DovecotServer,
    credentials_key: str,
    cli_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BAD_IMAP_PASSWORD", "wrong")
    monkeypatch.setenv("IMAP_PASSWORD", PASSWORD)
    base = ["integrations", "add", "--provider", "imap", "--host", HOST, "--user", USER]
    base += ["--port", str(imap_sample.tls_port), "--ca-file", str(imap_sample.ca_file)]

    assert main([*base, "--password-env", "BAD_IMAP_PASSWORD"]) == 2
    assert "refused the login of ann@example.test" in capsys.readouterr().err
    assert main([*base, "--password-env", "IMAP_PASSWORD", "--folder", "Nope"]) == 2
    assert "no folder 'Nope'" in capsys.readouterr().err
    assert main(base) == 2
    assert "--password-env VAR or --oauth2-token-env VAR" in capsys.readouterr().err

    assert main([*base, "--password-env", "IMAP_PASSWORD"]) == 0
    key = capsys.readouterr().out.strip()
    assert key == "imap-1"
    stored = (cli_home / "app.db").read_bytes()
    assert PASSWORD.encode() not in stored
    assert main(["run", "--integration", key, "--date", "2026-11-03"]) == 0
    assert "inserted" in capsys.readouterr().out


@pytest.mark.slow
def test_the_corpus_on_dovecot_is_accounted_for_like_the_mailbox_provider(
    corpus: Path,
    make_db: Callable[[str], str],
    dagster_instance: dg.DagsterInstance,
    imap_server: DovecotServer,
    credentials_key: str,
    tmp_path: Path,
) -> None:
    """The real-world single-message files APPENDed with one receipt day: what the server
    takes (it refuses a zero-byte message) ends done, skipped or failed with a reason, with
    the same tally as the same files read from a folder by the mailbox provider."""
    day = DAYS[1]
    accepted = []
    imap = client(imap_server)
    for path in single_message_files():
        try:
            imap.append("INBOX", path.read_bytes(), msg_time=noon_on(day))
        except IMAPClientError as refused:
            assert path.stat().st_size == 0, (path, refused)
            continue
        accepted.append(path)
    imap.logout()
    assert len(accepted) == 151
    over_imap, from_files = make_db("sqlite"), make_db("sqlite")
    imap_key = register_imap(over_imap, imap_server, credentials_key)
    folder = tmp_path / "corpus"
    as_eml_folder(accepted, folder, day)
    mailbox_key = register_mailbox(from_files, folder)

    [imported] = run_days(over_imap, dagster_instance, imap_key, [day])
    [read] = run_days(from_files, dagster_instance, mailbox_key, [day])

    assert imported.success and read.success, (imported.error, read.error)
    rows = ledger_rows(over_imap)
    assert len(rows) == len(accepted)
    assert all(r["status"] == "done" or r["last_error"] for r in rows)
    tally = Counter(r["status"] for r in rows)
    assert tally == Counter(r["status"] for r in ledger_rows(from_files))


@pytest.mark.slow
def test_the_corpus_mbox_files_on_dovecot_are_accounted_for_like_the_mailbox_provider(
    corpus: Path,
    make_db: Callable[[str], str],
    imap_server: DovecotServer,
    credentials_key: str,
) -> None:
    """The four real-world mbox files, each APPENDed into a folder of its own with the
    receipt times the mailbox provider gives its messages (the ``From `` line's, else the
    fallbacks it documents): every receipt day of each, run over IMAP and from the file,
    ends with the same done/skipped/failed tally, and every item with a reason."""
    over_imap, from_files = make_db("sqlite"), make_db("sqlite")
    imap = client(imap_server)
    plans: list[tuple[str, str, list[dt.date]]] = []
    for mbox in mbox_files():
        folder = mbox.name.split(".")[0]
        imap.create_folder(folder)
        source = MailboxSource(mbox)
        entries = list(source._index().values())
        refs = [ItemRef(e.external_id, received_at=e.received_at) for e in entries]
        for entry, item in zip(entries, source.fetch(refs), strict=True):
            assert isinstance(item, RawItem), item
            imap.append(folder, item.data, msg_time=entry.received_at)
        imap_key = register_imap(over_imap, imap_server, credentials_key, folders=[folder])
        plans.append((imap_key, over_imap, source.receipt_days()))
        plans.append((register_mailbox(from_files, mbox), from_files, source.receipt_days()))
    imap.logout()

    for key, db, days in plans:
        with session_scope(db) as session:
            info = IntegrationInfo.of(find_integration(session, key))
        for day in days:
            ctx = StepContext(db, info, PartitionKey(info.id, day, "mail"), uuid.uuid4().hex)
            with closing(open_source(ctx, credentials_key=credentials_key)) as source:
                run_partition(ctx, source, extractor=OfflineExtractor())

    rows = ledger_rows(over_imap)
    assert len(rows) == 38  # 29 + 4 + 3 + 2 messages
    assert all(r["status"] == "done" or r["last_error"] for r in rows)
    assert Counter(r["status"] for r in rows) == Counter(
        r["status"] for r in ledger_rows(from_files)
    )
