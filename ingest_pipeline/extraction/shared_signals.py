"""Signals both the job posting and the job application rules weigh, and their shared
confidence ceiling: newsletter and unsubscribe wording marks bulk mail, applying wording marks
a candidate writing in (evidence for an application, against a posting).
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

MAX_CONFIDENCE = 0.95  # rules are never certain

NEWSLETTER_RE = re.compile(
    r"\bnewsletter\b|\bdigest\b|\bweekly\s+(?:roundup|update|recap)\b|\bthis\s+week\s+in\b"
    r"|\bview\s+(?:this\s+email\s+)?in\s+(?:your\s+)?browser\b|\bissue\s+#?\d+\b"
    r"|\bjob\s+alerts?\b|\b(?:new|recommended)\s+jobs\b|\bjobs\s+(?:for\s+you|you\s+may\s+like)\b",
    _I,
)
UNSUBSCRIBE_RE = re.compile(
    r"\bunsubscribe\b|\bmanage\s+(?:your\s+)?(?:email\s+)?preferences\b|\bopt[\s-]out\b", _I
)
APPLYING_RE = re.compile(
    r"\bI\s*(?:am|'m)\s+(?:applying|interested\s+in\s+(?:the|this|your))\b"
    r"|\bapplying\s+(?:for|to)\b|\bapplication\s+for\b|\bmy\s+candidacy\b"
    r"|\b(?:my|attached|enclosed)\s+(?:updated\s+)?(?:resume|résumé|cv)\b"
    r"|\b(?:resume|résumé|cv)\s+(?:is\s+)?(?:attached|enclosed)\b"
    r"|\bplease\s+find\s+(?:attached\s+)?(?:my\s+)?(?:resume|résumé|cv)\b"
    r"|\bconsider\s+me\s+for\b",
    _I,
)


def clamp_confidence(score: float, cap: float) -> float:
    """A raw rule score as a confidence: at least 0, at most ``cap``, rounded to 2 places."""
    return round(min(max(score, 0.0), cap), 2)
