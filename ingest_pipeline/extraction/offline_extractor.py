"""A rule-based extractor that needs no network and no API key.

It reads the same task inputs an LLM extractor would (see ``tasks.py``) and fills the same
schemas from keyword signals, labelled lines ("Title:", "Location:") and regexes. Its results
are labelled as offline in ``ExtractionOutcome.extra`` and cost nothing. It is deterministic:
the same input always gives the same outcome, so it is safe behind the extraction cache.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ingest_pipeline.domain import ExtractionInput, ExtractionOutcome
from ingest_pipeline.extraction import offline_rules as rules
from ingest_pipeline.extraction.extractor import ExtractionFailed
from ingest_pipeline.extraction.tasks import TaskSpec

OFFLINE_MODEL = "offline-rules-1"
OFFLINE_EXTRA: dict[str, str] = {
    "extractor": "offline",
    "note": "rule-based offline extractor; no LLM was called",
}
MAX_CONFIDENCE = 0.95  # rules are never certain

_I = re.IGNORECASE

# --- job postings --------------------------------------------------------------------------

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
NEWSLETTER_RE = re.compile(
    r"\bnewsletter\b|\bdigest\b|\bweekly\s+(?:roundup|update|recap)\b|\bthis\s+week\s+in\b"
    r"|\bview\s+(?:this\s+email\s+)?in\s+(?:your\s+)?browser\b|\bissue\s+#?\d+\b"
    r"|\bjob\s+alerts?\b|\b(?:new|recommended)\s+jobs\b|\bjobs\s+(?:for\s+you|you\s+may\s+like)\b",
    _I,
)
_UNSUBSCRIBE_RE = re.compile(
    r"\bunsubscribe\b|\bmanage\s+(?:your\s+)?(?:email\s+)?preferences\b|\bopt[\s-]out\b", _I
)
_APPLYING_RE = re.compile(
    r"\bI\s*(?:am|'m)\s+(?:applying|interested\s+in\s+(?:the|this|your))\b"
    r"|\bapplying\s+(?:for|to)\b|\bapplication\s+for\b|\bmy\s+candidacy\b"
    r"|\b(?:my|attached|enclosed)\s+(?:updated\s+)?(?:resume|résumé|cv)\b"
    r"|\b(?:resume|résumé|cv)\s+(?:is\s+)?(?:attached|enclosed)\b"
    r"|\bplease\s+find\s+(?:attached\s+)?(?:my\s+)?(?:resume|résumé|cv)\b"
    r"|\bconsider\s+me\s+for\b",
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
    _, sender_email, subject, body = rules.parse_from_line(text)

    title = rules.field_value(
        body,
        ("job title", "position title", "title", "position", "job role", "role", "designation"),
        max_len=100,
    )
    title = (
        None if title is None or rules.EMPLOYMENT_ONLY_RE.match(title) else rules.clean_title(title)
    )
    subject_title, subject_location = rules.subject_title_location(subject)
    title = title or subject_title
    location = rules.clean_location(
        rules.field_value(body, ("location", "job location", "work location"), max_len=80)
    )
    mode_lines = [
        rules.field_value(body, (key,)) or ""
        for key in ("location", "job location", "work location", "work mode", "work type", "mode")
    ]
    skills = rules.find_skills(f"{subject}\n{body}")
    rate = rules.find_rate(body)

    score = 0.4 if title else 0.0
    score += 0.2 if _SUBJECT_POSTING_RE.search(subject) else 0.0
    score += sum(weight for _, weight, pattern in _POSTING_SIGNALS if pattern.search(body))
    score += 0.15 if rate else 0.0
    score += 0.15 if location else 0.0
    score += 0.1 if len(skills) >= 3 else 0.0
    everything = f"{subject}\n{body}"
    score -= 0.3 if _UNSUBSCRIBE_RE.search(everything) else 0.0
    score -= 0.6 if _APPLYING_RE.search(everything) else 0.0
    score -= 0.3 if _PERSONAL_RE.search(everything) else 0.0
    cap = MAX_CONFIDENCE if title else 0.75
    if NEWSLETTER_RE.search(everything):
        score, cap = score - 0.5, 0.2
    confidence = round(min(max(score, 0.0), cap), 2)
    if confidence < 0.5:
        return {"is_job_posting": False, "confidence": confidence}

    company = rules.field_value(
        body, ("client", "end client", "company", "employer", "hiring company"), max_len=80
    )
    contact = rules.field_value(body, ("contact", "point of contact", "contact details"))
    return {
        "is_job_posting": True,
        "title": title,
        "company": company or rules.org_from_email(sender_email),
        "location": location or subject_location,
        "remote": rules.work_mode(["\n".join(mode_lines), subject, body]),
        "skills": skills,
        "rate": rate,
        "contact": contact or sender_email or None,
        "confidence": confidence,
    }


# --- job applications ----------------------------------------------------------------------

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
    sender_name, sender_email, subject, rest = rules.parse_from_line(text)
    body, sections = rules.split_application(rest)
    resumes = [
        section_text
        for name, section_text in sections
        if rules.looks_like_resume(name, section_text)
    ]
    primary = "\n\n".join(resumes)
    everything = f"{subject}\n{body}"

    labelled = rules.field_value(f"{primary}\n{body}", ("name", "full name", "candidate name"))
    name_from_text = (
        rules.as_name(labelled, strict=False) if labelled else None
    ) or rules.name_from_resume(primary)
    header_name = None if name_from_text else rules.as_name(sender_name, strict=False)
    emails = rules.find_emails(primary) + rules.find_emails(body) + rules.find_emails(sender_email)
    emails = list(dict.fromkeys(emails))
    phones = rules.find_phones(f"{primary}\n{body}")
    skills = rules.find_skills(primary or body)
    years = rules.find_years(primary) or rules.find_years(body)
    links = rules.find_links(primary, profiles_only=False)
    links = list(dict.fromkeys(links + rules.find_links(body, profiles_only=True)))

    evidence, score = _application_score(
        resume=bool(resumes),
        attachments=bool(sections),
        strong=bool(_APPLYING_RE.search(everything)),
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
    if NEWSLETTER_RE.search(everything) or _UNSUBSCRIBE_RE.search(everything):
        score -= 0.6
        cap = cap if resumes else 0.2
    if _POSTING_MARKER_RE.search(everything) and not resumes:
        score -= 0.3
    confidence = round(min(max(score, 0.0), cap), 2)
    if not evidence or confidence < 0.5:
        return {"is_application": False, "confidence": confidence}

    location = rules.field_value(
        f"{primary}\n{body}", ("location", "current location", "address", "city"), max_len=80
    )
    return {
        "is_application": True,
        "name": name_from_text or header_name,
        "emails": emails,
        "phones": phones,
        "location": location or rules.find_city_state("\n".join(rules.resume_head(primary))),
        "skills": skills,
        "years_experience": years,
        "links": links,
        "summary": rules.find_summary(primary) or rules.find_summary(body),
        "confidence": confidence,
    }


# --- the extractor -------------------------------------------------------------------------

_RULES: dict[str, Callable[[str], dict[str, Any]]] = {
    "job_posting": extract_job_posting,
    "job_application": extract_job_application,
}


class OfflineExtractor:
    """The ``Extractor`` that runs keyword rules locally: no network, no key, no cost.

    Its outcomes carry ``model="offline-rules-1"`` (so cached results never mix with an
    LLM's) and ``extra={"extractor": "offline", ...}`` so readers can tell them apart.
    """

    model: str = OFFLINE_MODEL

    def extract(self, task: TaskSpec, item: ExtractionInput) -> ExtractionOutcome:
        rule = _RULES.get(task.name)
        if rule is None:
            known = ", ".join(sorted(_RULES))
            raise ExtractionFailed(
                f"offline extractor has no rules for task {task.name!r}; it supports: {known}"
            )
        try:
            result = task.schema.model_validate(rule(item.text)).model_dump()
        except ValidationError as exc:
            raise ExtractionFailed(f"offline {task.name} result failed validation: {exc}") from exc
        return ExtractionOutcome(
            result=result,
            model=self.model,
            prompt_version=task.prompt_version,
            input_tokens=len(item.text) // 4,
            output_tokens=len(json.dumps(result, sort_keys=True)) // 4,
            cost_usd=0.0,
            request_id=None,
            extra=dict(OFFLINE_EXTRA),
        )
