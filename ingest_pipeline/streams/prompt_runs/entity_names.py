"""Normal forms for the entities that LLM answers mention: brands, companies, products, people.

The daily aggregate counts mentions per entity × model × day, and models write one entity many
ways ("**HubSpot**", "HubSpot, Inc.", "Hubspot's"). Every mention is counted under the key
`normalize_entity` makes of it and shown under its `display_name`. Both are pure functions of
their arguments, and the key of a key is the key itself, so keys can be re-normalised safely.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

# A small alias table; callers may pass their own, which wins. It is intentionally small: only
# renames and abbreviations that always mean the same entity, never a parent company for its
# brands ("alphabet" and "google" stay apart). Keys and values are written as normal keys.
BUILTIN_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "msft": "microsoft",
        "international business machines": "ibm",
        "aws": "amazon web services",
        "amazon.com": "amazon",
        "gcp": "google cloud",
        "google cloud platform": "google cloud",
        "g suite": "google workspace",
        "meta platforms": "meta",
        "facebook": "meta",
        "twitter": "x",
        "salesforce.com": "salesforce",
        "office 365": "microsoft 365",
        "o365": "microsoft 365",
        "ms teams": "microsoft teams",
        "p and g": "procter and gamble",
        "hpe": "hewlett packard enterprise",
        "k8s": "kubernetes",
        "postgres": "postgresql",
    }
)

# Removed before NFKC, which would turn "™" into the letters "TM" ("HubSpot™" → "hubspottm").
_MARKS_AND_INVISIBLES = re.compile("[™®©℠\u200b-\u200d\u2060\ufeff]")
_LINK = re.compile(r"!?\[([^\[\]]*)\](?:\((?:[^()]|\([^()]*\))*\)|\[[^\[\]]*\])")
# Underscores only emphasise at word edges: "snake_case_name" is not "snake" + emphasis.
_EMPHASIS = re.compile(
    r"(\*{1,3}|~~|`+)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\3(?!\w)"
)
_STRAY_MARKERS = re.compile(r"^[*_~`]+|[*_~`]+$")
_QUOTES = "\"'`“”„‟‘’‚‛«»‹›「」『』"
_TRAILING_PUNCTUATION = re.compile(r"[\s.,;:!?]+$")
# A display name keeps ".", "!" and "?", which can belong to it ("Apple Inc.", "Yahoo!").
_TRAILING_SEPARATORS = re.compile(r"[\s,;:]+$")
_LEADING_THE = re.compile(r"^the\s+(?=\S)", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?<=\S)['’][sS]$")
_ACRONYM = re.compile(r"(?<![\w.])[^\W\d_](?:\.[^\W\d_])+\.?(?![\w.])")
_AMPERSAND = re.compile(r"\s*&\s*")
_WORD_JOINER = re.compile(r"(?<=[^\W_])[-_\u2010\u2011]+(?=[^\W_])")

_LEGAL_SUFFIXES: Final = (
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "sarl",
    "bv",
    "nv",
    "ab",
    "asa",
    "oy",
    "oyj",
    "kk",
    "pty ltd",
    "pvt ltd",
    "private limited",
    "holdings",
)
# Dotted forms ("L.L.C.", "S.A.") arrive here with the acronym dots already gone. "SpA" must
# keep its case: a lower-case "spa" is more often a day spa than an Italian company.
_SUFFIX = (
    r"(?:(?i:"
    + "|".join(r"(?:\.\s*|\s+)".join(suffix.split()) for suffix in _LEGAL_SUFFIXES)
    + r")|SpA)\.?"
)
_NAME_THEN_SUFFIX = re.compile(rf"(?P<name>.*?[^\s,])[\s,]+{_SUFFIX}")
_SUFFIX_ALONE = re.compile(_SUFFIX)


def _fixed_point(step: Callable[[str], str], text: str) -> str:
    """``step`` applied until it changes nothing. Every step only removes characters or
    rewrites ones it will not meet again ("&", hyphens, upper case), so this ends."""
    while (stepped := step(text)) != text:
        text = stepped
    return text


def _unwrapped(text: str) -> str:
    """One layer of markup taken off: links, emphasis and quotes, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", _MARKS_AND_INVISIBLES.sub("", text))
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(4), text)
    text = " ".join(_STRAY_MARKERS.sub("", text).split())
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = " ".join(text[1:-1].split())
    return text


