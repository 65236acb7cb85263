"""The mbox reader keeps every message the file holds, where the stdlib's would lose or split."""

from __future__ import annotations

import datetime as dt
import mailbox
from pathlib import Path

from ingest_pipeline.sources.mailbox.mbox_reader import (
    BOM,
    from_line_time,
    is_separator,
    read_span,
    scan_mbox,
)
from ingest_pipeline_tests.conftest import SAMPLE_MBOX


def messages(path: Path) -> list[bytes]:
    return [read_span(path, s.start, s.end) for s in scan_mbox(path)]


def test_agrees_with_the_stdlib_on_a_well_formed_mbox() -> None:
    stdlib = mailbox.mbox(SAMPLE_MBOX)
    assert messages(SAMPLE_MBOX) == [stdlib.get_bytes(k) for k in stdlib.keys()]  # noqa: SIM118 (iterating a mailbox yields messages)


def test_byte_order_mark_does_not_lose_the_first_message(tmp_path: Path) -> None:
    path = tmp_path / "bom.mbox"
    path.write_bytes(
        BOM + b"From - Mon Nov  2 09:00:00 2026\nSubject: first\n\nhello\n\n"
        b"From - Mon Nov  2 10:00:00 2026\nSubject: second\n\nbye\n"
    )
    found = messages(path)
    assert [m.split(b"\n")[0] for m in found] == [b"Subject: first", b"Subject: second"]


def test_unescaped_from_in_a_body_does_not_split_the_message(tmp_path: Path) -> None:
    path = tmp_path / "unmunged.mbox"
    path.write_bytes(
        b"From a@example.com Mon Nov  2 09:00:00 2026\nSubject: bond\n\nMy favourite:\n\n"
        b"From Russia with love\n\nFrom b@example.com Mon Nov  2 10:00:00 2026\n"
        b"Subject: next\n\nbye\n"
    )
    found = messages(path)
    assert len(found) == 2
    assert b"From Russia with love" in found[0]


def test_content_length_says_where_a_message_ends(tmp_path: Path) -> None:
    body = b"line one\n\nFrom the desk of someone\nend\n"
    path = tmp_path / "cl.mbox"
    path.write_bytes(
        b"From - \nSubject: one\nContent-Length: "
        + str(len(body)).encode()
        + b"\n\n"
        + body
        + b"\nFrom - \nSubject: two\n\nsecond\n"
    )
    found = messages(path)
    assert len(found) == 2
    assert found[0].endswith(body)


def test_sender_only_from_lines_separate_messages() -> None:
    assert is_separator("1844347792267117879@xxx")
    assert is_separator("-")
    assert is_separator("MAILER-DAEMON Mon Nov  2 09:15:00 2026")
    assert not is_separator("Russia with love")


def test_from_line_time_reads_asctime_and_offsets() -> None:
    assert from_line_time("a@example.com Mon Nov  2 23:59:30 2026") == dt.datetime(
        2026, 11, 2, 23, 59, 30, tzinfo=dt.UTC
    )
    assert from_line_time("x Fri Sep 26 17:18:40 +0200 2025") == dt.datetime(
        2025, 9, 26, 15, 18, 40, tzinfo=dt.UTC
    )
    assert from_line_time("nobody garbage") is None


def test_empty_and_non_mbox_files_hold_no_messages(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    other = tmp_path / "notes.txt"
    other.write_bytes(b"just some notes\n")
    assert messages(empty) == []
    assert messages(other) == []
