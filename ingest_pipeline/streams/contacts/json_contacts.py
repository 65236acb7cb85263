"""Contacts that providers hand out as JSON: Microsoft Graph ``contact`` resources and
Google People API ``person`` resources, read into the same `ParsedContact` as a vCard.

A source stores the provider's JSON exactly as it came; a removed contact is stored as the
provider's tombstone (Graph: ``{"id", "@removed": {...}}``; People:
``{"resourceName", "metadata": {"deleted": true}}``) and reads as ``deleted``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ingest_pipeline.streams.contacts.contact_record import ContactPhone, ParsedContact
from ingest_pipeline.streams.contacts.normalize import clean_name, normalize_email, normalize_phone
from ingest_pipeline.streams.contacts.vcard_parser import UnparseableCard

# Graph's phone properties and the kind each one is.
_GRAPH_PHONES = (("mobilePhone", "cell"), ("businessPhones", "work"), ("homePhones", "home"))


def is_json_contact(data: bytes) -> bool:
    """Whether ``data`` is a JSON object (a provider's contact) rather than a vCard."""
    return data.lstrip()[:1] == b"{"


def parse_json_contact(data: bytes, *, default_region: str | None = None) -> ParsedContact:
    """The person a Graph contact or People person describes; `UnparseableCard` with the
    reason when it is not JSON, is neither, or holds no name, email or phone."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnparseableCard(f"contact is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise UnparseableCard("contact JSON is not an object")
    if "resourceName" in value:
        return _people(value, default_region)
    if "id" in value:
        return _graph(value, default_region)
    raise UnparseableCard("contact JSON is neither a Graph contact nor a People person")


def _graph(contact: dict[str, Any], default_region: str | None) -> ParsedContact:
    if "@removed" in contact:
        return ParsedContact(full_name="", uid=str(contact["id"]), deleted=True)
    defects: list[str] = []
    emails = _emails(
        (str(e.get("address") or "") for e in _dicts(contact.get("emailAddresses"))), defects
    )
    phones: list[tuple[str, str]] = []
    for field, kind in _GRAPH_PHONES:
        values = contact.get(field)
        for raw in values if isinstance(values, list) else [values]:
            if isinstance(raw, str) and raw.strip():
                phones.append((raw, kind))
    given = _text(contact.get("givenName"))
    family = _text(contact.get("surname"))
    return _person(
        full_name=_text(contact.get("displayName")) or clean_name(f"{given} {family}"),
        given=given,
        family=family,
        emails=emails,
        phones=_phones(phones, defects, default_region),
        organization=_text(contact.get("companyName")),
        title=_text(contact.get("jobTitle")),
        uid=str(contact["id"]),
        photo_urls=(),
        defects=defects,
    )


def _people(person: dict[str, Any], default_region: str | None) -> ParsedContact:
    uid = str(person["resourceName"])
    metadata = person.get("metadata")
    if isinstance(metadata, dict) and metadata.get("deleted"):
        return ParsedContact(full_name="", uid=uid, deleted=True)
    defects: list[str] = []
    names = _dicts(person.get("names"))
    name = names[0] if names else {}
    emails = _emails(
        (str(e.get("value") or "") for e in _dicts(person.get("emailAddresses"))), defects
    )
    phones = [
        (str(p.get("value") or ""), str(p.get("type") or "").lower())
        for p in _dicts(person.get("phoneNumbers"))
    ]
    organizations = _dicts(person.get("organizations"))
    organization = organizations[0] if organizations else {}
    photos = tuple(
        dict.fromkeys(
            str(p["url"])
            for p in _dicts(person.get("photos"))
            if str(p.get("url") or "").startswith(("https://", "http://")) and not p.get("default")
        )
    )
    given = _text(name.get("givenName"))
    family = _text(name.get("familyName"))
    return _person(
        full_name=_text(name.get("displayName")) or clean_name(f"{given} {family}"),
        given=given,
        family=family,
        emails=emails,
        phones=_phones(phones, defects, default_region),
        organization=_text(organization.get("name")),
        title=_text(organization.get("title")),
        uid=uid,
        photo_urls=photos,
        defects=defects,
    )


def _person(
    *,
    full_name: str,
    given: str,
    family: str,
    emails: tuple[str, ...],
    phones: tuple[ContactPhone, ...],
    organization: str,
    title: str,
    uid: str,
    photo_urls: tuple[str, ...],
    defects: list[str],
) -> ParsedContact:
    if not (full_name or emails or phones):
        raise UnparseableCard("contact has no name, email or phone")
    return ParsedContact(
        full_name=full_name,
        given_name=given,
        family_name=family,
        emails=emails,
        phones=phones,
        organization=organization,
        title=title,
        uid=uid,
        photo_urls=photo_urls,
        defects=tuple(defects),
    )


def _emails(values: Iterable[str], defects: list[str]) -> tuple[str, ...]:
    emails: list[str] = []
    for raw in values:
        if not raw.strip():
            continue
        email = normalize_email(raw)
        if email is None:
            defects.append(f"dropped email {raw[:80]!r}: not an address")
        elif email not in emails:
            emails.append(email)
    return tuple(emails)


def _phones(
    values: Iterable[tuple[str, str]], defects: list[str], default_region: str | None
) -> tuple[ContactPhone, ...]:
    phones: dict[str, ContactPhone] = {}
    for raw, kind in values:
        if not raw.strip():
            continue
        phone = normalize_phone(raw.strip(), default_region=default_region, kind=kind)
        if not phone.number:
            defects.append(f"dropped phone {raw[:80]!r}: no digits")
        else:
            phones.setdefault(phone.number, phone)
    return tuple(phones.values())


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: object) -> str:
    return clean_name(value) if isinstance(value, str) else ""
