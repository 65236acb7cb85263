"""A rule-based extractor that needs no network and no API key.

It reads the same task inputs an LLM extractor would (see ``tasks.py``) and fills the same
schemas from keyword signals, labelled lines ("Title:", "Location:") and regexes. Its results
are labelled as offline in ``ExtractionOutcome.extra`` and cost nothing. It is deterministic:
the same input always gives the same outcome, so it is safe behind the extraction cache.

The rules per task live in ``job_posting_rules`` and ``job_application_rules``; the text
finders they share are in ``skills_vocabulary``, ``contact_finders``, ``field_finders``,
``posting_fields``, ``resume_fields`` and ``task_input_layout``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ingest_pipeline.domain import ExtractionInput, ExtractionOutcome
from ingest_pipeline.extraction.extractor import ExtractionFailed
from ingest_pipeline.extraction.job_application_rules import extract_job_application
from ingest_pipeline.extraction.job_posting_rules import extract_job_posting
from ingest_pipeline.extraction.prompt_answer_rules import answer_prompt
from ingest_pipeline.extraction.relationship_insight_rules import extract_relationship_insight
from ingest_pipeline.extraction.tasks import TaskSpec

OFFLINE_MODEL = "offline-rules-1"
OFFLINE_EXTRA: dict[str, str] = {
    "extractor": "offline",
    "note": "rule-based offline extractor; no LLM was called",
}

_RULES: dict[str, Callable[[str], dict[str, Any]]] = {
    "job_posting": extract_job_posting,
    "job_application": extract_job_application,
    "relationship_insight": extract_relationship_insight,
    "prompt_answer": answer_prompt,
}


class OfflineExtractor:
    """The ``Extractor`` that runs keyword rules locally: no network, no key, no cost.

    Its outcomes carry ``model="offline-rules-1"`` (so cached results never mix with an
    LLM's) and ``extra={"extractor": "offline", ...}`` so readers can tell them apart.
    """

    model: str = OFFLINE_MODEL

    def extract(self, task: TaskSpec, item: ExtractionInput) -> ExtractionOutcome:
        rule = _RULES.get(task.name)
        if rule is None:
            known = ", ".join(sorted(_RULES))
            raise ExtractionFailed(
                f"offline extractor has no rules for task {task.name!r}; it supports: {known}"
            )
        try:
            result = task.schema.model_validate(rule(item.text)).model_dump()
        except ValidationError as exc:
            raise ExtractionFailed(f"offline {task.name} result failed validation: {exc}") from exc
        return ExtractionOutcome(
            result=result,
            model=self.model,
            prompt_version=task.prompt_version,
            input_tokens=len(item.text) // 4,
            output_tokens=len(json.dumps(result, sort_keys=True)) // 4,
            cost_usd=0.0,
            request_id=None,
            extra=dict(OFFLINE_EXTRA),
        )
