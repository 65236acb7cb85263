"""The relationship-insight task's input (a person and their recent interactions, one per
line) and the offline extractor's rules for it: counts, span, latest exchange, and the
pending step a person would see at a glance. No LLM, deterministic."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

KIND_WORDS = {
    "email_in": "email in",
    "email_out": "email out",
    "meeting": "meeting",
    "posting": "posting",
    "application": "application",
}
_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (email in|email out|meeting|posting|application): (.*)$")


def insight_input(person: str, events: Sequence[tuple[str, str, str]]) -> str:
    """The task's input: ``Person: …`` then ``YYYY-MM-DD <kind>: <label>`` per event
    (date, kind as stored, label), oldest first."""
    lines = [f"Person: {person}"]
    lines += [
        f"{day} {KIND_WORDS.get(kind, kind)}: {label.removeprefix('← ').removeprefix('→ ')}"
        for day, kind, label in events
    ]
    return "\n".join(lines)


def _counted(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def extract_relationship_insight(text: str) -> dict[str, Any]:
    """Summary and next step from the interaction lines of ``insight_input``."""
    person = text.splitlines()[0].removeprefix("Person: ").strip() if text else "this person"
    lines = [m.groups() for line in text.splitlines() if (m := _LINE.match(line.strip()))]
    if not lines:
        return {
            "summary": f"No interactions with {person} yet.",
            "next_step": None,
            "has_history": False,
        }
    kinds = Counter(kind for _, kind, _ in lines)
    parts = [
        _counted(kinds[k], one, many)
        for k, one, many in (
            ("email in", "email from them", "emails from them"),
            ("email out", "email to them", "emails to them"),
            ("meeting", "meeting", "meetings"),
            ("posting", "job posting", "job postings"),
            ("application", "application", "applications"),
        )
        if kinds[k]
    ]
    first, last = lines[0][0], lines[-1][0]
    span = f"on {first}" if first == last else f"between {first} and {last}"
    day, kind, label = lines[-1]
    role = (
        "a recruiter sending job requirements"
        if kinds["posting"]
        else "a candidate"
        if kinds["application"]
        else "a contact"
    )
    summary = f'{person} is {role}: {", ".join(parts)} {span}. Latest: {kind} "{label}" on {day}.'
    next_steps = {
        "email in": f'Reply to their email "{label}" of {day}.',
        "posting": f'Submit candidates for "{label.removeprefix("posted: ")}" or decline.',
        "application": "Review the application and answer the candidate.",
        "meeting": f'Follow up on the meeting "{label}".',
    }
    return {"summary": summary, "next_step": next_steps.get(kind), "has_history": True}
