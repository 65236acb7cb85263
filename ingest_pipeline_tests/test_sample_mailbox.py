"""The bundled sample mailbox: its shape, its edge cases, and that the generator reproduces it.

``ingest_pipeline/sample_data/sample.mbox`` is written by ``scripts/make_sample_mailbox.py``.
Message-IDs carry the kind as a prefix (``req``, ``app``, ``news``, ``personal``, ``notif``,
``bad``), which is how these tests tell the kinds apart.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import email
import importlib.util
import io
import mailbox
import re
import sys
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "make_sample_mailbox.py"
SAMPLE = REPO_ROOT / "ingest_pipeline" / "sample_data" / "sample.mbox"

DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=i) for i in range(7)]
KIND_BY_PREFIX = {
    "req": "recruiter",
    "app": "application",
    "news": "newsletter",
    "personal": "personal",
    "notif": "notification",
    "bad": "malformed",
}
TRANSPORT_HEADERS = {b"return-path", b"delivered-to", b"received"}
FICTIONAL_DOMAINS = ("example.com", "example.org", "example.net")
PHONE = re.compile(r"\(?\b(\d{3})\)?[ .-](\d{3})-(\d{4})\b")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Entry:
    """One mbox entry: receipt time from the ``From `` line, raw bytes, parsed message."""

    received: dt.datetime
    raw: bytes
    msg: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.msg["Message-ID"]).strip()

    @property
    def kind(self) -> str:
        match = re.match(r"<([a-z]+)\d", self.message_id)
        assert match, self.message_id
        return KIND_BY_PREFIX[match.group(1)]

    @property
    def subject(self) -> str:
        return str(self.msg["Subject"] or "")


def parse_from_line(from_line: str) -> dt.datetime:
    """``sender Mon Nov  2 09:15:00 2026`` -> an aware UTC datetime."""
    stamp = " ".join(from_line.split()[-5:])
    return dt.datetime.strptime(stamp, "%a %b %d %H:%M:%S %Y").replace(tzinfo=dt.UTC)


def without_transport(raw: bytes) -> bytes:
    """The message as the sender sent it: drop the leading Return-Path/Delivered-To/Received."""
    lines = raw.splitlines(keepends=True)
    index = 0
    while index < len(lines) and (
        lines[index][:1] in (b" ", b"\t")
        or lines[index].split(b":", 1)[0].lower() in TRANSPORT_HEADERS
    ):
        index += 1
    return b"".join(lines[index:])


def header_date(msg: Message) -> dt.datetime | None:
    """The Date header as a datetime, or None when it cannot be parsed."""
    try:
        return parsedate_to_datetime(str(msg["Date"]))
    except (TypeError, ValueError):
        return None


def texts(msg: Message) -> Iterator[str]:
    """Every text/* leaf decoded, falling back to latin-1 for unknown charsets."""
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "us-ascii"
        try:
            yield payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            yield payload.decode("latin-1")


def attachments(msg: EmailMessage) -> list[EmailMessage]:
    """The attachment parts of ``msg`` (none for a single-part message)."""
    return list(msg.iter_attachments()) if msg.is_multipart() else []


def pdf_text(data: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> str:
    docx = pytest.importorskip("docx")
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    box = mailbox.mbox(SAMPLE, create=False)
    try:
        result = []
        for key in box.iterkeys():
            raw = box.get_bytes(key)
            msg = email.message_from_bytes(raw, policy=policy.default)
            assert isinstance(msg, EmailMessage)
            result.append(Entry(parse_from_line(box.get_message(key).get_from()), raw, msg))
        return result
    finally:
        box.close()


@pytest.fixture(scope="module")
def unique(entries: list[Entry]) -> list[Entry]:
    """One entry per Message-ID (the first delivery)."""
    seen: dict[str, Entry] = {}
    for entry in entries:
        seen.setdefault(entry.message_id, entry)
    return list(seen.values())


@pytest.fixture(scope="module")
def generator() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("make_sample_mailbox", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


# --------------------------------------------------------------------------------------
# Shape
# --------------------------------------------------------------------------------------


def test_at_least_60_messages_over_seven_consecutive_utc_days(entries: list[Entry]) -> None:
    assert len(entries) >= 60
    per_day = Counter(e.received.date() for e in entries)
    assert sorted(per_day) == DAYS
    assert all(count >= 5 for count in per_day.values()), per_day


def test_entries_are_in_receipt_order_with_day_edges(entries: list[Entry]) -> None:
    received = [e.received for e in entries]
    assert received == sorted(received)
    late = [r for r in received if r.time() >= dt.time(23, 50)]
    early = [r for r in received if r.time() < dt.time(0, 10)]
    assert len(late) >= 2 and len(early) >= 2, (late, early)


def test_every_kind_is_present(unique: list[Entry]) -> None:
    kinds = Counter(e.kind for e in unique)
    assert kinds["recruiter"] >= 20
    assert kinds["application"] >= 12
    assert kinds["newsletter"] >= 8
    assert kinds["personal"] >= 6
    assert kinds["notification"] >= 2
    assert kinds["malformed"] >= 4


# --------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------


def test_recruiter_emails_read_like_requirements(unique: list[Entry]) -> None:
    recruiters = [e for e in unique if e.kind == "recruiter"]
    subject = re.compile(r"^(Requirement|Urgent|Immediate need|Hiring|Need|Contract-to-hire)")
    for entry in recruiters:
        assert subject.match(entry.subject) or "Developer" in entry.subject, entry.subject
        body = "\n".join(texts(entry.msg))
        assert re.search(r"\$\d[\d,]*(-\d+)?(/hr| base)", body), entry.subject
    html_only = [e for e in recruiters if e.msg.get_content_type() == "text/html"]
    assert len(html_only) >= 5
    assert all('style="display:none' in "".join(texts(e.msg)) for e in html_only)
    alternative = [e for e in recruiters if e.msg.get_content_type() == "multipart/alternative"]
    assert len(alternative) >= 4
    for entry in alternative:
        assert [p.get_content_type() for p in entry.msg.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
    assert any(e.msg.get_content_type() == "text/plain" for e in recruiters)


def test_applications_carry_pdf_docx_or_pasted_resumes(unique: list[Entry]) -> None:
    formats: Counter[str] = Counter()
    for entry in (e for e in unique if e.kind == "application"):
        assert re.search(r"appl|resume", entry.subject, re.IGNORECASE), entry.subject
        files = attachments(entry.msg)
        if not files:
            body = "\n".join(texts(entry.msg))
            assert "RESUME" in body and "years of experience" in body
            formats["pasted"] += 1
            continue
        (resume,) = files
        data = resume.get_payload(decode=True)
        assert isinstance(data, bytes)
        if resume.get_content_type() == "application/pdf":
            assert data.startswith(b"%PDF-")
            text = pdf_text(data)
            formats["pdf"] += 1
        else:
            assert resume.get_content_type() == DOCX_MIME
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                assert {i.date_time for i in archive.infolist()} == {(2026, 10, 28, 12, 0, 0)}
            text = docx_text(data)
            formats["docx"] += 1
        assert "years of experience" in text
        assert "linkedin.com/in/" in text and "github.com/" in text
        assert PHONE.search(text) and "@example." in text
    assert formats["pdf"] >= 5 and formats["docx"] >= 5 and formats["pasted"] >= 2, formats


def test_newsletters_have_unsubscribe_links(unique: list[Entry]) -> None:
    newsletters = [e for e in unique if e.kind == "newsletter"]
    for entry in newsletters:
        assert "unsubscribe" in str(entry.msg["List-Unsubscribe"])
        html = entry.msg.get_body(preferencelist=("html",))
        assert html is not None and "Unsubscribe</a>" in html.get_content()


def test_notifications_include_a_calendar_invite_and_a_receipt(unique: list[Entry]) -> None:
    notifications = [e for e in unique if e.kind == "notification"]
    calendars = [
        part
        for e in notifications
        for part in e.msg.walk()
        if part.get_content_type() == "text/calendar"
    ]
    assert calendars and "METHOD:REQUEST" in calendars[0].get_content()
    assert any("receipt" in e.subject.lower() for e in notifications)


# --------------------------------------------------------------------------------------
# Duplicates and malformed messages
# --------------------------------------------------------------------------------------


def test_two_messages_are_delivered_twice(entries: list[Entry]) -> None:
    by_id: defaultdict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_id[entry.message_id].append(entry)
    duplicated = {mid: pair for mid, pair in by_id.items() if len(pair) > 1}
    assert len(duplicated) == 2, list(duplicated)
    same_day = different_days = 0
    for first, second in duplicated.values():
        assert without_transport(first.raw) == without_transport(second.raw)
        assert first.msg.get_all("Received") != second.msg.get_all("Received")
        if first.received.date() == second.received.date():
            assert second.received - first.received <= dt.timedelta(minutes=15)
            assert first.msg["Delivered-To"] != second.msg["Delivered-To"]
            assert first.kind == "recruiter"
            same_day += 1
        else:
            assert first.kind == "application"
            different_days += 1
    assert (same_day, different_days) == (1, 1)


def test_malformed_messages_are_present(unique: list[Entry]) -> None:
    bad = [e for e in unique if e.kind == "malformed"]

    garbage = [e for e in bad if str(e.msg["Date"]) == "not a date at all"]
    assert garbage and header_date(garbage[0].msg) is None

    def boundary_missing(entry: Entry) -> bool:
        boundary = entry.msg.get_boundary()
        body = without_transport(entry.raw)
        return boundary is not None and f"--{boundary}".encode() not in body

    assert any(e.msg.get_content_maintype() == "multipart" and boundary_missing(e) for e in bad)

    assert any(b"Subject: =?x-unknown?" in e.raw for e in bad)
    bogus = [p for e in bad for p in e.msg.walk() if p.get_content_charset() == "x-bogus"]
    assert bogus
    with pytest.raises(LookupError):
        codecs.lookup("x-bogus")

    def corrupt_base64(part: Message) -> bool:
        if part.get("Content-Transfer-Encoding", "").lower() != "base64":
            return False
        payload = "".join(str(part.get_payload()).split())
        try:
            base64.b64decode(payload, validate=True)
        except binascii.Error:
            return True
        return False

    assert any(corrupt_base64(p) for e in bad for p in e.msg.walk())


def test_one_date_header_disagrees_with_the_receipt_day(unique: list[Entry]) -> None:
    mismatched = [
        e
        for e in unique
        if (sent := header_date(e.msg)) is not None
        and abs(sent - e.received) > dt.timedelta(days=2)
    ]
    assert len(mismatched) == 1
    assert header_date(mismatched[0].msg).year == 2019  # type: ignore[union-attr]


def test_only_fictional_addresses_and_phone_numbers(entries: list[Entry]) -> None:
    for entry in entries:
        for name in ("From", "To", "Cc", "Reply-To", "Delivered-To", "Return-Path"):
            for _, address in getaddresses([str(v) for v in entry.msg.get_all(name, [])]):
                assert address.rsplit("@", 1)[-1].endswith(FICTIONAL_DOMAINS), address
        for text in texts(entry.msg):
            for match in PHONE.finditer(text):
                assert match.group(2) == "555" and match.group(3).startswith("01"), match[0]


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


def test_generator_is_deterministic(generator: ModuleType, tmp_path: Path) -> None:
    first, second = tmp_path / "a.mbox", tmp_path / "b.mbox"
    assert generator.main(["--out", str(first), "--quiet"]) == 0
    assert generator.main(["--out", str(second), "--quiet"]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_generator_reproduces_the_committed_mailbox(generator: ModuleType, tmp_path: Path) -> None:
    installed = generator.toolchain_versions()
    if installed != generator.BUILT_WITH:
        pytest.skip(
            f"sample.mbox was built with {generator.BUILT_WITH}, this environment has "
            f"{installed}; regenerate it and update BUILT_WITH"
        )
    out = tmp_path / "sample.mbox"
    assert generator.main(["--out", str(out), "--quiet"]) == 0
    assert out.read_bytes() == SAMPLE.read_bytes()
