"""Turn one message's extraction result into job-domain rows, or the reason it has none."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.store.mail_records import candidate_key

POSTING_FIELDS = ("title", "company", "location", "remote", "rate", "contact")


@dataclass
class JobRecords:
    """The rows one persist batch writes for the task, keyed so a batch writes each once."""

    postings: list[dict[str, Any]] = field(default_factory=list)
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    applications: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def skip_reason(task: TaskSpec, result: dict[str, Any], *, min_confidence: float) -> str | None:
    """Why this result produces no record (a sentence for the ledger), or None if it does."""
    confidence = float(result.get("confidence") or 0.0)
    what = "a job posting" if task.name == "job_posting" else "a job application"
    if not result.get(task.positive_field):
        return f"not {what} (confidence {confidence:.2f})"
    if confidence < min_confidence:
        return (
            f"looks like {what} but confidence {confidence:.2f} "
            f"is below the {min_confidence:.2f} threshold"
        )
    if task.name == "job_application" and candidate_key(result) is None:
        return "no applicant found: the extraction has neither an email nor a name"
    return None


def add_records(
    records: JobRecords,
    *,
    task: TaskSpec,
    result: dict[str, Any],
    integration_id: int,
    tenant_id: str,
    job_id: int | None,
    message_id: int,
    extraction_id: int,
) -> None:
    """Add the posting, or the candidate and their application, that ``result`` describes."""
    common = {
        "integration_id": integration_id,
        "message_id": message_id,
        "extraction_id": extraction_id,
        "confidence": float(result.get("confidence") or 0.0),
    }
    if task.name == "job_posting":
        posting = {f: result.get(f) for f in POSTING_FIELDS}
        records.postings.append({**common, **posting, "skills": list(result.get("skills") or [])})
        return
    key = candidate_key(result)
    if key is None or job_id is None:
        raise ValueError("an application needs a candidate key and the integration's job id")
    emails = list(result.get("emails") or [])
    records.candidates[key] = {
        "tenant_id": tenant_id,
        "candidate_key": key,
        "name": result.get("name"),
        "email": emails[0] if emails else None,
        "phones": list(result.get("phones") or []),
        "location": result.get("location"),
        "skills": list(result.get("skills") or []),
        "years_experience": result.get("years_experience"),
        "links": list(result.get("links") or []),
        "summary": result.get("summary"),
    }
    records.applications.append((key, {**common, "job_id": job_id}))
