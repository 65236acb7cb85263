"""Values written in free text: labelled ``Key: value`` lines, US "City, ST" places and pay
rates ("$85/hr", "Rate: 65k/annum"), each returned as written in the text.
"""

from __future__ import annotations

import re

_US_STATES_TEXT = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC"
)
US_STATES = frozenset(_US_STATES_TEXT.split())
CITY_STATE_RE = re.compile(
    r"\b([A-Z][A-Za-z.'-]+(?:[ \t]+[A-Z][A-Za-z.'-]+){0,3}),[ \t]*([A-Z]{2})\b(?:[ \t]+\d{5})?"
)


def find_city_state(text: str) -> str | None:
    """The first "City, ST" with a real US state abbreviation, e.g. "Dallas, TX"."""
    for match in CITY_STATE_RE.finditer(text):
        if match.group(2) in US_STATES:
            return f"{match.group(1)}, {match.group(2)}"
    return None


def field_value(text: str, keys: tuple[str, ...], *, max_len: int = 120) -> str | None:
    """The value of the first ``Key: value`` line (bullets and ``**bold**`` keys allowed)."""
    names = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in keys)
    pattern = re.compile(
        rf"^[\s>*•\-]*(?:{names})[*_]*\s*(?::|\s[-\u2013]\s)[*_\s]*(.+?)[*_\s]*$",
        re.IGNORECASE | re.MULTILINE,
    )
    for match in pattern.finditer(text):
        value = match.group(1).strip()
        if value and len(value) <= max_len:
            return value
    return None


_NUM = r"\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?"
_K = r"(?:\s?[kK]\b)?"
_UNIT = r"(?:hr|hour|hrly|h|annum|year|yr|month|mo)\b"
RATE_RE = re.compile(
    rf"\$\s?{_NUM}{_K}(?:\s*(?:-|\u2013|to)\s*\$?\s?{_NUM}{_K})?(?:\s*(?:/|per\s+)\s*{_UNIT})?"
    rf"|(?<![\d/]){_NUM}(?:\s*(?:-|\u2013|to)\s*{_NUM})?\s*(?:/|per\s+)\s*{_UNIT}",
    re.IGNORECASE,
)


def find_rate(body: str) -> str | None:
    """The pay rate as written: a "Rate:" line's value, else the first "$85/hr"-like amount."""
    line = field_value(body, ("rate", "pay rate", "bill rate", "salary", "compensation"))
    if line:
        return line[:80]
    match = RATE_RE.search(body)
    return match.group(0).strip() if match else None
