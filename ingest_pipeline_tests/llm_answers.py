"""Answers the local OpenAI-compatible server gives in tests: a job posting that validates
against the ``job_posting`` task's schema."""

from __future__ import annotations

from typing import Any

POSTING: dict[str, Any] = {
    "is_job_posting": True,
    "title": "Data Engineer",
    "company": "Acme",
    "location": None,
    "remote": None,
    "skills": [],
    "rate": None,
    "contact": None,
    "confidence": 0.9,
}
