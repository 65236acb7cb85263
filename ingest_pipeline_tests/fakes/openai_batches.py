"""Files and batches as the fake OpenAI stores them, shaped like ``openai.types.FileObject`` and
``openai.types.Batch``, and the checks OpenAI runs on a batch's JSONL input file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FILE_PURPOSES = frozenset(
    {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}
)  # what a client may upload ("batch_output" etc. are written by OpenAI only)
BATCH_ENDPOINTS = frozenset({"/v1/chat/completions"})  # the only one this fake runs
OPEN_STATUSES = ("validating", "in_progress")


@dataclass
class StoredFile:
    """One uploaded (or batch-written) file."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def json(self) -> dict[str, Any]:
        """The ``FileObject`` OpenAI answers for ``POST /v1/files`` and ``GET /v1/files/{id}``."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
            "expires_at": None,
        }


@dataclass
class BatchLine:
    """One request of a batch input file."""

    custom_id: str
    body: dict[str, Any]


@dataclass
class StoredBatch:
    """One batch and its lifecycle (``validating`` -> ``completed``/``expired``/...)."""

    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    created_at: int
    metadata: dict[str, str] | None
    lines: list[BatchLine] = field(default_factory=list)
    status: str = "validating"
    errors: list[dict[str, Any]] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    usage: dict[str, int] = field(default_factory=lambda: {"input": 0, "output": 0})
    times: dict[str, int] = field(default_factory=dict)  # "completed" -> completed_at ...

    def set_status(self, status: str, now: int) -> None:
        """Move to ``status`` and stamp ``<status>_at``."""
        self.status = status
        self.times[status] = now

    def json(self) -> dict[str, Any]:
        """The ``Batch`` OpenAI answers for ``POST /v1/batches`` and ``GET /v1/batches/{id}``."""
        models = {line.body.get("model") for line in self.lines}
        data = {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": models.pop() if len(models) == 1 else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "errors": None if self.errors is None else {"object": "list", "data": self.errors},
            "created_at": self.created_at,
            "expires_at": self.created_at + 24 * 3600,
            "request_counts": {
                "total": len(self.lines),
                "completed": self.completed,
                "failed": self.failed,
            },
            "usage": {
                "input_tokens": self.usage["input"],
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": self.usage["output"],
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": self.usage["input"] + self.usage["output"],
            },
            "metadata": self.metadata,
        }
        for stamp in (
            "in_progress",
            "finalizing",
            "completed",
            "failed",
            "expired",
            "cancelling",
            "cancelled",
        ):
            data[f"{stamp}_at"] = self.times.get(stamp)
        return data


def _line_error(line: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def parse_batch_input(data: bytes, endpoint: str) -> tuple[list[BatchLine], list[dict[str, Any]]]:
    """Check a batch input file as OpenAI does before running it -> (lines, errors).

    Every non-blank line must be ``{"custom_id": str, "method": "POST", "url": <endpoint>,
    "body": {...}}``; custom_ids must be unique and all lines must name the same model.
    Errors are ``Batch.errors.data`` items (1-based ``line``).
    """
    lines: list[BatchLine] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    models: set[Any] = set()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], [_line_error(1, "invalid_file_format", "The input file is not UTF-8.")]
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError:
            errors.append(_line_error(number, "invalid_json_line", "This line is not valid JSON."))
            continue
        if not isinstance(item, dict):
            errors.append(_line_error(number, "invalid_json_line", "A line must be an object."))
            continue
        custom_id, body = item.get("custom_id"), item.get("body")
        problem: tuple[str, str, str] | None = None
        if not isinstance(custom_id, str) or not custom_id:
            problem = ("missing_required_parameter", "Missing 'custom_id'.", "custom_id")
        elif custom_id in seen:
            problem = ("duplicate_custom_id", f"Duplicate custom_id {custom_id!r}.", "custom_id")
        elif item.get("method") != "POST":
            problem = ("invalid_method", "The method must be 'POST'.", "method")
        elif item.get("url") != endpoint:
            problem = ("invalid_url", f"The url must be {endpoint!r}.", "url")
        elif not isinstance(body, dict):
            problem = ("missing_required_parameter", "Missing 'body' object.", "body")
        if problem is not None:
            errors.append(_line_error(number, *problem))
            continue
        assert isinstance(custom_id, str) and isinstance(body, dict)
        seen.add(custom_id)
        models.add(body.get("model"))
        if len(models) > 1:
            message = "All requests in a batch must use the same model."
            errors.append(_line_error(number, "mismatched_model", message, "body.model"))
            continue
        lines.append(BatchLine(custom_id, body))
    if not lines and not errors:
        errors.append(_line_error(1, "empty_file", "The batch input file is empty."))
    return lines, errors


def jsonl(items: list[dict[str, Any]]) -> bytes:
    """JSON lines, one per item, each ending with a newline."""
    return "".join(json.dumps(item) + "\n" for item in items).encode()
