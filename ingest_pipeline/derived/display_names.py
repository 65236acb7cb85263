"""People's names as mail headers give them, cleaned, and addresses that are no person.

Headers carry names in quotes (``"'Jane Doe'"``), reversed (``Doe, Jane``), sent through a
service (``Jane Doe via LinkedIn``, ``Jane Doe (via Google Docs)``), or as the address
itself. Shared and machine inboxes (``info@``, ``noreply@``, ``mailer-daemon@``) are role
accounts: mail from them is not a relationship with a person.
"""

from __future__ import annotations

import re

_QUOTES = "\"'“”‘’«»`"
_VIA = re.compile(r"\s*(?:\(\s*via\s+[^)]*\)|\bvia\s+.+)$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_REVERSED = re.compile(r"^([^\s,]+(?:[\s-][^\s,]+)?),\s*([^,]+)$")

# Machine senders: what they send is automated whoever it is about.
MACHINE_LOCAL_PARTS = frozenset(
    {
        "mailer-daemon",
        "postmaster",
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "bounce",
        "bounces",
        "notifications",
        "notification",
        "notify",
        "alerts",
        "automated",
        "daemon",
    }
)
_MACHINE_PREFIXES = ("noreply", "no-reply", "no_reply", "donotreply", "bounce", "mailer-daemon")
# Shared inboxes: people write from them, but no one person.
ROLE_LOCAL_PARTS = frozenset(
    {
        "info",
        "support",
        "help",
        "hello",
        "contact",
        "admin",
        "administrator",
        "billing",
        "sales",
        "team",
        "office",
        "news",
        "newsletter",
        "newsletters",
        "updates",
        "digest",
        "marketing",
        "jobs",
        "careers",
        "hr",
        "recruiting",
        "hiring",
        "talent",
        "webmaster",
        "security",
        "privacy",
        "abuse",
        "feedback",
        "service",
        "customerservice",
        "enquiries",
        "inquiries",
    }
)


def clean_display_name(name: str, email: str = "") -> str:
    """``name`` without quotes, a trailing "via <service>", repeated spaces, or the address
    standing in for a name; ``Doe, Jane`` becomes ``Jane Doe``. Empty when nothing is left."""
    text = _SPACES.sub(" ", name).strip().strip(_QUOTES).strip()
    text = _VIA.sub("", text).strip().strip(_QUOTES).strip()
    if not text or ("@" in text and text.strip("<>").lower() == email.lower()):
        return ""
    if "@" in text and " " not in text:
        return ""
    reversed_name = _REVERSED.match(text)
    if reversed_name:
        text = f"{reversed_name.group(2).strip()} {reversed_name.group(1).strip()}"
    return text


def local_part(email: str) -> str:
    return email.rsplit("@", 1)[0].lower()


def machine_reason(email: str) -> str | None:
    """Why ``email`` is a machine sender (bounces, no-reply, notifications), or None."""
    local = local_part(email)
    if local in MACHINE_LOCAL_PARTS or local.startswith(_MACHINE_PREFIXES):
        return f"machine sender ({local}@)"
    return None


def role_reason(email: str) -> str | None:
    """Why ``email`` is a shared inbox rather than a person, or None."""
    local = local_part(email)
    base = re.split(r"[+.\-_]", local, maxsplit=1)[0]
    if local in ROLE_LOCAL_PARTS or (base in ROLE_LOCAL_PARTS and local != base and len(base) > 2):
        return f"role account ({local}@)"
    return None
