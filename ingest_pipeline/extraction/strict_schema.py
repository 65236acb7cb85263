"""A pydantic model's JSON schema in the form OpenAI's strict structured outputs accept:
every property required (optional ones nullable), no additional properties, no defaults,
and no value constraints (pydantic checks those when the answer comes back)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

DROPPED = {
    "default",
    "title",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
}


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    result: dict[str, Any] = _strict(model.model_json_schema())
    return result


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    strict = {k: _strict(v) for k, v in node.items() if k not in DROPPED and k != "properties"}
    if "properties" in node:
        strict["properties"] = {name: _strict(s) for name, s in node["properties"].items()}
        strict["required"] = list(node["properties"])
        strict["additionalProperties"] = False
    return strict
