"""Split an mbox file into messages without loading it into memory.

Why not `mailbox.mbox`: it drops everything before the first line that starts with
``From `` (a file that begins with a byte-order mark loses its first message), and it splits
inside a body at an unescaped ``From `` line even when a ``Content-Length`` header says
where the message ends. This reader honours ``Content-Length`` when it lands exactly on the
next separator (mboxcl), and otherwise splits at ``From `` lines that open the file or follow
a blank line (mboxo/mboxrd).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BOM = b"\xef\xbb\xbf"
_CONTENT_LENGTH = re.compile(
    rb"^Content-Length:[ \t]*(\d+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class MboxSpan:
    """One message: its ``From `` line (without ``From ``) and the byte range of the message."""

    from_line: str
    start: int
    end: int


def from_line_time(from_line: str) -> dt.datetime | None:
    """The receipt time of an mbox ``From `` line body (``sender asctime``, taken as UTC)."""
    parts = from_line.split(None, 1)
    if len(parts) < 2:
        return None
    tail = " ".join(parts[1].split())
    for fmt in ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S %z %Y", "%a %b %d %H:%M %Y"):
        try:
            parsed = dt.datetime.strptime(tail, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    parsed_rfc = email.utils.parsedate_tz(tail)
    if parsed_rfc:
        return dt.datetime.fromtimestamp(email.utils.mktime_tz(parsed_rfc), tz=dt.UTC)
    return None


def _content_length_end(data: mmap.mmap | bytes, start: int) -> int | None:
    """The message end a Content-Length header gives, if it lands on a separator or EOF."""
    header_end = _HEADER_END.search(data, start, min(len(data), start + 262_144))
    if header_end is None:
        return None
    length = _CONTENT_LENGTH.search(data, start, header_end.start())
    if length is None:
        return None
    end = header_end.end() + int(length.group(1))
    if end == len(data):
        return end
    if end > len(data):
        return None
    rest = data[end : end + 7]
    for gap in (b"\nFrom ", b"\r\nFrom", b"From "):
        if rest.startswith(gap):
            return end
    return None


def is_separator(from_line: str) -> bool:
    """Whether a ``From `` line (text after ``From ``) separates messages: it carries a
    receipt date, or only a sender (``From -``, ``From 1844347792267117879@xxx``). A body
    line such as ``From Russia with love`` that a writer failed to escape does not."""
    rest = from_line.strip()
    return len(rest.split()) <= 1 or rest.startswith("- ") or from_line_time(from_line) is not None


def _next_separator(data: mmap.mmap | bytes, position: int) -> tuple[int, int] | None:
    """(offset of the next separating ``From `` line, offset just past its line break)."""
    while True:
        found = data.find(b"\nFrom ", position)
        if found < 0:
            return None
        line_start = found + 1
        line_end = data.find(b"\n", line_start)
        line_end = len(data) if line_end < 0 else line_end
        text = data[line_start + 5 : line_end].rstrip(b"\r").decode("latin-1")
        if is_separator(text):
            return line_start, line_end + 1
        position = line_end


def scan_mbox(path: Path) -> Iterator[MboxSpan]:
    """Yield every message of the mbox at ``path`` in file order."""
    if path.stat().st_size == 0:
        return
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        position = len(BOM) if data[: len(BOM)] == BOM else 0
        if data[position : position + 5] != b"From ":
            return
        while position < len(data):
            line_end = data.find(b"\n", position)
            if line_end < 0:
                return
            from_line = data[position + 5 : line_end].rstrip(b"\r").decode("latin-1")
            start = line_end + 1
            end = _content_length_end(data, start)
            following = _next_separator(data, (end or start) - 1)
            if end is None:
                end = following[0] if following else len(data)
                end = _strip_separator_gap(data, start, end)
            yield MboxSpan(from_line=from_line, start=start, end=end)
            position = following[0] if following else len(data)


def _strip_separator_gap(data: mmap.mmap | bytes, start: int, end: int) -> int:
    """Leave out the one blank line mbox writers put before the next ``From `` line."""
    for gap in (b"\r\n\r\n", b"\n\n"):
        if end - start >= len(gap) and data[end - len(gap) : end] == gap:
            return end - len(gap) // 2
    return end


def read_span(path: Path, span_start: int, span_end: int) -> bytes:
    """The bytes of one message."""
    with path.open("rb") as handle:
        handle.seek(span_start)
        return handle.read(span_end - span_start)
