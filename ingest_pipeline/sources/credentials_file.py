"""Reading a credentials file a person hands to ``integrations add``."""

from __future__ import annotations

import json
from typing import Any

from ingest_pipeline.sources.base import SourceError


def read_json_object(path: str) -> dict[str, Any]:
    """The JSON object in ``path``; `SourceError` saying what is wrong with the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    except OSError as exc:
        raise SourceError(f"cannot read credentials file {path!r}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise SourceError(f"credentials file {path!r} is not JSON: {exc.msg}") from exc
    if not isinstance(info, dict):
        raise SourceError(f"credentials file {path!r} must hold a JSON object")
    return info
