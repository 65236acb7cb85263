"""What an LLM is shown of an email: invisible characters removed, cut to a token budget,
and fenced as untrusted data after the instructions."""

from __future__ import annotations

import re

from ingest_pipeline.parsing.html_text import strip_zero_width

CHARS_PER_TOKEN = 4  # a conservative average for English mail; no tokenizer download needed
# Bidirectional overrides and other format controls can hide or reorder text on screen.
_FORMAT_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_FENCE = re.compile(r"^(<<<EMAIL|EMAIL>>>)\s*$", re.MULTILINE)


def prepare_text(text: str, *, max_tokens: int) -> tuple[str, bool]:
    """The text without invisible characters, cut to about ``max_tokens``; and whether cut."""
    clean = _FORMAT_CONTROLS.sub("", strip_zero_width(text))
    clean = _FENCE.sub("[fence removed]", clean)
    limit = max_tokens * CHARS_PER_TOKEN
    if len(clean) <= limit:
        return clean, False
    return clean[:limit] + "\n[truncated]", True


def delimited_email(text: str) -> str:
    """The email between the markers the versioned prompts name."""
    return f"<<<EMAIL\n{text}\nEMAIL>>>"
