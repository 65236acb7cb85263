"""MailboxSource on an mbox, a Maildir and a folder of .eml files built in tmp_path."""

from __future__ import annotations

import datetime as dt
import mailbox
import os
from pathlib import Path

import pytest

from ingest_pipeline.domain import FetchError, ItemRef, RawItem, Window
from ingest_pipeline.sources.base import SourceError
from ingest_pipeline.sources.mailbox import mailbox_source
from ingest_pipeline.sources.mailbox.mailbox_source import MailboxSource

NOV2 = dt.date(2026, 11, 2)
NOV3 = dt.date(2026, 11, 3)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, sec, tzinfo=dt.UTC)


def message(n: int, date: str = "Mon, 02 Nov 2026 12:00:00 +0000") -> bytes:
    return (
        f"From: sender{n}@example.com\nTo: me@example.com\nSubject: message {n}\n"
        f"Date: {date}\nMessage-ID: <{n}@example.com>\n\nbody of message {n}\n"
    ).encode()


def write_mbox(path: Path, entries: list[tuple[dt.datetime, bytes]]) -> Path:
    """An mbox whose ``From `` lines carry the given receipt times (asctime, UTC)."""
    chunks = []
    for when, data in entries:
        stamp = f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}"
        chunks.append(f"From sender {stamp}\n".encode() + data + b"\n")
    path.write_bytes(b"".join(chunks))
    return path


def listed(source: MailboxSource, day: dt.date) -> list[ItemRef]:
    return [ref for page in source.enumerate(Window.for_day(day), None) for ref in page.items]


