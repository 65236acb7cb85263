"""Normal forms for what identifies a person across address books: email, phone, name.

Contacts from different sources are matched on these values, so every source's parser must
produce the same form for the same address or number.
"""

from __future__ import annotations

import re

import phonenumbers

from ingest_pipeline.streams.contacts.contact_record import ContactPhone

# Re-exported: contacts code reads every normal form from here.
from ingest_pipeline.streams.contacts.email_address import normalize_email as normalize_email

_EXTENSION = re.compile(r"\s*(?:;\s*ext=|ext\.?|x|#)\s*\d+\s*$", re.IGNORECASE)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}


def _cleaned_number(text: str) -> str:
    """The digits as written, with a leading ``+`` kept and an extension left out."""
    number = _EXTENSION.sub("", text.split(";", 1)[0])
    digits = re.sub(r"\D", "", number)
    return f"+{digits}" if number.lstrip().startswith("+") and digits else digits


def normalize_phone(value: str, *, default_region: str | None, kind: str = "") -> ContactPhone:
    """The number in E.164 (``+14155550100``) when libphonenumber finds a valid number in
    it, reading national numbers as ``default_region`` (``US``, ``GB``...); otherwise the
    digits as written (``e164=False``), empty when the value holds none."""
    text = value.strip()
    if text[:4].lower() == "tel:":
        text = text[4:].strip()
    region = default_region.upper() if default_region else None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return ContactPhone(number=_cleaned_number(text), e164=False, kind=kind)
    if phonenumbers.is_valid_number(parsed):
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return ContactPhone(number=e164, e164=True, kind=kind)
    return ContactPhone(number=_cleaned_number(text), e164=False, kind=kind)


def clean_name(value: str) -> str:
    """A display name on one line: whitespace collapsed, surrounding quotes removed."""
    text = " ".join(value.split())
    while len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = " ".join(text[1:-1].split())
    return text
