"""A card's content lines, read leniently: what real vCard writers produce, not only the RFCs.

This reader takes over when vobject rejects a card. It unfolds lines by the card's own
version's rule (vCard 2.1 keeps the folding whitespace, 3.0 and 4.0 drop one character),
joins quoted-printable soft line breaks, keeps vCard 2.1 base64 blocks (unindented, ended by
a blank line) together, decodes quoted-printable values with their ``CHARSET``, and files
vCard 2.1 bare parameters (``TEL;CELL;WORK:``) under the parameter they belong to. A line it
cannot read is skipped and named in the defects; the rest of the card still counts.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingest_pipeline.streams.contacts.contact_record import UnparseableCard

_LINE_BREAK = re.compile(r"\r*\n|\r+")
_BEGIN = re.compile(r"BEGIN[ \t]*:[ \t]*VCARD", re.IGNORECASE)
_END = re.compile(r"END[ \t]*:[ \t]*VCARD", re.IGNORECASE)
_AGENT = re.compile(
    r"(?:[A-Za-z0-9-]+\.)?AGENT(?:;[^:]*)?:[ \t]*(?P<inline>BEGIN[ \t]*:[ \t]*VCARD)?[ \t]*",
    re.IGNORECASE,
)
_VERSION = re.compile(r"VERSION[ \t]*:[ \t]*(?P<version>\S+)", re.IGNORECASE)
_PROPERTY = re.compile(
    r"(?:(?P<group>[A-Za-z0-9_-]+)\.)?(?P<name>[A-Za-z0-9_-]+)"
    r'(?P<params>(?:;(?:"[^"]*"|[^":;])*)*):(?P<value>.*)',
    re.DOTALL,
)
_PARAM = re.compile(r'(?:"[^"]*"|[^;"])+')
_BASE64_HEADER = re.compile(r"ENCODING=B(?:ASE64)?\b|;BASE64\b", re.IGNORECASE)
_BARE_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})
_BARE_VALUES = frozenset({"INLINE", "URL", "URI", "CONTENT-ID", "CID"})
_FOLD = (" ", "\t")


@dataclass(frozen=True)
class CardProperty:
    """One content line of a card.

    ``name`` is upper-cased (``EMAIL``); ``group`` is the Apple-style ``item1`` prefix or
    None; ``params`` maps upper-cased parameter names to their values, with ``TYPE`` values
    lower-cased and split at commas and vCard 2.1 bare values filed under ``TYPE``,
    ``ENCODING`` or ``VALUE``; ``value`` is decoded from quoted-printable but still
    backslash-escaped, since only the property's meaning says whether ``;`` splits it.
    """

    name: str
    value: str
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    group: str | None = None

    def param(self, key: str) -> tuple[str, ...]:
        return self.params.get(key.upper(), ())

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self.param("TYPE"))


def make_property(
    name: str,
    value: str,
    *,
    params: Mapping[str, Sequence[str]],
    bare: Sequence[str] = (),
    group: str | None = None,
) -> CardProperty:
    """A `CardProperty` from named parameters and vCard 2.1 bare ones (``CELL``, ``BASE64``)."""
    merged: dict[str, list[str]] = {}
    for key, values in params.items():
        merged.setdefault(key.upper(), []).extend(values)
    for item in bare:
        upper = item.upper()
        key = (
            "ENCODING" if upper in _BARE_ENCODINGS else "VALUE" if upper in _BARE_VALUES else "TYPE"
        )
        merged.setdefault(key, []).append(item)
    if "TYPE" in merged:
        merged["TYPE"] = [
            kind.strip().strip('"').lower()
            for item in merged["TYPE"]
            for kind in item.split(",")
            if kind.strip().strip('"')
        ]
    return CardProperty(
        name=name.upper(),
        value=value,
        params={key: tuple(values) for key, values in merged.items()},
        group=group,
    )


def card_body(text: str) -> list[str]:
    """The card's own lines between BEGIN:VCARD and its END:VCARD, without the lines of a
    card embedded by a vCard 2.1 ``AGENT`` property; `UnparseableCard` if there is no card."""
    lines = _LINE_BREAK.split(text)
    start = next(
        (i for i, line in enumerate(lines) if _BEGIN.fullmatch(line.strip().lstrip("\ufeff"))),
        None,
    )
    if start is None:
        raise UnparseableCard("not a vCard: no BEGIN:VCARD line")
    body: list[str] = []
    depth, agent_pending = 1, False
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if line[:1] in _FOLD or not stripped:
            if depth == 1:
                body.append(line)
            continue
        if _BEGIN.fullmatch(stripped):
            if not agent_pending:
                break
            depth += 1
        elif _END.fullmatch(stripped):
            depth -= 1
            if depth == 0:
                return body
        elif depth == 1:
            body.append(line)
        agent = _AGENT.fullmatch(stripped)
        if agent and agent.group("inline"):
            depth += 1
        agent_pending = agent is not None and agent.group("inline") is None
    raise UnparseableCard("card is truncated: no END:VCARD")


def card_version(body: Sequence[str]) -> str:
    """The card's VERSION (``2.1``, ``3.0``, ``4.0``), ``3.0`` when it names none."""
    for line in body:
        found = _VERSION.fullmatch(line.strip())
        if found:
            return found.group("version")
    return "3.0"