def by_id(source: MailboxSource, refs: list[ItemRef]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for item in source.fetch(refs):
        assert isinstance(item, RawItem), item
        out[item.external_id] = item.data
    return out


def make_maildir(root: Path) -> tuple[Path, dict[str, tuple[dt.datetime, bytes]]]:
    """cur/ and new/ files named with a delivery epoch, plus one name without a timestamp."""
    mailbox.Maildir(root, create=True)
    decoy = utc(2020, 1, 1, 12).timestamp()  # mtimes that must lose to the name's epoch
    cur_at, new_at, mtime_at = utc(2026, 11, 2, 9), utc(2026, 11, 3, 0, 0, 5), utc(2026, 11, 2, 22)
    files = {
        f"cur/{int(cur_at.timestamp())}.M1P1.host:2,S": (cur_at, message(1), decoy),
        f"new/{int(new_at.timestamp())}.M2P1.host": (new_at, message(2), decoy),
        "cur/nostamp.M3P1.host:2,RS": (mtime_at, message(3), mtime_at.timestamp()),
    }
    expected: dict[str, tuple[dt.datetime, bytes]] = {}
    for rel, (when, data, mtime) in files.items():
        (root / rel).write_bytes(data)
        os.utime(root / rel, (mtime, mtime))
        expected[rel.split("/", 1)[1].split(":2,")[0]] = (when, data)
    return root, expected


def make_eml_folder(root: Path) -> tuple[Path, dict[str, tuple[dt.datetime, bytes]]]:
    files = {
        "a.eml": (utc(2026, 11, 2, 0, 0, 0), message(1)),
        "sub/b.eml": (utc(2026, 11, 2, 23, 59, 59), message(2)),
        "sub/deeper/c.eml": (utc(2026, 11, 3, 8), message(3)),
    }
    for rel, (when, data) in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        os.utime(root / rel, (when.timestamp(), when.timestamp()))
    (root / "notes.txt").write_text("not a message")
    return root, files


def test_mbox_windows_on_the_from_line_not_the_date_header(tmp_path: Path) -> None:
    garbage = message(1, date="not a date")
    old = message(2, date="Tue, 05 Mar 2019 10:00:00 +0000")
    other_day = message(3)
    source = MailboxSource(
        write_mbox(
            tmp_path / "in.mbox",
            [
                (utc(2026, 11, 2, 8, 15), garbage),
                (utc(2026, 11, 2, 17), old),
                (utc(2026, 11, 3, 9), other_day),
            ],
        )
    )
    nov2 = listed(source, NOV2)
    assert [r.received_at for r in nov2] == [utc(2026, 11, 2, 8, 15), utc(2026, 11, 2, 17)]
    assert len({r.external_id for r in nov2}) == 2
    assert listed(source, dt.date(2019, 3, 5)) == []
    assert len(listed(source, NOV3)) == 1


def test_mbox_seconds_around_midnight_land_in_different_days(tmp_path: Path) -> None:
    source = MailboxSource(
        write_mbox(
            tmp_path / "in.mbox",
            [
                (utc(2026, 11, 2, 23, 59, 30), message(1)),
                (utc(2026, 11, 3, 0, 0, 10), message(2)),
            ],
        )
    )
    late, early = listed(source, NOV2), listed(source, NOV3)
    assert [r.received_at for r in late] == [utc(2026, 11, 2, 23, 59, 30)]
    assert [r.received_at for r in early] == [utc(2026, 11, 3, 0, 0, 10)]
    assert source.receipt_days() == [NOV2, NOV3]


def test_every_mbox_message_lands_in_exactly_one_day(tmp_path: Path) -> None:
    start = utc(2026, 10, 30, 0, 0, 0)
    moments = [start + dt.timedelta(hours=7 * i, seconds=i) for i in range(20)]
    moments += [utc(2026, 11, 1, 0, 0, 0), utc(2026, 10, 31, 23, 59, 59)]
    source = MailboxSource(
        write_mbox(tmp_path / "in.mbox", [(when, message(i)) for i, when in enumerate(moments)])
    )
    days = source.receipt_days()
    assert days == sorted({m.date() for m in moments})
    seen: list[str] = []
    for offset in range(-1, (days[-1] - days[0]).days + 2):
        day = days[0] + dt.timedelta(days=offset)
        refs = listed(source, day)
        assert all(r.received_at is not None and r.received_at.date() == day for r in refs)
        seen += [r.external_id for r in refs]
    assert len(seen) == len(moments)
    assert len(set(seen)) == len(moments)


def test_byte_identical_messages_share_an_external_id(tmp_path: Path) -> None:
    same = message(7)
    first = MailboxSource(write_mbox(tmp_path / "a.mbox", [(utc(2026, 11, 2, 1), same)]))
    second = MailboxSource(
        write_mbox(
            tmp_path / "b.mbox",
            [
                (utc(2026, 11, 2, 5), same),
                (utc(2026, 11, 2, 6), message(8)),
            ],
        )
    )
    [ref_a] = listed(first, NOV2)
    refs_b = listed(second, NOV2)
    assert ref_a.external_id == refs_b[0].external_id
    assert refs_b[1].external_id != ref_a.external_id


def test_maildir_windows_on_the_file_name_epoch_else_the_mtime(tmp_path: Path) -> None:
    root, expected = make_maildir(tmp_path / "Maildir")
    source = MailboxSource(root)
    refs = listed(source, NOV2) + listed(source, NOV3)
    assert {r.external_id: r.received_at for r in refs} == {k: v[0] for k, v in expected.items()}
    assert listed(source, dt.date(2020, 1, 1)) == []
    assert source.receipt_days() == [NOV2, NOV3]


def test_eml_folder_windows_on_mtime_including_subfolders(tmp_path: Path) -> None:
    root, files = make_eml_folder(tmp_path / "emls")
    source = MailboxSource(root)
    nov2, nov3 = listed(source, NOV2), listed(source, NOV3)
    assert sorted(by_id(source, nov2).values()) == sorted(
        [files["a.eml"][1], files["sub/b.eml"][1]]
    )
    assert list(by_id(source, nov3).values()) == [files["sub/deeper/c.eml"][1]]
    assert [r.received_at for r in nov2] == [files["a.eml"][0], files["sub/b.eml"][0]]


def test_pages_resume_exactly_after_the_cursor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mailbox_source, "PAGE_SIZE", 3)
    root = tmp_path / "emls"
    root.mkdir()
    for i in range(8):
        (root / f"{i}.eml").write_bytes(message(i))
        stamp = utc(2026, 11, 2, 10, 0, 8 - i).timestamp()  # listing order differs from name order
        os.utime(root / f"{i}.eml", (stamp, stamp))
    window = Window.for_day(NOV2)
    pages = list(MailboxSource(root).enumerate(window, None))
    assert [len(p.items) for p in pages] == [3, 3, 2]
    everything = [r.external_id for p in pages for r in p.items]
    assert sorted(everything) == sorted(f"{i}.eml" for i in range(8))
    for n, page in enumerate(pages):
        rest = [
            r.external_id
            for p in MailboxSource(root).enumerate(window, page.cursor)
            for r in p.items
        ]
        assert rest == everything[3 * (n + 1) :]


