"""Deciding whether a message is a recruiter's job requirement, and reading its fields.

The decision is a score: a title and posting words in the subject count most, then each
kind of posting signal found in the body (employment type, duration, visa, ...), a rate, a
location and several skills; bulk-mail, applying and personal wording count against it.
"""

from __future__ import annotations

import re
from typing import Any

from ingest_pipeline.extraction.field_finders import field_value, find_rate
from ingest_pipeline.extraction.posting_fields import (
    EMPLOYMENT_ONLY_RE,
    clean_location,
    clean_title,
    org_from_email,
    subject_title_location,
    work_mode,
)
from ingest_pipeline.extraction.shared_signals import (
    APPLYING_RE,
    MAX_CONFIDENCE,
    NEWSLETTER_RE,
    UNSUBSCRIBE_RE,
    clamp_confidence,
)
from ingest_pipeline.extraction.skills_vocabulary import find_skills
from ingest_pipeline.extraction.task_input_layout import parse_from_line

_I = re.IGNORECASE

# (signal, weight added to the score when the body matches, pattern)
_POSTING_SIGNALS: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("job_description", 0.15, re.compile(r"\bjob\s+description\b|\b(?-i:JD)\b", _I)),
    (
        "employment_type",
        0.15,
        re.compile(
            r"\b(?:c2c|corp[\s-]to[\s-]corp|w2|1099|full[\s-]?time|contract(?:[\s-]to[\s-]hire)?"
            r"|cth|fte|permanent)\b",
            _I,
        ),
    ),
    ("duration", 0.15, re.compile(r"\bduration\s*:|\b\d{1,2}\s*\+?\s*(?:months?|mos)\b", _I)),
    (
        "skills_section",
        0.15,
        re.compile(
            r"\bmust[\s-]have\b|\b(?:required|mandatory|primary|key|technical)\s+skills\b"
            r"|\bskills?(?:\s+required)?\s*:|\bnice[\s-]to[\s-]have\b|\bqualifications\b"
            r"|\bresponsibilities\b",
            _I,
        ),
    ),
    (
        "experience",
        0.15,
        re.compile(r"\b\d{1,2}\s*\+?\s*(?:years?|yrs?)\b|\byears\s+of\s+experience\b", _I),
    ),
    (
        "visa",
        0.15,
        re.compile(
            r"\bvisa\b|\bh-?1b\b|\bgreen\s+card\b|\b(?-i:GC|USC|EAD|OPT)\b|\bsponsorship\b"
            r"|\bwork\s+authori[sz]ation\b",
            _I,
        ),
    ),
    (
        "submission",
        0.1,
        re.compile(
            r"\bsubmi(?:t|ssion|ttal)s?\b|\b(?:share|send)\s+(?:me\s+)?(?:your\s+|the\s+)?"
            r"(?:updated\s+)?(?:resumes?|profiles?|consultants?)\b|\bconsultants?\b"
            r"|\bcandidates?\b|\binterviews?\b",
            _I,
        ),
    ),
)
_SUBJECT_POSTING_RE = re.compile(
    r"\b(?:requirements?|reqs?|openings?|positions?|roles?|hiring|urgent|immediate\s+need|jobs?"
    r"|jd|c2c|w2|contract|opportunit(?:y|ies))\b",
    _I,
)
_PERSONAL_RE = re.compile(
    r"\b(?:dinner|lunch|birthday|party|vacation|wedding|bbq|barbecue|movie|kids|mom|dad"
    r"|grandma|love\s+you|miss\s+you|xoxo|weekend\s+plans)\b",
    _I,
)


def extract_job_posting(text: str) -> dict[str, Any]:
    """Whether ``text`` (a posting input: headers then body) is a recruiter's requirement."""
    if not text.strip():
        return {"is_job_posting": False, "confidence": 0.0}
    _, sender_email, subject, body = parse_from_line(text)

    title = field_value(
        body,
        ("job title", "position title", "title", "position", "job role", "role", "designation"),
        max_len=100,
    )
    title = None if title is None or EMPLOYMENT_ONLY_RE.match(title) else clean_title(title)
    subject_title, subject_location = subject_title_location(subject)
    title = title or subject_title
    location = clean_location(
        field_value(body, ("location", "job location", "work location"), max_len=80)
    )
    mode_lines = [
        field_value(body, (key,)) or ""
        for key in ("location", "job location", "work location", "work mode", "work type", "mode")
    ]
    skills = find_skills(f"{subject}\n{body}")
    rate = find_rate(body)

    score = 0.4 if title else 0.0
    score += 0.2 if _SUBJECT_POSTING_RE.search(subject) else 0.0
    score += sum(weight for _, weight, pattern in _POSTING_SIGNALS if pattern.search(body))
    score += 0.15 if rate else 0.0
    score += 0.15 if location else 0.0
    score += 0.1 if len(skills) >= 3 else 0.0
    everything = f"{subject}\n{body}"
    score -= 0.3 if UNSUBSCRIBE_RE.search(everything) else 0.0
    score -= 0.6 if APPLYING_RE.search(everything) else 0.0
    score -= 0.3 if _PERSONAL_RE.search(everything) else 0.0
    cap = MAX_CONFIDENCE if title else 0.75
    if NEWSLETTER_RE.search(everything):
        score, cap = score - 0.5, 0.2
    confidence = clamp_confidence(score, cap)
    if confidence < 0.5:
        return {"is_job_posting": False, "confidence": confidence}

    company = field_value(
        body, ("client", "end client", "company", "employer", "hiring company"), max_len=80
    )
    contact = field_value(body, ("contact", "point of contact", "contact details"))
    return {
        "is_job_posting": True,
        "title": title,
        "company": company or org_from_email(sender_email),
        "location": location or subject_location,
        "remote": work_mode(["\n".join(mode_lines), subject, body]),
        "skills": skills,
        "rate": rate,
        "contact": contact or sender_email or None,
        "confidence": confidence,
    }
