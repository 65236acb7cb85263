"""Finding ``.ics`` files and cutting their text into component blocks.

The block cutter works on raw text, without a parser, so that a file the iCalendar library
rejects as a whole can still be read one VEVENT at a time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r|$)")
# Line starts and ends written out: ``^``/``$`` only know LF, and files use CRLF or lone CR.
_VCALENDAR = re.compile(r"(?:^|(?<=[\r\n]))BEGIN:VCALENDAR[ \t]*(?=[\r\n]|\Z)", re.IGNORECASE)
_WR_TIMEZONE = re.compile(
    r"(?:^|(?<=[\r\n]))X-WR-TIMEZONE(?:;[^:\r\n]*)?:([^\r\n]+)", re.IGNORECASE
)
_UTF8_BOM = "\ufeff"


@dataclass(frozen=True)
class FileStamp:
    """What says a file changed: its size and modification time (nanoseconds)."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        stat = path.stat()
        return cls(size=stat.st_size, mtime_ns=stat.st_mtime_ns)

    @property
    def modified_at(self) -> dt.datetime:
        """The modification time in UTC: the day a broken event of this file is listed on."""
        return dt.datetime.fromtimestamp(self.mtime_ns / 1e9, tz=dt.UTC)


def calendar_files(root: Path) -> list[Path]:
    """``root`` itself when it is a file, else every ``*.ics`` below it (any case), sorted."""
    if root.is_file():
        return [root]
    found = (p for p in root.rglob("*") if p.suffix.lower() == ".ics" and p.is_file())
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def decode_calendar(data: bytes) -> tuple[str, tuple[str, ...]]:
    """The file's text, and a defect when it was not UTF-8 (then it is read as Latin-1)."""
    defects: tuple[str, ...] = ()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("latin-1")
        defects = (f"the file is not UTF-8 ({exc.reason} at byte {exc.start}); read as Latin-1",)
    return text.removeprefix(_UTF8_BOM), defects


def has_vcalendar(text: str) -> bool:
    """Whether the text holds at least one ``BEGIN:VCALENDAR`` line."""
    return _VCALENDAR.search(text) is not None


def wr_timezone(text: str) -> str | None:
    """The calendar's ``X-WR-TIMEZONE`` (Google exports), read from the raw text."""
    match = _WR_TIMEZONE.search(text)
    return match.group(1).strip() if match else None


def _lines(text: str) -> list[str]:
    """Lines with their endings; a lone CR, LF or CRLF ends a line (not form feeds)."""
    return [m.group(0) for m in _LINE.finditer(text) if m.group(0)]


def component_blocks(text: str, name: str) -> list[str]:
    """The text of every ``BEGIN:<name>`` ... ``END:<name>`` block, in file order.

    A block that never ends stops where the next one begins or where its calendar ends, so
    one unterminated event does not swallow the events after it.
    """
    begin, end = f"BEGIN:{name}".upper(), f"END:{name}".upper()
    blocks: list[str] = []
    current: list[str] | None = None
    for line in _lines(text):
        # Leading white space marks a folded continuation line, never a BEGIN or END.
        word = line.rstrip().upper()
        if word == begin:
            if current:
                blocks.append("".join(current))
            current = [line]
        elif current is not None:
            if word == "END:VCALENDAR":
                blocks.append("".join(current))
                current = None
                continue
            current.append(line)
            if word == end:
                blocks.append("".join(current))
                current = None
    if current:
        blocks.append("".join(current))
    return [_with_final_newline(block) for block in blocks]


def _with_final_newline(block: str) -> str:
    return block if block.endswith(("\n", "\r")) else block + "\r\n"


def insert_after_first_line(block: str, line: str) -> str:
    """``block`` with ``line`` (a content line without its ending) after its first line."""
    first = _LINE.match(block)
    cut = first.end() if first else 0
    return block[:cut] + line + "\r\n" + block[cut:]
