"""OpenAI's Batch API for large extractions: one JSONL file of chat completion requests,
uploaded and run within 24 hours at half the price; results come back as an output file."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace

from ingest_pipeline.domain import ExtractionInput, ExtractionOutcome
from ingest_pipeline.extraction.extractor import ExtractionFailed
from ingest_pipeline.extraction.openai_extractor import OpenAIExtractor, outcome_from_completion
from ingest_pipeline.extraction.tasks import TaskSpec

FINISHED_WITHOUT_RESULTS = ("failed", "expired", "cancelled")
BATCH_PRICE_FACTOR = 0.5  # the Batch API costs half the synchronous price


@dataclass(frozen=True)
class SubmittedBatch:
    """A created batch: its id, its input file, and which request extracts which hash."""

    batch_id: str
    input_file_id: str
    requests: dict[str, str]


@dataclass
class BatchResults:
    """A finished batch: outcomes by content hash, and per-hash errors."""

    status: str
    outcomes: dict[str, ExtractionOutcome] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None


def submit_batch(
    extractor: OpenAIExtractor, task: TaskSpec, inputs: list[ExtractionInput]
) -> SubmittedBatch:
    """Write the JSONL, upload it, and create the batch job."""
    lines = []
    requests: dict[str, str] = {}
    for n, item in enumerate(inputs):
        custom_id = f"req-{n}"
        body, _ = extractor.request_body(task, item)
        lines.append(
            json.dumps(
                {
                    "custom_id": custom_id,
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": body,
                }
            )
        )
        requests[custom_id] = item.content_hash
    payload = ("\n".join(lines) + "\n").encode()
    uploaded = extractor.client.files.create(
        file=("extractions.jsonl", io.BytesIO(payload)), purpose="batch"
    )
    batch = extractor.client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"task": task.name, "prompt_version": task.prompt_version},
    )
    return SubmittedBatch(batch_id=batch.id, input_file_id=uploaded.id, requests=requests)


def collect_batch(
    extractor: OpenAIExtractor, task: TaskSpec, batch_id: str, requests: dict[str, str]
) -> BatchResults:
    """The batch's status and, once completed, every line validated like a direct call."""
    batch = extractor.client.batches.retrieve(batch_id)
    if batch.status in FINISHED_WITHOUT_RESULTS:
        detail = ""
        if batch.errors and batch.errors.data:
            detail = "; ".join(str(e.message) for e in batch.errors.data if e.message)
        return BatchResults(status=batch.status, message=detail or f"batch {batch.status}")
    if batch.status != "completed":
        return BatchResults(status=batch.status)
    results = BatchResults(status="completed")
    # Lines that failed are in the error file, the rest in the output file; match by custom_id.
    content = "\n".join(
        extractor.client.files.content(file_id).text
        for file_id in (batch.output_file_id, batch.error_file_id)
        if file_id
    )
    for line in content.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        digest = requests.get(record.get("custom_id", ""))
        if digest is None:
            continue
        response = record.get("response") or {}
        if record.get("error") or response.get("status_code") != 200:
            error = record.get("error") or (response.get("body") or {}).get("error") or {}
            results.errors[digest] = f"batch request failed: {error.get('message', error)}"
            continue
        try:
            outcome = outcome_from_completion(
                response["body"],
                task=task,
                config=extractor.config,
                request_id=response.get("request_id"),
                truncated=False,
            )
            results.outcomes[digest] = replace(
                outcome,
                cost_usd=round(outcome.cost_usd * BATCH_PRICE_FACTOR, 8),
                extra={**outcome.extra, "batch_id": batch_id},
            )
        except ExtractionFailed as exc:
            results.errors[digest] = str(exc)
    for digest in set(requests.values()) - set(results.outcomes) - set(results.errors):
        results.errors[digest] = "the batch output has no line for this request"
    return results
