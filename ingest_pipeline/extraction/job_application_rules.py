"""Deciding whether a message is a candidate's job application, and reading its fields.

The evidence is a resume-like attachment or applying wording; only with evidence do the
contact details found (name, email, phone, skills, years, profile links) add to the score,
and bulk-mail or recruiter-posting wording count against it.
"""

from __future__ import annotations

import re
from typing import Any

from ingest_pipeline.extraction.contact_finders import find_emails, find_links, find_phones
from ingest_pipeline.extraction.field_finders import field_value, find_city_state
from ingest_pipeline.extraction.resume_fields import (
    as_name,
    find_summary,
    find_years,
    looks_like_resume,
    name_from_resume,
    resume_head,
)
from ingest_pipeline.extraction.shared_signals import (
    APPLYING_RE,
    MAX_CONFIDENCE,
    NEWSLETTER_RE,
    UNSUBSCRIBE_RE,
    clamp_confidence,
)
from ingest_pipeline.extraction.skills_vocabulary import find_skills
from ingest_pipeline.extraction.task_input_layout import parse_from_line, split_application

_I = re.IGNORECASE

_WEAK_APPLY_RE = re.compile(r"\b(?:resume|résumé|curriculum\s+vitae|(?-i:CV))\b", _I)
_POSTING_MARKER_RE = re.compile(
    r"\b(?:c2c|corp[\s-]to[\s-]corp)\b|\brequirement\b|\bjob\s+description\b|\brate\s*:"
    r"|\bshare\s+(?:your\s+)?(?:resumes|profiles|consultants)\b|\bconsultants\b",
    _I,
)


def _application_score(
    *, resume: bool, attachments: bool, strong: bool, weak: bool, details: list[bool]
) -> tuple[bool, float]:
    """Whether anything resembles an application, and the raw (unclamped) score.

    ``details`` flags, in order: name from the resume or a "Name:" line, name from the From
    header, an email, a phone, 2+ skills, stated years, a LinkedIn/GitHub link. They add to
    the score only when there is evidence (a resume section or applying words), so contact
    details alone never make an ordinary email look like an application.
    """
    score = 0.45 if resume else 0.15 if attachments else 0.0
    score += 0.3 if strong else 0.1 if weak else 0.0
    evidence = resume or strong or (weak and attachments)
    if evidence:
        weights = (0.2, 0.05, 0.15, 0.1, 0.05, 0.05, 0.05)
        score += sum(w for w, hit in zip(weights, details, strict=True) if hit)
    return evidence, score


def extract_job_application(text: str) -> dict[str, Any]:
    """Whether ``text`` (headers, body, attachment sections) is a candidate's application."""
    if not text.strip():
        return {"is_application": False, "confidence": 0.0}
    sender_name, sender_email, subject, rest = parse_from_line(text)
    body, sections = split_application(rest)
    resumes = [
        section_text for name, section_text in sections if looks_like_resume(name, section_text)
    ]
    primary = "\n\n".join(resumes)
    everything = f"{subject}\n{body}"

    labelled = field_value(f"{primary}\n{body}", ("name", "full name", "candidate name"))
    name_from_text = (as_name(labelled, strict=False) if labelled else None) or name_from_resume(
        primary
    )
    header_name = None if name_from_text else as_name(sender_name, strict=False)
    emails = find_emails(primary) + find_emails(body) + find_emails(sender_email)
    emails = list(dict.fromkeys(emails))
    phones = find_phones(f"{primary}\n{body}")
    skills = find_skills(primary or body)
    years = find_years(primary) or find_years(body)
    links = find_links(primary, profiles_only=False)
    links = list(dict.fromkeys(links + find_links(body, profiles_only=True)))

    evidence, score = _application_score(
        resume=bool(resumes),
        attachments=bool(sections),
        strong=bool(APPLYING_RE.search(everything)),
        weak=bool(_WEAK_APPLY_RE.search(everything)),
        details=[
            bool(name_from_text),
            bool(header_name),
            bool(emails),
            bool(phones),
            len(skills) >= 2,
            years is not None,
            any("linkedin.com" in u.lower() or "github.com" in u.lower() for u in links),
        ],
    )
    cap = MAX_CONFIDENCE if evidence else 0.2
    if NEWSLETTER_RE.search(everything) or UNSUBSCRIBE_RE.search(everything):
        score -= 0.6
        cap = cap if resumes else 0.2
    if _POSTING_MARKER_RE.search(everything) and not resumes:
        score -= 0.3
    confidence = clamp_confidence(score, cap)
    if not evidence or confidence < 0.5:
        return {"is_application": False, "confidence": confidence}

    location = field_value(
        f"{primary}\n{body}", ("location", "current location", "address", "city"), max_len=80
    )
    return {
        "is_application": True,
        "name": name_from_text or header_name,
        "emails": emails,
        "phones": phones,
        "location": location or find_city_state("\n".join(resume_head(primary))),
        "skills": skills,
        "years_experience": years,
        "links": links,
        "summary": find_summary(primary) or find_summary(body),
        "confidence": confidence,
    }
