"""Where the entities an answer lists sit in it, and what each counts as.

The model's own offsets are checked against the answer (a model miscounts often); a name
it lists but never wrote stays a mention with no position. Each mention is counted under
`normalize_entity` of its name (the model's ``normalized`` when it wrote no name); one
that normalises to nothing (punctuation, markup only) is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingest_pipeline.streams.prompt_runs.entity_names import display_name, normalize_entity

MAX_NAME = 300


@dataclass(frozen=True)
class LocatedMention:
    """One mention as stored: its order in the answer's list, name as written, type, the
    normalised entity, and its character offset in the answer (None: not in it)."""

    ordinal: int
    name: str
    entity_type: str
    entity: str
    position: int | None


def locate(answer: str, name: str, claimed: int | None) -> int | None:
    """The offset of ``name`` in ``answer``: the model's ``claimed`` offset when the name
    is there, else its first occurrence (exact, then ignoring case), else None."""
    if not name:
        return None
    if claimed is not None and claimed >= 0 and answer[claimed : claimed + len(name)] == name:
        return claimed
    found = answer.find(name)
    if found >= 0:
        return found
    # A regular expression keeps offsets right where lower-casing changes a text's length
    # ("İ" lower-cases to two characters).
    match = re.search(re.escape(name), answer, re.IGNORECASE)
    return match.start() if match else None


def located_mentions(answer: str, entities: Sequence[dict[str, Any]]) -> list[LocatedMention]:
    """The answer's listed entities as stored mentions, in the order the model listed them."""
    mentions: list[LocatedMention] = []
    for listed in entities:
        name = display_name(str(listed.get("name") or "")).strip()
        if not name:
            name = display_name(str(listed.get("normalized") or "")).strip()
        entity = normalize_entity(name)
        if not entity:
            continue
        claimed = listed.get("position")
        mentions.append(
            LocatedMention(
                ordinal=len(mentions),
                name=name[:MAX_NAME],
                entity_type=str(listed.get("type") or "other")[:32],
                entity=entity[:MAX_NAME],
                position=locate(answer, name, claimed if isinstance(claimed, int) else None),
            )
        )
    return mentions
