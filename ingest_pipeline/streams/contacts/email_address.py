"""The normal form of an email address, shared by every reader of people: contacts from any
source, and the people of mail (kept apart from `normalize` so that mail code does not load
libphonenumber)."""

from __future__ import annotations

import re

_ADDRESS_CHAR = r"[^@\s<>()\[\],;:\"\\]"
_ADDRESS = re.compile(rf"{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+")
_ANGLE = re.compile(r"<([^<>]*)>")


def normalize_email(value: str) -> str | None:
    """The address in lower case, without ``mailto:``, display name or angle brackets, or
    None when the value is not an address (``name@domain.tld``)."""
    text = value.strip()
    angled = _ANGLE.search(text)
    if angled:
        text = angled.group(1).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].split("?", 1)[0].strip()
    text = text.strip("<>").strip().lower()
    if not _ADDRESS.fullmatch(text) or ".." in text or text.endswith("."):
        return None
    return text
