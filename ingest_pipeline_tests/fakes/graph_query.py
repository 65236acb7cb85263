"""The OData query options the fake Graph understands on mail and contact collections.

- ``$filter``: comparisons of ``receivedDateTime`` (``ge``/``gt``/``le``/``lt``/``eq``) with a
  DateTimeOffset literal, joined by ``and`` - what a day-window listing sends;
- ``$search``: ``"(kw1 OR kw2) AND received>=2026-11-02"`` (KQL-ish: terms joined by
  ``OR``/``AND``, juxtaposition is AND, one level of parentheses, ``received`` date
  restrictions), terms matched case-insensitively as substrings of a message's subject,
  sender and body;
- ``$select``, ``$top`` (1..1000), ``$orderby=receivedDateTime [asc|desc]`` on messages and
  ``$orderby=lastModifiedDateTime [asc|desc]`` on contacts, ``$count=true``
  (``@odata.count``) on contacts;
- ``$skiptoken``/``$skip`` paging, and ``Prefer: odata.maxpagesize=N`` for delta.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from ingest_pipeline_tests.fakes.graph_wire import GraphError

MAX_TOP = 1000
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "ge": operator.ge,
    "gt": operator.gt,
    "le": operator.le,
    "lt": operator.lt,
    "eq": operator.eq,
}
_CLAUSE = re.compile(r"\s*receivedDateTime\s+(ge|gt|le|lt|eq)\s+(\S+)\s*", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_MAXPAGESIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)

Params = Mapping[str, str]


def bad_query(message: str) -> GraphError:
    return GraphError(400, "ErrorInvalidUrlQuery", message)


@dataclass(frozen=True)
class ReceivedFilter:
    """``receivedDateTime`` bounds, all of which must hold."""

    clauses: tuple[tuple[str, dt.datetime], ...]

    def matches(self, received: dt.datetime) -> bool:
        return all(_COMPARE[op](received, bound) for op, bound in self.clauses)


def parse_filter(text: str) -> ReceivedFilter:
    clauses = []
    for part in _AND.split(text.strip()):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise bad_query(
                f"Invalid filter clause: the fake Graph only filters messages on "
                f"receivedDateTime comparisons joined by 'and', not {part!r}."
            )
        clauses.append((match.group(1).lower(), _parse_datetime(match.group(2))))
    return ReceivedFilter(tuple(clauses))


def _parse_datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_query(f"The DateTimeOffset literal '{text}' is not valid.") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


_RECEIVED = re.compile(r"received(>=|<=|>|<|:|=)(\d{4}-\d{2}-\d{2})$", re.IGNORECASE)
_SEARCH_TOKEN = re.compile(r"\(|\)|[^\s()]+")


@dataclass(frozen=True)
class KeywordSearch:
    """A KQL subset: keyword groups (``OR`` of ``AND``s; juxtaposition is ``AND``), an
    optional parenthesised ``(a b OR c)`` list, and ``received`` date restrictions
    (``received>=2026-11-02``, ``<=``, ``>``, ``<``, ``:``), all of which must hold."""

    groups: tuple[tuple[str, ...], ...]
    received: tuple[tuple[str, dt.date], ...] = ()

    def matches(self, text: str, received: dt.datetime | None = None) -> bool:
        folded = text.casefold()
        if self.groups and not any(all(t in folded for t in group) for group in self.groups):
            return False
        if received is None:
            return True
        day = received.astimezone(dt.UTC).date()
        return all(_DATE_COMPARE[op](day, bound) for op, bound in self.received)


_DATE_COMPARE = {
    ">=": lambda day, bound: day >= bound,
    "<=": lambda day, bound: day <= bound,
    ">": lambda day, bound: day > bound,
    "<": lambda day, bound: day < bound,
    ":": lambda day, bound: day == bound,
    "=": lambda day, bound: day == bound,
}


def parse_search(text: str) -> KeywordSearch:
    """``"invoice OR receipt"``: Graph wants the whole expression in double quotes."""
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise GraphError(
            400,
            "BadRequest",
            "Syntax error: character '" + (text[:1] or " ") + "' is not valid at position 0 "
            "in '" + text + "'. $search values must be enclosed in double quotes.",
        )
    groups: list[tuple[str, ...]] = []
    received: list[tuple[str, dt.date]] = []
    current: list[str] = []
    depth = 0
    for word in _SEARCH_TOKEN.findall(text[1:-1]):
        restriction = _RECEIVED.match(word)
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
            if depth < 0:
                raise bad_query(f"Unbalanced parentheses in $search {text}.")
        elif restriction:
            received.append((restriction.group(1), dt.date.fromisoformat(restriction.group(2))))
        elif word == "OR":
            if current:
                groups.append(tuple(current))
            current = []
        elif word != "AND":
            current.append(word.casefold())
    if depth:
        raise bad_query(f"Unbalanced parentheses in $search {text}.")
    if current:
        groups.append(tuple(current))
    if not groups and not received:
        raise bad_query("The $search expression has no terms.")
    return KeywordSearch(tuple(groups), tuple(received))


def parse_select(params: Params) -> tuple[str, ...] | None:
    text = params.get("$select")
    if not text:
        return None
    return tuple(name.strip() for name in text.split(",") if name.strip())


def select_fields(resource: dict[str, Any], select: tuple[str, ...] | None, kind: str) -> dict:
    """``resource`` cut to ``select`` (Graph always keeps ``@odata.etag`` and ``id``)."""
    if select is None:
        return resource
    for name in select:
        if name not in resource:
            raise GraphError(
                400,
                "RequestBroker--ParseUri",
                f"Could not find a property named '{name}' on type 'microsoft.graph.{kind}'.",
            )
    keep = {"@odata.etag", "@odata.type", "id", *select}
    return {key: value for key, value in resource.items() if key in keep}


def parse_top(params: Params, *, default: int = 10) -> int:
    text = params.get("$top")
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_TOP:
        raise bad_query(f"The value of $top must be an integer from 1 to {MAX_TOP}, not {text!r}.")
    return int(text)


def parse_orderby(params: Params) -> bool:
    """Whether to sort messages newest first (Graph's default for messages)."""
    descending = parse_order(params, "receivedDateTime", "messages")
    return True if descending is None else descending


def parse_order(params: Params, field: str, kind: str) -> bool | None:
    """``$orderby={field} [asc|desc]``: whether descending, None without ``$orderby``;
    any other property is refused as Graph refuses what it cannot sort on."""
    text = params.get("$orderby")
    if text is None:
        return None
    words = text.split()
    if not words or words[0].lower() != field.lower() or len(words) > 2:
        raise bad_query(f"The fake Graph orders {kind} by {field} only, not {text!r}.")
    direction = words[1].lower() if len(words) == 2 else "asc"
    if direction not in ("asc", "desc"):
        raise bad_query(f"Unknown sort direction {words[1]!r}.")
    return direction == "desc"


def parse_count(params: Params) -> bool:
    """``$count=true``: whether to add ``@odata.count`` (the collection's total, whatever
    ``$top`` and paging cut) to the answer."""
    text = params.get("$count")
    if text is None:
        return False
    if text.lower() not in ("true", "false"):
        raise bad_query(f"The value of $count must be true or false, not {text!r}.")
    return text.lower() == "true"


def page_size(prefer: str, *, default: int, maximum: int = MAX_TOP) -> int:
    """``Prefer: odata.maxpagesize=N`` (clamped to 1..maximum), else ``default``."""
    match = _MAXPAGESIZE.search(prefer or "")
    return min(max(int(match.group(1)), 1), maximum) if match else default


def decode_offset(params: Params) -> int:
    """Where a page starts: the opaque ``$skiptoken`` of a nextLink, or a plain ``$skip``."""
    token = params.get("$skiptoken")
    if token is not None:
        try:
            state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return int(state["o"])
        except (ValueError, KeyError, TypeError):
            raise bad_query("The $skiptoken is not valid.") from None
    skip = params.get("$skip", "0")
    if not skip.isdigit():
        raise bad_query(f"The value of $skip must be a non-negative integer, not {skip!r}.")
    return int(skip)


def next_link(url: str, params: Params, offset: int) -> str:
    """``url`` with the same query options and a ``$skiptoken`` for ``offset``."""
    token = base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")
    kept = {k: v for k, v in params.items() if k not in ("$skiptoken", "$skip")}
    kept["$skiptoken"] = token
    return url + "?" + urlencode(kept, quote_via=quote, safe="$,'():")
