"""The interface every extractor implements (offline rules today, OpenAI next)."""

from __future__ import annotations

from typing import Protocol

from ingest_pipeline.domain import ExtractionInput, ExtractionOutcome
from ingest_pipeline.extraction.tasks import TaskSpec


class ExtractionFailed(Exception):
    """The extractor could not produce a valid result for this one item (the reason says why)."""


class Extractor(Protocol):
    """Turns one task input into a result that validates against ``task.schema``.

    ``model`` and the task's prompt version together with the input's content hash form the
    cache key, so an extractor must change ``model`` whenever its behaviour changes.
    """

    model: str

    def extract(self, task: TaskSpec, item: ExtractionInput) -> ExtractionOutcome: ...
