"""Files and batches as the fake OpenAI stores them, shaped like ``openai.types.FileObject`` and
``openai.types.Batch``: upload and batch-creation checks, the checks OpenAI runs on a batch's
JSONL input file, and the end states a batch reaches (completed, expired, failed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest_pipeline_tests.fakes.openai_http import Reply, error_reply, json_reply, parse_multipart

FILE_PURPOSES = frozenset(
    {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}
)  # what a client may upload ("batch_output" etc. are written by OpenAI only)
BATCH_ENDPOINTS = frozenset({"/v1/chat/completions"})  # the only one this fake runs
OPEN_STATUSES = ("validating", "in_progress")
EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."


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


def read_upload(content_type: str, raw: bytes) -> tuple[str, str, bytes] | Reply:
    """The ``POST /v1/files`` form -> (filename, purpose, bytes), or a 400 `Reply`."""
    if not content_type.lower().startswith("multipart/form-data"):
        return error_reply(400, "The request must be multipart/form-data.")
    try:
        fields = parse_multipart(content_type, raw)
    except ValueError as exc:
        return error_reply(400, str(exc))
    purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace")
    filename, data = fields.get("file", (None, b""))
    if filename is None:
        return error_reply(400, "Missing required parameter: 'file'.", param="file")
    if purpose not in FILE_PURPOSES:
        return error_reply(400, f"Invalid value for purpose: {purpose!r}.", param="purpose")
    return filename, purpose, data


def check_batch_request(payload: Any) -> Reply | None:
    """The ``POST /v1/batches`` parameter checks -> a 400 `Reply`, or None when acceptable."""
    if not isinstance(payload, dict):
        return error_reply(400, "The request body must be a JSON object.")
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(payload.get(name), str):
            message = f"Missing required parameter: '{name}'."
            return error_reply(400, message, param=name, code="missing_required_parameter")
    if payload["endpoint"] not in BATCH_ENDPOINTS:
        message = f"Unsupported endpoint {payload['endpoint']!r} (the fake runs chat only)."
        return error_reply(400, message, param="endpoint")
    if payload["completion_window"] != "24h":
        message = "Invalid 'completion_window': only '24h' is supported."
        return error_reply(400, message, param="completion_window")
    metadata = payload.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and len(metadata) <= 16
        and all(isinstance(v, str) and len(k) <= 64 and len(v) <= 512 for k, v in metadata.items())
    ):
        return error_reply(400, "Invalid 'metadata'.", param="metadata")
    return None


AddFile = Callable[[str, str, bytes], StoredFile]  # (filename, purpose, data) -> stored


def settle_batch(
    batch: StoredBatch, answers: list[dict[str, Any]], add_file: AddFile, now: int
) -> None:
    """Write a run batch's files (200 answers -> output, others -> error) and complete it."""
    ok = [a for a in answers if a["response"]["status_code"] == 200]
    bad = [a for a in answers if a["response"]["status_code"] != 200]
    if ok:
        batch.output_file_id = add_file(f"{batch.id}_output.jsonl", "batch_output", jsonl(ok)).id
    if bad:
        batch.error_file_id = add_file(f"{batch.id}_error.jsonl", "batch_output", jsonl(bad)).id
    batch.completed, batch.failed = len(ok), len(bad)
    for answer in ok:
        usage = answer["response"]["body"]["usage"]
        batch.usage["input"] += usage["prompt_tokens"]
        batch.usage["output"] += usage["completion_tokens"]
    for status in ("in_progress", "finalizing", "completed"):
        batch.set_status(status, now)


def expire_batch(
    batch: StoredBatch, new_id: Callable[[str], str], add_file: AddFile, now: int
) -> None:
    """``expired``: no output file; each line goes to the error file as ``batch_expired``."""
    lines = [
        {
            "id": new_id("batch_req_"),
            "custom_id": line.custom_id,
            "response": None,
            "error": {"code": "batch_expired", "message": EXPIRED_MESSAGE},
        }
        for line in batch.lines
    ]
    if lines:
        batch.error_file_id = add_file(f"{batch.id}_error.jsonl", "batch_output", jsonl(lines)).id
    batch.failed = len(lines)
    batch.set_status("expired", now)


def fail_batch(batch: StoredBatch, now: int) -> None:
    """``failed`` with ``errors.data = [{"code": "batch_failed", ...}]``."""
    message = "The batch failed due to an internal error."
    batch.errors = [{"code": "batch_failed", "message": message, "param": None, "line": None}]
    batch.set_status("failed", now)


def create_batch(
    payload: dict[str, Any], files: dict[str, StoredFile], batch_id: str, now: int
) -> StoredBatch | Reply:
    """A checked ``POST /v1/batches`` body -> the batch (``validating``, or ``failed`` with
    ``errors.data`` when the input file has a malformed line), or a 4xx `Reply`."""
    stored = files.get(payload["input_file_id"])
    if stored is None:
        message = f"No such File object: {payload['input_file_id']}"
        return error_reply(404, message, param="input_file_id")
    if stored.purpose != "batch":
        message = "The input file must be uploaded with purpose 'batch'."
        return error_reply(400, message, param="input_file_id")
    endpoint = payload["endpoint"]
    lines, errors = parse_batch_input(stored.data, endpoint)
    batch = StoredBatch(batch_id, stored.id, endpoint, "24h", now, payload.get("metadata"), lines)
    if errors:
        batch.lines, batch.errors = [], errors
        batch.set_status("failed", now)
    return batch


def cancel_batch(batch: StoredBatch, now: int) -> Reply:
    """``POST /v1/batches/{id}/cancel``: open -> ``cancelling`` (the fake makes it
    ``cancelled`` when next read); a finished batch answers 400."""
    if batch.status in OPEN_STATUSES:
        batch.set_status("cancelling", now)
    elif batch.status not in ("cancelling", "cancelled"):
        return error_reply(400, f"Cannot cancel a batch with status '{batch.status}'.")
    return json_reply(200, batch.json())


def batch_list(batches: list[StoredBatch]) -> dict[str, Any]:
    """``GET /v1/batches``: newest first, one page."""
    data = [b.json() for b in reversed(batches)]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": False}
