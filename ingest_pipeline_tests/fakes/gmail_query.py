"""The subset of Gmail's search syntax (``q`` of messages.list) the fake understands.

Terms are ANDed; a leading ``-`` negates one. Supported:

- ``after:``/``newer:`` and ``before:``/``older:`` on internalDate, with epoch seconds or a date
  (``YYYY/MM/DD``, ``YYYY-MM-DD``, ``MM/DD/YYYY``) taken as midnight PST (UTC-8) as Gmail
  documents; ``after`` is inclusive (>=), ``before`` exclusive (<);
- ``newer_than:``/``older_than:`` with ``<n>d``, ``<n>m`` (30 days) or ``<n>y`` (365 days);
- ``label:``, ``in:`` (``inbox``, ``sent``, ``spam``, ``trash``, ``anywhere``...), ``is:``
  (``unread``, ``read``, ``starred``, ``important``), ``category:``;
- ``from:``, ``to:``, ``cc:``, ``bcc:``, ``subject:``, ``deliveredto:``, ``rfc822msgid:``
  (case-insensitive substring of the decoded header), ``has:attachment``, ``larger:``/
  ``smaller:`` (bytes, or with ``K``/``M``);
- plain words and ``"quoted phrases"``: case-insensitive substring of the Subject or body text.

- ``{a "b c"}``: any of the words or phrases in the braces (Gmail's OR group).

Other operators are ignored, as are ``OR``, ``AND`` and parentheses outside braces (so
``a OR b`` narrows like ``a b`` - unlike Gmail).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

PST = dt.timezone(dt.timedelta(hours=-8), "PST")
_TOKEN = re.compile(r'(-?)(?:([A-Za-z_]+):("[^"]*"|\S+)|"([^"]*)"|(\S+))')
_DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%d", "%m/%d/%Y")
_IN_LABELS = {
    "inbox": "INBOX",
    "sent": "SENT",
    "spam": "SPAM",
    "trash": "TRASH",
    "draft": "DRAFT",
    "drafts": "DRAFT",
    "starred": "STARRED",
    "important": "IMPORTANT",
    "chats": "CHAT",
    "unread": "UNREAD",
}
_HEADER_OPERATORS = {
    "from": "from",
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "subject": "subject",
    "deliveredto": "delivered-to",
    "rfc822msgid": "message-id",
}
_UNITS = {"d": 86_400, "m": 30 * 86_400, "y": 365 * 86_400}


class Searchable(Protocol):
    """What a query looks at in a stored message."""

    internal_ms: int
    has_attachment: bool
    subject_lc: str
    text_lc: str

    @property
    def size(self) -> int: ...

    def header_lc(self, name: str) -> str: ...


def normalize_label(name: str) -> str:
    """Gmail treats spaces, slashes and dashes in label names alike and ignores case."""
    return re.sub(r"[\s/-]+", "-", name.strip().lower())


Predicate = Callable[[Searchable, set[str]], bool]


@dataclass
class Query:
    """A parsed ``q``: predicates over (message, its normalized label names and ids)."""

    predicates: list[Predicate] = field(default_factory=list)
    wants_spam_trash: bool = False  # in:spam, in:trash, label:trash, in:anywhere...

    def matches(self, message: Searchable, labels: set[str]) -> bool:
        return all(predicate(message, labels) for predicate in self.predicates)


_GROUP = re.compile(r"(-?)\{([^{}]*)\}")


def parse_query(q: str, now: float) -> Query:
    """Parse Gmail search text; ``now`` (epoch seconds) anchors ``newer_than``/``older_than``."""
    query = Query()
    for group in _GROUP.finditer(q or ""):
        terms = [
            (phrase or word).lower()
            for _, _, _, phrase, word in _TOKEN.findall(group.group(2))
            if phrase or (word and word not in ("OR", "AND"))
        ]
        predicate = _any_words(terms)
        query.predicates.append(_negated(predicate) if group.group(1) else predicate)
    for match in _TOKEN.finditer(_GROUP.sub(" ", q or "")):
        negate, operator, value, phrase, word = match.groups()
        predicate: Predicate | None
        if operator is not None:
            predicate = _operator(query, operator.lower(), value.strip('"'), now)
        else:
            text = phrase if phrase is not None else word.strip("(){}")
            if text in ("OR", "AND", "") and phrase is None:
                continue
            predicate = _words(text.lower())
        if predicate is None:
            continue
        query.predicates.append(_negated(predicate) if negate else predicate)
    return query


def _negated(predicate: Predicate) -> Predicate:
    return lambda m, labels: not predicate(m, labels)


def _words(text: str) -> Predicate:
    return lambda m, labels: text in m.subject_lc or text in m.text_lc


def _any_words(texts: list[str]) -> Predicate:
    return lambda m, labels: any(t in m.subject_lc or t in m.text_lc for t in texts)


def _has_label(label: str) -> Predicate:
    key = normalize_label(label)
    return lambda m, labels: key in labels


def _operator(query: Query, op: str, value: str, now: float) -> Predicate | None:
    lowered = value.lower()
    if op in ("after", "newer", "before", "older"):
        seconds = _point_in_time(value)
        if seconds is None:
            return None
        limit = seconds * 1000
        if op in ("after", "newer"):
            return lambda m, labels: m.internal_ms >= limit
        return lambda m, labels: m.internal_ms < limit
    if op in ("newer_than", "older_than"):
        found = re.fullmatch(r"(\d+)([dmy])", lowered)
        if not found:
            return None
        edge = int((now - int(found.group(1)) * _UNITS[found.group(2)]) * 1000)
        if op == "newer_than":
            return lambda m, labels: m.internal_ms > edge
        return lambda m, labels: m.internal_ms < edge
    if op == "in" and lowered == "anywhere":
        query.wants_spam_trash = True
        return None
    if op in ("in", "label", "is", "category"):
        if op == "is" and lowered == "read":
            return lambda m, labels: "unread" not in labels
        label = f"CATEGORY_{value}" if op == "category" else _IN_LABELS.get(lowered, value)
        if label.upper() in ("SPAM", "TRASH"):
            query.wants_spam_trash = True
        return _has_label(label)
    if op in _HEADER_OPERATORS:
        header = _HEADER_OPERATORS[op]
        return lambda m, labels: lowered in m.header_lc(header)
    if op == "has" and lowered == "attachment":
        return lambda m, labels: m.has_attachment
    if op in ("larger", "smaller"):
        found = re.fullmatch(r"(\d+)([km]?)", lowered)
        if not found:
            return None
        size = int(found.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[found.group(2)]
        if op == "larger":
            return lambda m, labels: m.size > size
        return lambda m, labels: m.size < size
    return None  # unknown operator: ignored


def _point_in_time(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    for fmt in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return int(day.replace(tzinfo=PST).timestamp())
    return None