def _header(line: str) -> str:
    return line.split(":", 1)[0]


def _logical_lines(body: Sequence[str], *, keep_fold_space: bool) -> list[str]:
    """Physical lines joined into content lines (folds, QP soft breaks, 2.1 base64 blocks)."""
    joined: list[list[str]] = []
    current: list[str] | None = None
    base64 = False
    for line in body:
        if not line.strip():
            current, base64 = None, False
        elif (
            current is not None
            and "QUOTED-PRINTABLE" in _header(current[0]).upper()
            and current[-1].endswith("=")
        ):
            current[-1] = current[-1][:-1]
            current.append(line)
        elif current is not None and line[:1] in _FOLD:
            current.append(line if keep_fold_space else line[1:])
        elif current is not None and base64 and ":" not in line:
            current.append(line.strip())
        else:
            current = [line]
            joined.append(current)
            base64 = bool(_BASE64_HEADER.search(_header(line)))
    return ["".join(parts) for parts in joined]


def _split_params(text: str) -> tuple[dict[str, list[str]], list[str]]:
    named: dict[str, list[str]] = {}
    bare: list[str] = []
    for item in _PARAM.findall(text):
        key, equals, value = item.partition("=")
        if equals:
            named.setdefault(key.strip().upper(), []).append(value.strip().strip('"'))
        elif item.strip():
            bare.append(item.strip())
    return named, bare


def _decode_quoted_printable(value: str, charset: str | None, name: str, defects: list[str]) -> str:
    raw = quopri.decodestring(value.encode("utf-8"))
    try:
        return raw.decode(charset or "utf-8")
    except LookupError:
        defects.append(f"{name}: unknown charset {charset!r}; read as UTF-8")
        return raw.decode("utf-8", errors="replace")
    except UnicodeDecodeError:
        if charset is None:
            defects.append(f"{name}: quoted-printable value is not UTF-8; read as Windows-1252")
            return raw.decode("cp1252", errors="replace")
        defects.append(f"{name}: value is not valid {charset}; undecodable bytes replaced")
        return raw.decode(charset, errors="replace")


def _property(line: str, defects: list[str]) -> CardProperty | None:
    found = _PROPERTY.fullmatch(line)
    if found is None:
        defects.append(f"skipped a line that is not a property: {line[:60]!r}")
        return None
    name = found.group("name").replace("_", "-").upper()
    named, bare = _split_params(found.group("params"))
    value = found.group("value")
    encodings = [item.upper() for item in named.get("ENCODING", [])]
    if "QUOTED-PRINTABLE" in encodings or any(b.upper() == "QUOTED-PRINTABLE" for b in bare):
        charset = named["CHARSET"][0] if named.get("CHARSET") else None
        value = _decode_quoted_printable(value, charset, name, defects)
        named.pop("ENCODING", None)
        bare = [b for b in bare if b.upper() != "QUOTED-PRINTABLE"]
    return make_property(name, value, params=named, bare=bare, group=found.group("group"))


def read_properties(body: Sequence[str]) -> tuple[list[CardProperty], list[str]]:
    """Every property the reader could make out of the card body, and what it tolerated."""
    keep_fold_space = card_version(body).startswith("2")
    defects: list[str] = []
    properties = [
        prop
        for line in _logical_lines(body, keep_fold_space=keep_fold_space)
        if (prop := _property(line, defects)) is not None
    ]
    return properties, defects
