"""Job posting fields read from a recruiter's email: the title and location in its subject,
the cleaned title and location values, whether the work is remote, and the hiring company
named by the sender's domain.
"""

from __future__ import annotations

import re

from ingest_pipeline.extraction.field_finders import CITY_STATE_RE, US_STATES, find_city_state

_I = re.IGNORECASE

_REPLY_PREFIX_RE = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg)\s*:\s*|\[[^\]]*\]\s*)+", _I)
_SUBJECT_PREFIX_RE = re.compile(
    r"^(?:(?:urgent|immediate|hot|new|direct\s+client|job|open)\s+)*"
    r"(?:requirements?|reqs?|needs?|openings?|positions?|roles?|jobs?|hiring|opportunity|urgent)"
    r"\s*(?:[:\-\u2013|]+|\s+for\b)\s*",
    _I,
)
_SUBJECT_VERB_RE = re.compile(
    r"^(?:(?:we\s*(?:'re|are)|now|urgently)\s+)?(?:hiring|need(?:ed)?|looking\s+for|seeking)"
    r"\s+(?:an?\s+)?",
    _I,
)
_SUBJECT_SPLIT_RE = re.compile(r"\s+[-\u2013\u2014|]+\s+|\s*\|\|?\s*|\s*::\s*")
_IN_PLACE_RE = re.compile(r"^(?P<head>.+?)\s+(?:in|at|for)\s+(?P<place>.+)$", _I)
_ROLE_NOUN_RE = re.compile(
    r"\b(?:developer|engineer|architect|analyst|administrator|admin|manager|lead|consultant|"
    r"scientist|designer|tester|specialist|dba|programmer|devops|sre|qa|director|owner|"
    r"scrum\s+master|coordinator)s?\b",
    _I,
)
_MODE_PAREN_RE = re.compile(
    r"\s*\((?=[^()]*\b(?:remote|on-?site|hybrid|contract|c2c|w2|full[\s-]?time|local|only|"
    r"need|urgent)\b)[^()]*\)\s*$",
    _I,
)
EMPLOYMENT_ONLY_RE = re.compile(
    r"^(?:contract|full[\s-]?time|part[\s-]?time|c2c|w2|permanent|remote|on-?site|hybrid)\b", _I
)
_REMOTE_ONLY_RE = re.compile(r"^(?:100\s*%\s*|fully\s+)?remote\b", _I)

_HYBRID_RE = re.compile(r"\bhybrid\b", _I)
_NOT_REMOTE_RE = re.compile(
    r"\b(?:no|not|non)[\s-]+remote\b|\bremote\s+(?:is\s+)?not\s+(?:an?\s+)?(?:option|possible)", _I
)
_ONSITE_RE = re.compile(r"\bon[\s-]?site\b", _I)
_REMOTE_RE = re.compile(
    r"\b(?:remote|work\s+from\s+home|wfh)\b(?!\s+(?:desktop|sensing|access|control|server))", _I
)

_FREE_MAIL_TEXT = (
    "gmail googlemail yahoo ymail hotmail outlook aol icloud live msn me protonmail "
    "proton gmx mail zoho yandex rediffmail"
)
_FREE_MAIL = frozenset(_FREE_MAIL_TEXT.split())


def clean_title(raw: str) -> str | None:
    """A job title without mode tags like "(Remote)" or filler like "needed"."""
    title = _MODE_PAREN_RE.sub("", raw).strip(" -\u2013|,.:;!")
    title = re.sub(r"\s+(?:needed|required|wanted)$", "", title, flags=_I)
    title = re.sub(r"^(?:an?|the)\s+", "", title, flags=_I).strip()
    if not title or len(title) > 100 or len(title.split()) > 12:
        return None
    return title


def clean_location(raw: str | None) -> str | None:
    """A location value without work-mode tags, e.g. "Dallas, TX (Onsite)" -> "Dallas, TX"."""
    if raw is None:
        return None
    return _MODE_PAREN_RE.sub("", raw).strip(" -\u2013|,.:;") or None


def _place_of(segment: str) -> str | None:
    """The place a subject segment names ("City, ST" or "Remote"), else None."""
    if _REMOTE_ONLY_RE.match(segment):
        return "Remote"
    return find_city_state(segment)


def subject_title_location(subject: str) -> tuple[str | None, str | None]:
    """Title and location from subjects like "Requirement: Java Developer - Dallas, TX"."""
    text = _REPLY_PREFIX_RE.sub("", subject).strip()
    prefixed = False
    for pattern in (_SUBJECT_PREFIX_RE, _SUBJECT_VERB_RE):
        match = pattern.match(text)
        if match and match.end() < len(text):
            text, prefixed = text[match.end() :].strip(), True
            break
    title: str | None = None
    location: str | None = None
    for segment in (s.strip(" -\u2013|,.:") for s in _SUBJECT_SPLIT_RE.split(text)):
        if not segment:
            continue
        place = _place_of(segment)
        if place and not _ROLE_NOUN_RE.search(segment):
            location = location or place
            continue
        if title is not None:
            continue
        head = segment
        in_place = _IN_PLACE_RE.match(segment)
        city = CITY_STATE_RE.search(segment)
        if in_place and _place_of(in_place.group("place")):
            head, place = in_place.group("head"), _place_of(in_place.group("place"))
        elif city and city.group(2) in US_STATES and city.start() > 0:
            head = segment[: city.start()].rstrip(" ,-\u2013(@")
        if prefixed or _ROLE_NOUN_RE.search(head):
            title = clean_title(head)
            location = location or place
    return title, location


def work_mode(scopes: list[str]) -> bool | None:
    """True for remote, False for onsite, None for hybrid/unknown; most specific scope first."""
    for text in scopes:
        if not text:
            continue
        if _HYBRID_RE.search(text):
            return None
        if _NOT_REMOTE_RE.search(text):
            return False
        onsite, remote = bool(_ONSITE_RE.search(text)), bool(_REMOTE_RE.search(text))
        if onsite != remote:
            return remote
        if onsite:
            return None
    return None


def org_from_email(email: str) -> str | None:
    """The sender's organisation, e.g. "Techcorp Solutions" for jo@techcorp-solutions.com.

    None for free-mail domains (gmail, outlook, ...), which name no employer.
    """
    labels = email.rpartition("@")[2].lower().split(".")
    if len(labels) < 2:
        return None
    org = labels[-2]
    if org in {"co", "com", "org", "net", "ac", "gov", "edu"} and len(labels) >= 3:
        org = labels[-3]
    if org in _FREE_MAIL:
        return None
    return " ".join(word.capitalize() for word in re.split(r"[-_]+", org) if word) or None