@pytest.mark.parametrize("layout", ["mbox", "maildir", "eml"])
def test_fetch_returns_the_exact_bytes(tmp_path: Path, layout: str) -> None:
    if layout == "mbox":
        data = [message(1), message(2, date="garbage"), message(3)]
        path = write_mbox(
            tmp_path / "in.mbox",
            [(utc(2026, 11, 2, h), d) for h, d in zip((1, 2, 3), data, strict=True)],
        )
        expected = sorted(data)
    elif layout == "maildir":
        path, found = make_maildir(tmp_path / "Maildir")
        expected = sorted(d for _, d in found.values())
    else:
        path, files = make_eml_folder(tmp_path / "emls")
        expected = sorted(d for _, d in files.values())
    source = MailboxSource(path)
    refs = [r for day in source.receipt_days() for r in listed(source, day)]
    fetched = list(source.fetch(refs))
    assert all(isinstance(item, RawItem) for item in fetched)
    assert sorted(item.data for item in fetched if isinstance(item, RawItem)) == expected
    assert {item.external_id for item in fetched} == {r.external_id for r in refs}


@pytest.mark.parametrize("layout", ["mbox", "maildir", "eml"])
def test_fetch_of_an_unknown_id_is_a_fetch_error(tmp_path: Path, layout: str) -> None:
    if layout == "mbox":
        path = write_mbox(tmp_path / "in.mbox", [(utc(2026, 11, 2, 1), message(1))])
    elif layout == "maildir":
        path = make_maildir(tmp_path / "Maildir")[0]
    else:
        path = make_eml_folder(tmp_path / "emls")[0]
    [error] = list(MailboxSource(path).fetch([ItemRef(external_id="gone-123")]))
    assert isinstance(error, FetchError)
    assert error.external_id == "gone-123"
    assert "no longer in the mailbox" in error.reason
    assert not error.retryable


def test_check_accepts_each_layout(tmp_path: Path) -> None:
    MailboxSource(write_mbox(tmp_path / "in.mbox", [(utc(2026, 11, 2, 1), message(1))])).check()
    MailboxSource(make_maildir(tmp_path / "Maildir")[0]).check()
    MailboxSource(make_eml_folder(tmp_path / "emls")[0]).check()


def test_check_names_a_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "mail.mbox"
    with pytest.raises(SourceError, match="does not exist") as caught:
        MailboxSource(missing).check()
    assert str(missing) in str(caught.value)
    with pytest.raises(SourceError):
        list(MailboxSource(missing).enumerate(Window.for_day(NOV2), None))


def test_check_rejects_a_file_that_is_not_an_mbox(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Dear diary,\nnothing happened today.\n")
    with pytest.raises(SourceError, match="not an mbox") as caught:
        MailboxSource(path).check()
    assert str(path) in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_check_rejects_an_unreadable_mbox(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "in.mbox", [(utc(2026, 11, 2, 1), message(1))])
    path.chmod(0)
    try:
        with pytest.raises(SourceError, match=r"not readable|cannot read") as caught:
            MailboxSource(path).check()
        assert str(path) in str(caught.value)
    finally:
        path.chmod(0o600)
