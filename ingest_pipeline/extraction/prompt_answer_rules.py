"""The offline answer to a prompt of a prompt set: no model is asked.

It answers deterministically from the prompt alone and says so, and lists as entities the
names the prompt itself holds (capitalised words and phrases that do not start a
sentence, words with inner capitals or digits such as "HubSpot" or "GPT-4", and the
names after "like", "such as", "vs"), so that the daily aggregate and its plots work with
no API key.
"""

from __future__ import annotations

import re
from typing import Any

# A name: a capitalised word (or one with inner capitals), optionally followed by more
# capitalised words (joined by "&" or "of"), or a legal suffix.
_WORD = r"(?:[A-Z][\w&.'’-]*[\w]|[a-z]+[A-Z][\w-]*|[A-Z])"
_NAME = re.compile(rf"{_WORD}(?:\s+(?:(?:&|of)\s+)?{_WORD})*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*)$")
# Words that start questions and sentences, and generic acronyms: not names.
_STOP_WORDS = """
A An The I In On At For To Of And Or But What Which Who Whom Whose When Where Why How Is
Are Was Were Do Does Did Can Could Should Would Will Please List Name Give Compare Tell
Recommend Suggest Best Top
CRM ATS ERP API AI ML LLM GPU CPU HR IT ETL SQL UI UX B2B B2C SaaS USD EUR
"""
_STOP = frozenset(_STOP_WORDS.split())
OFFLINE_NOTE = "Offline answer: no language model was asked (INGEST_EXTRACTOR=offline)."


def _names(text: str) -> list[str]:
    names: list[str] = []
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        # A sentence's first word is capitalised anyway: drop it when it is a common word.
        while words and words[0].strip(".,") in _STOP:
            words = words[1:]
        if not words or (len(words) == 1 and _LEGAL_SUFFIX.fullmatch(words[0])):
            continue
        name = " ".join(words).rstrip(".,'’")
        stripped = len(words) != len(match.group(0).split())
        starts_sentence = not stripped and _SENTENCE_START.search(text[: match.start()])
        if starts_sentence and len(words) == 1 and name.istitle() and len(name) < 4:
            continue
        if name and name not in names:
            names.append(name)
    return names


_LEGAL_SUFFIX = re.compile(r"(?:Inc|Corp|Co|GmbH|Ltd|LLC|AG|SA|plc)\.?")


def _entity_type(name: str) -> str:
    if re.search(rf"\b{_LEGAL_SUFFIX.pattern}", name):
        return "company"
    if any(ch.isdigit() for ch in name):
        return "product"
    return "other"


def answer_prompt(text: str) -> dict[str, Any]:
    """A `PromptAnswer` result for ``text``: the same for the same prompt, every time."""
    names = _names(text)
    if not names:
        return {"answer": f"{OFFLINE_NOTE} The prompt names no entity.", "entities": []}
    answer = f"{OFFLINE_NOTE} The prompt names: "
    entities = []
    for n, name in enumerate(names):
        answer += ", " if n else ""
        entities.append(
            {"name": name, "type": _entity_type(name), "normalized": name, "position": len(answer)}
        )
        answer += name
    return {"answer": answer + ".", "entities": entities}
