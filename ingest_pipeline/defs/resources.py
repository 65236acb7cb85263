"""Resources the ingest ops use: the app database and the extractor."""

from __future__ import annotations

import dagster as dg

from ingest_pipeline.extraction.extractor import Extractor
from ingest_pipeline.settings import get_settings


class AppDatabaseResource(dg.ConfigurableResource):
    """The app database. ``url`` overrides ``INGEST_DATABASE_URL`` (default: embedded SQLite)."""

    url: str | None = None

    def database_url(self) -> str:
        return self.url or get_settings().app_database_url()


class ExtractorResource(dg.ConfigurableResource):
    """Which extractor runs the gpt step, and the confidence below which items are skipped.

    ``kind="offline"`` is the deterministic rule-based extractor that needs no API key; its
    results are labelled ``offline-rules`` in ``llm_extractions.model``.
    """

    kind: str | None = None
    min_confidence: float | None = None

    def resolved_min_confidence(self) -> float:
        return (
            self.min_confidence
            if self.min_confidence is not None
            else get_settings().min_confidence
        )

    def build(self) -> Extractor:
        settings = get_settings()
        kind = self.kind or settings.extractor
        if kind == "offline":
            from ingest_pipeline.extraction.offline_extractor import OfflineExtractor

            return OfflineExtractor()
        if kind == "openai":
            from ingest_pipeline.extraction.openai_extractor import OpenAIConfig, OpenAIExtractor

            if not settings.openai_api_key:
                raise dg.Failure(
                    description="INGEST_EXTRACTOR=openai needs INGEST_OPENAI_API_KEY "
                    "(or OPENAI_API_KEY)",
                    allow_retries=False,
                )
            return OpenAIExtractor(
                OpenAIConfig(
                    api_key=settings.openai_api_key,
                    model=settings.openai_model,
                    base_url=settings.openai_base_url,
                    timeout_seconds=settings.openai_timeout_seconds,
                    max_retries=settings.openai_max_retries,
                    max_input_tokens=settings.openai_max_input_tokens,
                    input_price_per_million=settings.openai_input_price_per_million,
                    output_price_per_million=settings.openai_output_price_per_million,
                )
            )
        raise dg.Failure(
            description=f"unknown extractor {kind!r}; set INGEST_EXTRACTOR to offline or openai",
            allow_retries=False,
        )


class IngestLimitsResource(dg.ConfigurableResource):
    """Per-run knobs: batch size, attachment cap, and the failed share the metrics check allows."""

    batch_size: int | None = None
    attachment_max_bytes: int | None = None
    max_failed_share: float | None = None

    def resolved(self) -> tuple[int, int, float]:
        settings = get_settings()
        return (
            self.batch_size or settings.batch_size,
            self.attachment_max_bytes or settings.attachment_max_bytes,
            self.max_failed_share
            if self.max_failed_share is not None
            else settings.max_failed_share,
        )
