"""Split a vCard file into its cards, byte for byte, and read a card's UID cheaply.

Address books written by real programs are untidy: CRLF, LF or even CR CR LF line ends
(iOS), ``BEGIN:vCard`` in any case, a byte-order mark at the start of the file (or in the
middle, when two exports were concatenated), text between cards, folded lines, and vCard 2.1
``AGENT:`` properties that embed a whole ``BEGIN:VCARD``..``END:VCARD`` inside a card. Each
card comes back as the exact bytes of the file, so any change to a card changes its hash.

A ``BEGIN:VCARD`` inside a card that no ``AGENT`` property introduces means the card was
cut short: the card ends there (incomplete) and a new one begins, so one truncated card never
swallows the rest of the file. A card whose file ends before its ``END:VCARD`` runs to the end
of the file; the parser then rejects it with a reason instead of it vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r*\n|\r+")
_BEGIN = re.compile(rb"BEGIN[ \t]*:[ \t]*VCARD", re.IGNORECASE)
_END = re.compile(rb"END[ \t]*:[ \t]*VCARD", re.IGNORECASE)
_AGENT = re.compile(
    rb"(?:[A-Za-z0-9-]+\.)?AGENT(?:;[^:]*)?:[ \t]*(?P<inline>BEGIN[ \t]*:[ \t]*VCARD)?[ \t]*",
    re.IGNORECASE,
)
_UID = re.compile(rb"(?:[A-Za-z0-9-]+\.)?UID(?:;[^:]*)?:(?P<value>.*)", re.IGNORECASE)
_FOLD = (b" ", b"\t")


@dataclass(frozen=True)
class CardSpan:
    """Where one card sits in its file: the bytes ``[start, end)``. ``complete`` is false
    when the file ended, or another card began, before the card's ``END:VCARD``."""

    start: int
    end: int
    complete: bool


def _lines(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(start of the line, end of its content, start of the next line) for each line."""
    position = 0
    while position < len(data):
        found = _LINE_END.search(data, position)
        if found is None:
            yield position, len(data), len(data)
            return
        yield position, found.start(), found.end()
        position = found.end()


def _begin_offset(line: bytes) -> int | None:
    """Offset of ``BEGIN`` when the line opens a card (after a BOM or indentation)."""
    body = line.lstrip(b" \t" + BOM)
    if _BEGIN.fullmatch(body.rstrip()):
        return len(line) - len(body)
    return None


def card_spans(data: bytes) -> list[CardSpan]:
    """Every card of a vCard file, in file order; text outside cards is left out."""
    spans: list[CardSpan] = []
    start: int | None = None
    depth = 0
    agent_pending = False
    for line_start, content_end, next_start in _lines(data):
        line = data[line_start:content_end]
        if start is None:
            offset = _begin_offset(line)
            if offset is not None:
                start, depth, agent_pending = line_start + offset, 1, False
            continue
        if line[:1] in _FOLD:
            continue
        body = line.strip()
        if not body:
            continue
        offset = _begin_offset(line)
        if offset is not None:
            if agent_pending:
                depth += 1
            else:
                spans.append(CardSpan(start, line_start, complete=False))
                start, depth = line_start + offset, 1
            agent_pending = False
            continue
        if _END.fullmatch(body):
            depth -= 1
            if depth == 0:
                spans.append(CardSpan(start, next_start, complete=True))
                start = None
            agent_pending = False
            continue
        agent = _AGENT.fullmatch(body)
        if agent and agent.group("inline"):
            depth += 1
        agent_pending = agent is not None and agent.group("inline") is None
    if start is not None:
        spans.append(CardSpan(start, len(data), complete=False))
    return spans


def split_cards(data: bytes) -> list[bytes]:
    """The bytes of every card of a vCard file, exactly as they are in the file."""
    return [data[span.start : span.end] for span in card_spans(data)]


def read_uid(card: bytes) -> str | None:
    """The card's own UID (not one of a card embedded with AGENT), unfolded, or None."""
    depth = 0
    parts: list[bytes] | None = None
    for line_start, content_end, _ in _lines(card):
        line = card[line_start:content_end]
        if parts is not None:
            if line[:1] in _FOLD:
                parts.append(line[1:])
                continue
            break
        body = line.strip()
        if _begin_offset(line) is not None or (
            (agent := _AGENT.fullmatch(body)) is not None and agent.group("inline")
        ):
            depth += 1
        elif _END.fullmatch(body):
            depth -= 1
        elif depth == 1 and (uid := _UID.match(line)) is not None:
            parts = [uid.group("value")]
    if parts is None:
        return None
    value = b"".join(parts).decode("utf-8", errors="replace").strip()
    return value or None
