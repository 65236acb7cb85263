"""Applicant fields read from a resume: whether a text is one, the candidate's name, years
of experience and the summary section.
"""

from __future__ import annotations

import re

from ingest_pipeline.extraction.contact_finders import find_emails, find_phones
from ingest_pipeline.extraction.skills_vocabulary import find_skills

_I = re.IGNORECASE
_M = re.MULTILINE

_RESUME_FILENAME_RE = re.compile(r"resume|résumé|\bcv\b|curriculum|biodata", _I)
_RESUME_HEADING_RE = re.compile(
    r"^[ \t]*(?:professional\s+|work\s+|career\s+|technical\s+|core\s+|key\s+)?"
    r"(summary|profile|objective|experience|education|skills|certifications?|employment"
    r"(?:\s+history)?|projects|competencies|qualifications)[ \t]*:?[ \t]*$",
    _I | _M,
)
_SUMMARY_HEAD_RE = re.compile(
    r"^[ \t]*(?:professional\s+|career\s+|executive\s+|personal\s+)?"
    r"(?:summary|profile|objective|about\s+me)(?:\s+summary)?"
    r"(?:[ \t]*[:\-\u2013][ \t]*(?P<rest>.*)|[ \t]*)$",
    _I | _M,
)
_SECTION_HEAD_RE = re.compile(
    r"^(?:(?:professional|work|technical|core|key|relevant)\s+)?(?:experience|education|skills"
    r"|certifications?|employment(?:\s+history)?|work\s+history|projects|languages|awards"
    r"|references|competencies|contact|achievements|publications)\s*:?$",
    _I,
)
_YEARS_RE = re.compile(
    r"(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)\.?(?:\s+of)?(?:\s+[A-Za-z/&-]+){0,3}?"
    r"\s+experience|experience\s+(?:of\s+)?(?:over\s+)?(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)"
    r"|experience\s*:\s*(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)",
    _I,
)
_YEARS_PLUS_RE = re.compile(r"\b(\d{1,2})\s*\+\s*(?:years?|yrs?)\b", _I)
_NAME_SPLIT_RE = re.compile(r"\s*[|•·,]\s*|\s{3,}|\t")
_NAME_WORD_RE = re.compile(r"^[A-Z][A-Za-z'\u2019.-]*$")
_NOT_NAME_TEXT = (
    "resume résumé curriculum vitae cv summary profile objective experience education "
    "skills professional contact page technical references senior junior lead principal "
    "staff developer engineer manager analyst architect consultant scientist "
    "administrator designer software data full stack email phone mobile address linkedin "
    "github inc llc ltd university college school dear hi hello regards thanks sincerely "
    "best the and of for to at in team careers jobs hr recruiting talent noreply support "
    "notifications"
)
_NOT_NAME_WORDS = frozenset(_NOT_NAME_TEXT.split())


def looks_like_resume(filename: str, text: str) -> bool:
    """A resume by name ("Jane_Resume.pdf") or by shape (section headings, contact details)."""
    if _RESUME_FILENAME_RE.search(filename):
        return True
    headings = {m.group(1).lower() for m in _RESUME_HEADING_RE.finditer(text)}
    if len(headings) >= 2:
        return True
    return bool(find_emails(text) and find_phones(text)) and (len(find_skills(text)) >= 2)


def as_name(candidate: str, *, strict: bool) -> str | None:
    """``candidate`` as a person's name (2-4 capitalised words, no digits), else None."""
    words = candidate.strip().strip("\"'").split()
    if not 2 <= len(words) <= 4 or any(ch.isdigit() or ch == "@" for ch in candidate):
        return None
    if any(w.lower().strip(".,") in _NOT_NAME_WORDS for w in words):
        return None
    if strict and not all(_NAME_WORD_RE.match(w) for w in words):
        return None
    if all(len(w.rstrip(".")) <= 1 for w in words):
        return None
    name = " ".join(words)
    return name.title() if name.isupper() else name


def resume_head(resume: str, lines: int = 12) -> list[str]:
    """The first non-empty lines of a resume, where the name and contact block usually sit."""
    return [line.strip() for line in resume.splitlines() if line.strip()][:lines]


def name_from_resume(resume: str) -> str | None:
    """The first head line (or its first "|"/"•"-separated part) that reads as a name."""
    for line in resume_head(resume, 8):
        first = _NAME_SPLIT_RE.split(line)[0]
        name = as_name(first, strict=True)
        if name:
            return name
    return None


def find_years(text: str) -> float | None:
    """Years of experience from "7 years of experience", "Experience: 7 yrs" or "7+ years"."""
    match = _YEARS_RE.search(text) or _YEARS_PLUS_RE.search(text)
    if not match:
        return None
    value = float(next(g for g in match.groups() if g))
    return value if 0 < value <= 60 else None


def find_summary(text: str) -> str | None:
    """The first ~300 characters of a Summary/Profile/Objective section, on a word boundary."""
    match = _SUMMARY_HEAD_RE.search(text)
    if not match:
        return None
    collected = [match.group("rest") or ""]
    for line in text[match.end() :].splitlines():
        stripped = line.strip()
        if _SECTION_HEAD_RE.match(stripped) or (stripped.isupper() and len(stripped) < 40):
            break
        collected.append(stripped)
        if sum(len(c) for c in collected) > 300:
            break
    summary = " ".join(" ".join(collected).split())
    if len(summary) > 300:
        summary = summary[:300].rsplit(" ", 1)[0]
    return summary or None