def _joiner_as_space(match: re.Match[str]) -> str:
    # Digits on both sides make a range or a code ("2020-21"), not two words.
    before, after = match.string[match.start() - 1], match.string[match.end()]
    return match.group() if before.isdigit() and after.isdigit() else " "


def _without_legal_suffixes(text: str) -> str:
    """The name with trailing legal forms dropped, unless the whole name is one ("Inc.")."""
    if _SUFFIX_ALONE.fullmatch(text):
        return text
    while match := _NAME_THEN_SUFFIX.fullmatch(text):
        name = _TRAILING_PUNCTUATION.sub("", match.group("name"))
        if not name:
            break
        text = name
    return text


def _key_step(text: str) -> str:
    text = _TRAILING_PUNCTUATION.sub("", _unwrapped(text))
    text = _POSSESSIVE.sub("", _LEADING_THE.sub("", text))
    text = _ACRONYM.sub(lambda m: m.group().replace(".", ""), text)
    text = _WORD_JOINER.sub(_joiner_as_space, _AMPERSAND.sub(" and ", text))
    text = _without_legal_suffixes(" ".join(text.split()))
    # One apostrophe for the key: "L’Oréal" and "L'Oréal" are the same company.
    return " ".join(text.casefold().replace("’", "'").split())


def _normal_key(name: str) -> str:
    return _fixed_point(_key_step, name)


def _resolved(variant: str, table: Mapping[str, str]) -> str:
    """Where ``variant`` ends up after following aliases of aliases ("fb" → "facebook" →
    "meta"); a loop is the caller's table contradicting itself or the built-in one."""
    path = [variant]
    key = table[variant]
    while key in table and table[key] != key:
        if key in path:
            loop = [*path[path.index(key) :], key]
            raise ValueError(f"entity aliases form a loop: {' → '.join(loop)}")
        path.append(key)
        key = table[key]
    return key


@functools.lru_cache(maxsize=32)
def _alias_table(caller_aliases: tuple[tuple[str, str], ...]) -> Mapping[str, str]:
    table: dict[str, str] = {}
    for variant, key in (*BUILTIN_ALIASES.items(), *caller_aliases):
        if normal_variant := _normal_key(variant):
            table[normal_variant] = _normal_key(key)
    return MappingProxyType({variant: _resolved(variant, table) for variant in table})


def normalize_entity(name: str, *, aliases: Mapping[str, str] | None = None) -> str:
    """The key that every written form of an entity is counted under: lower case, markup,
    quotes, trailing punctuation, a leading "the", a possessive "'s" and legal suffixes
    ("Inc.", "GmbH", "Pty Ltd"...) removed, "&" read as "and", words joined by hyphens or
    underscores spaced ("Coca-Cola" → "coca cola"), acronym dots dropped ("I.B.M." → "ibm").
    Then an alias maps the key to its entity's main key ("twitter" → "x"): ``aliases`` is
    read over `BUILTIN_ALIASES`, both sides normalised like names. Empty when nothing is
    left. Raises ValueError when the aliases loop ("a" → "b" → "a")."""
    key = _normal_key(name)
    table = _alias_table(tuple(aliases.items()) if aliases else ())
    return table.get(key, key)


def display_name(name: str) -> str:
    """The name as it can be shown: case and punctuation kept, but markdown, surrounding
    quotes, trademark signs and trailing separators (",", ";", ":") removed and whitespace
    collapsed ("**HubSpot**:" → "HubSpot")."""
    return _fixed_point(lambda text: _TRAILING_SEPARATORS.sub("", _unwrapped(text)), name)
