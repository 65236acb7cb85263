"""Turn one vCard (2.1, 3.0 or 4.0) into a `ParsedContact`.

vobject reads the content lines first. Its higher-level reader is not used: its text
decoding keeps only what precedes the first unescaped comma (``FN:Doe, John`` becomes
``Doe``), which real writers such as Outlook produce all the time. When vobject rejects a
card (vCard 2.1 quoted-printable, Outlook's base64 blocks, an undecodable charset), the
lenient reader in `vcard_lines` takes over and the card's defects say so. Either way the
same code below gives the properties their meaning, so both paths agree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import vobject.base

from ingest_pipeline.streams.contacts.contact_record import (
    ContactPhone,
    ParsedContact,
    UnparseableCard,
)
from ingest_pipeline.streams.contacts.normalize import clean_name, normalize_email, normalize_phone
from ingest_pipeline.streams.contacts.vcard_lines import (
    CardProperty,
    card_body,
    make_property,
    read_properties,
)

# Part of the parse cache key: bump it whenever the same card would parse differently.
PARSER_VERSION = "1"

_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", ":": ":", "\\": "\\"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_HTTP_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_PHONE_KINDS = ("fax", "pager", "cell", "work", "home", "main")
_PHONE_ALIASES = {"mobile": "cell", "iphone": "cell", "cellular": "cell"}
_PHONE_NOISE = frozenset({"voice", "pref", "msg", "text", "video", "internet"})
_GROUP_KINDS = ("KIND", "X-ADDRESSBOOKSERVER-KIND")


def parse_card(data: bytes, *, default_region: str | None = None) -> ParsedContact:
    """The person one card describes; `UnparseableCard` (with the reason a person reads)
    when the card is cut short, is not text, is a contact group, or holds no name, email or
    phone. National phone numbers are read as ``default_region`` (``US``, ``GB``...)."""
    text, defects = _decode(data)
    body = card_body(text)
    try:
        properties = _vobject_properties(body)
    except Exception as exc:  # vobject fails in many ways; the lenient reader answers all
        defects.append(f"not strict vCard ({_describe(exc)}); read leniently")
        properties, tolerated = read_properties(body)
        defects.extend(tolerated)
    return _contact(properties, defects=defects, default_region=default_region)


def _decode(data: bytes) -> tuple[str, list[str]]:
    if b"\x00" in data:
        raise UnparseableCard("card is not text: it holds NUL bytes (UTF-16 or binary data)")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), ["card is not UTF-8; read as Windows-1252"]


def _vobject_properties(body: Sequence[str]) -> list[CardProperty]:
    stream = io.StringIO("\n".join(body))
    properties = []
    for line, number in vobject.base.getLogicalLines(stream, allowQP=True):
        content = vobject.base.textLineToContentLine(line, number)
        properties.append(
            make_property(
                content.name,
                content.value,
                params=content.params,
                bare=content.singletonparams,
                group=content.group,
            )
        )
    return properties


def _describe(exc: Exception) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message[:100]}" if message else type(exc).__name__


def unescape(value: str) -> str:
    """A text value with vCard backslash escapes (``\\n``, ``\\,``, ``\\;``) resolved."""
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), value)


def split_unescaped(value: str, separator: str) -> list[str]:
    """``value`` split at each ``separator`` that no backslash escapes (escapes kept)."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            current.append(value[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _named(properties: Sequence[CardProperty], name: str) -> list[CardProperty]:
    return [prop for prop in properties if prop.name == name]


def _first_text(properties: Sequence[CardProperty], name: str, *, component: bool = False) -> str:
    """The first non-empty value of ``name`` (its first ``;`` component if ``component``)."""
    for prop in _named(properties, name):
        value = split_unescaped(prop.value, ";")[0] if component else prop.value
        text = clean_name(unescape(value))
        if text:
            return text
    return ""


def _name_parts(properties: Sequence[CardProperty]) -> list[str]:
    """N as [family, given, additional, prefix, suffix], each a cleaned display string."""
    for prop in _named(properties, "N"):
        parts = [
            clean_name(" ".join(unescape(item) for item in split_unescaped(component, ",")))
            for component in split_unescaped(prop.value, ";")
        ]
        parts = (parts + [""] * 5)[:5]
        if any(parts):
            return parts
    return [""] * 5


def _emails(properties: Sequence[CardProperty], defects: list[str]) -> tuple[str, ...]:
    emails: list[str] = []
    for prop in _named(properties, "EMAIL"):
        raw = unescape(prop.value).strip()
        email = normalize_email(raw) if raw else None
        if raw and email is None:
            defects.append(f"dropped EMAIL {raw[:80]!r}: not an address")
        elif email and email not in emails:
            emails.append(email)
    return tuple(emails)


def _phone_kind(types: frozenset[str]) -> str:
    kinds = {_PHONE_ALIASES.get(kind, kind) for kind in types}
    for kind in _PHONE_KINDS:
        if kind in kinds:
            return kind
    others = sorted(k for k in kinds if k not in _PHONE_NOISE and not k.startswith("x-"))
    return others[0] if others else ""


def _phones(
    properties: Sequence[CardProperty], defects: list[str], default_region: str | None
) -> tuple[ContactPhone, ...]:
    phones: dict[str, ContactPhone] = {}
    for prop in _named(properties, "TEL"):
        raw = unescape(prop.value).strip()
        if not raw:
            continue
        phone = normalize_phone(raw, default_region=default_region, kind=_phone_kind(prop.types))
        if not phone.number:
            defects.append(f"dropped TEL {raw[:80]!r}: no digits")
        else:
            phones.setdefault(phone.number, phone)
    return tuple(phones.values())


def _photo_urls(properties: Sequence[CardProperty]) -> tuple[str, ...]:
    """Photos given as web addresses; embedded images are left out on purpose, since the
    contact keeps a link, not the picture."""
    urls: list[str] = []
    for prop in _named(properties, "PHOTO"):
        if {item.lower() for item in prop.param("ENCODING")} & {"b", "base64"}:
            continue
        url = unescape(prop.value).strip()
        if _HTTP_URL.fullmatch(url) and url not in urls:
            urls.append(url)
    return tuple(urls)


def _contact(
    properties: Sequence[CardProperty], *, defects: list[str], default_region: str | None
) -> ParsedContact:
    for name in _GROUP_KINDS:
        if _first_text(properties, name).lower() == "group":
            raise UnparseableCard("card is a contact group (KIND:group), not a person")
    family, given, additional, prefix, suffix = _name_parts(properties)
    full_name = _first_text(properties, "FN") or clean_name(
        " ".join([prefix, given, additional, family, suffix])
    )
    emails = _emails(properties, defects)
    phones = _phones(properties, defects, default_region)
    if not (full_name or emails or phones):
        dropped = [defect for defect in defects if defect.startswith("dropped ")]
        detail = f" ({'; '.join(dropped)})" if dropped else ""
        raise UnparseableCard(f"card has no name, email or phone{detail}")
    uids = [unescape(prop.value).strip() for prop in _named(properties, "UID")]
    return ParsedContact(
        full_name=full_name,
        given_name=given,
        family_name=family,
        emails=emails,
        phones=phones,
        organization=_first_text(properties, "ORG", component=True),
        title=_first_text(properties, "TITLE"),
        uid=next((uid for uid in uids if uid), None),
        photo_urls=_photo_urls(properties),
        defects=tuple(defects),
    )
