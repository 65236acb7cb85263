"""Contact details in free text: email addresses, phone numbers and personal links.

Each finder returns what it found in order of first appearance, normalised and without
duplicates; mailboxes that take no replies and tracking or unsubscribe links are left out.
"""

from __future__ import annotations

import re

EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
NO_REPLY_RE = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)",
    re.IGNORECASE,
)
PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    r"\+1[\s.-]?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}"  # +1 NANP
    r"|\+[2-9]\d{0,2}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,5}(?:[\s.-]?\d{2,5}){1,4}"  # other +CC
    r"|(?:1[\s.-])?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}"  # national US
    r")(?!\w)"
)
URL_RE = re.compile(r"https?://[^\s<>()\"'\[\]]+", re.IGNORECASE)
PROFILE_RE = re.compile(
    r"(?<![\w./])(?:www\.)?(?:linkedin\.com/in/|github\.com/)[A-Za-z0-9_.%/-]+", re.IGNORECASE
)
_JUNK_URL_RE = re.compile(r"unsubscribe|optout|opt-out|tracking|/click\?", re.IGNORECASE)
_PROFILE_HOST_RE = re.compile(r"(?:^|//|\.)(?:linkedin\.com|github\.com)/", re.IGNORECASE)


def find_emails(text: str) -> list[str]:
    """Lowercased addresses in order of appearance, without no-reply style mailboxes."""
    found: list[str] = []
    for match in EMAIL_RE.finditer(text):
        email = match.group(0).lower().strip(".")
        if not NO_REPLY_RE.match(email) and email not in found:
            found.append(email)
    return found


def normalise_phone(raw: str) -> str:
    """Digits only, keeping a leading ``+`` (and whatever country code was written)."""
    digits = re.sub(r"\D", "", raw)
    return f"+{digits}" if raw.strip().startswith("+") else digits


def find_phones(text: str) -> list[str]:
    """Normalised phone numbers; two spellings of the same national number count once."""
    found: list[str] = []
    seen: set[str] = set()
    for match in PHONE_RE.finditer(text):
        phone = normalise_phone(match.group(0))
        digits = phone.lstrip("+")
        if not 10 <= len(digits) <= 15 or digits[-10:] in seen:
            continue
        seen.add(digits[-10:])
        found.append(phone)
    return found


def _clean_url(url: str) -> str:
    url = url.rstrip(".,;:!?'\")]}>/")
    return url if re.match(r"https?://", url, re.IGNORECASE) else f"https://{url}"


def find_links(text: str, *, profiles_only: bool) -> list[str]:
    """LinkedIn/GitHub profile links and, unless ``profiles_only``, other personal URLs."""
    candidates = sorted(
        [(m.start(), m.group(0)) for m in URL_RE.finditer(text)]
        + [(m.start(), m.group(0)) for m in PROFILE_RE.finditer(text)]
    )
    found: list[str] = []
    keys: set[str] = set()
    for _, raw in candidates:
        url = _clean_url(raw)
        key = re.sub(r"^https?://(?:www\.)?", "", url.lower()).rstrip("/")
        is_profile = bool(_PROFILE_HOST_RE.search(url))
        if key in keys or _JUNK_URL_RE.search(url) or (profiles_only and not is_profile):
            continue
        keys.add(key)
        found.append(url)
    return found
