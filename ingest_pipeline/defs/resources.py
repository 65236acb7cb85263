"""Resources the ingest ops use. Each carries its settings as fields: `build_definitions`
fills them from `settings.py` (secrets as `dg.EnvVar`, so the UI shows a variable's name,
never its value), tests set them directly, and no op reads the environment."""

import os
from typing import Any

import dagster as dg

from ingest_pipeline.extraction.extractor import Extractor
from ingest_pipeline.extraction.llm_pacing_stores import pacing_url_for
from ingest_pipeline.settings import Settings
from ingest_pipeline.steps.step_context import LeaseTerms
from ingest_pipeline.streams.stream_kind import ParseOptions

# The share of a provider's rate limits the pacer uses (network jitter takes the rest).
PACING_HEADROOM = 0.95


def _default(name: str) -> Any:
    """The default of one setting, so a resource built without settings matches them."""
    return Settings.model_fields[name].default


class AppDatabaseResource(dg.ConfigurableResource):
    """The app database's SQLAlchemy URL (SQLite embedded, Postgres in production), and the
    tenants whose integrations this deployment's sensors and schedules serve (None: all;
    ``INGEST_TENANTS``)."""

    url: str
    tenants: list[str] | None = None

    def database_url(self) -> str:
        return self.url


class CredentialsResource(dg.ConfigurableResource):
    """The Fernet key that decrypts integrations' stored credentials (None: none stored)."""

    key: str | None = None


class ExtractorResource(dg.ConfigurableResource):
    """Which extractor runs the gpt step, and the confidence below which items are skipped.

    ``kind="offline"`` is the deterministic rule-based extractor that needs no API key; its
    results are labelled ``offline-rules`` in ``llm_extractions.model``. ``kind="openai"``
    calls any OpenAI-compatible endpoint with ``openai_api_key``.
    """

    kind: str = _default("extractor")
    min_confidence: float = _default("min_confidence")
    batch_threshold: int | None = None
    concurrency: int = _default("llm_concurrency")
    daily_budget_usd: float | None = None
    rpm: int | None = None
    tpm: int | None = None
    pacing_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str = _default("openai_model")
    openai_base_url: str | None = None
    openai_timeout_seconds: float = _default("openai_timeout_seconds")
    openai_max_retries: int = _default("openai_max_retries")
    openai_max_input_tokens: int = _default("openai_max_input_tokens")
    openai_api_model: str | None = None
    openai_input_price_per_million: float = 0.15
    openai_output_price_per_million: float = 0.60
    structured_outputs: bool = True
    tokenizer: str | None = None
    # What the per-item model router (prompt runs) reads: the models registry's extra
    # entries (INGEST_MODELS) and each provider's key.
    models_json: str | None = None
    openrouter_api_key: str | None = None
    azure_api_key: str | None = None
    compatible_api_key: str | None = None

    def router(self) -> Any:
        """The extractor of streams whose items name their model (`ModelRouter`): every
        registry model, the providers' keys, the pacer over every model with limits."""
        from ingest_pipeline.extraction.model_router import ModelRouter
        from ingest_pipeline.extraction.models_registry import load_registry

        if self.kind not in ("offline", "openai"):
            self.build()  # the clear error about an unknown extractor
        registry = load_registry(self.models_json)
        keys = {
            "OPENAI_API_KEY": self.openai_api_key,
            "INGEST_OPENAI_API_KEY": self.openai_api_key,
            "OPENROUTER_API_KEY": self.openrouter_api_key,
            "AZURE_OPENAI_API_KEY": self.azure_api_key,
            "LLM_API_KEY": self.compatible_api_key,
        }
        pacer = None
        if self.kind == "openai" and self.pacing_url:
            from ingest_pipeline.extraction.llm_pacing import LlmPacer

            limits = {
                name: paced_limits(spec.rpm, spec.tpm)
                for name, spec in registry.items()
                if spec.rpm and spec.tpm
            }
            pacer = LlmPacer.open(self.pacing_url, limits) if limits else None
        return ModelRouter(
            registry,
            keys=keys,
            offline=self.kind == "offline",
            pacer=pacer,
            timeout_seconds=self.openai_timeout_seconds,
            max_retries=self.openai_max_retries,
            max_input_tokens=self.openai_max_input_tokens,
        )

    def build(self) -> Extractor:
        if self.kind == "offline":
            from ingest_pipeline.extraction.offline_extractor import OfflineExtractor

            return OfflineExtractor()
        if self.kind == "openai":
            from ingest_pipeline.extraction.openai_extractor import OpenAIConfig, OpenAIExtractor

            if not self.openai_api_key:
                raise dg.Failure(
                    description="INGEST_EXTRACTOR=openai needs INGEST_OPENAI_API_KEY "
                    "(or OPENAI_API_KEY)",
                    allow_retries=False,
                )
            return OpenAIExtractor(
                pacer=self._pacer(),
                config=OpenAIConfig(
                    api_key=self.openai_api_key,
                    model=self.openai_model,
                    base_url=self.openai_base_url,
                    timeout_seconds=self.openai_timeout_seconds,
                    max_retries=self.openai_max_retries,
                    max_input_tokens=self.openai_max_input_tokens,
                    input_price_per_million=self.openai_input_price_per_million,
                    output_price_per_million=self.openai_output_price_per_million,
                    api_model=self.openai_api_model,
                    structured_outputs=self.structured_outputs,
                    tokenizer=self.tokenizer,
                ),
            )
        raise dg.Failure(
            description=f"unknown extractor {self.kind!r}; set INGEST_EXTRACTOR to offline or "
            "openai",
            allow_retries=False,
        )

    def _pacer(self) -> Any:
        """The budgets shared by every run process, when the model's limits are set."""
        if not (self.rpm and self.tpm and self.pacing_url):
            return None
        from ingest_pipeline.extraction.llm_pacing import LlmPacer

        return LlmPacer.open(self.pacing_url, {self.openai_model: paced_limits(self.rpm, self.tpm)})


def paced_limits(rpm: int, tpm: int) -> Any:
    """The budgets the pacer keeps for a model with these provider limits: `PACING_HEADROOM`
    of them, so that calls granted back to back but arriving a little apart still fit the
    provider's own bucket."""
    from ingest_pipeline.extraction.llm_pacing import ModelLimits

    return ModelLimits(
        rpm=max(1, int(rpm * PACING_HEADROOM)), tpm=max(1, int(tpm * PACING_HEADROOM))
    )


class EmbedderResource(dg.ConfigurableResource):
    """Which embedder the derived embeddings use: ``offline`` (the lexical embedder, no key,
    labelled ``offline-lexical-…``) or ``openai`` (any OpenAI-compatible ``/embeddings``
    endpoint of the models registry)."""

    kind: str = _default("embedder")
    model: str = _default("embedding_model")
    api_model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    dimensions: int | None = None
    batch_size: int = _default("embedding_batch_size")
    concurrency: int = _default("embedding_concurrency")
    timeout_seconds: float = _default("openai_timeout_seconds")
    max_retries: int = 5

    def build(self) -> Any:
        from ingest_pipeline.extraction.embedders import (
            EmbeddingModel,
            LexicalEmbedder,
            OpenAIEmbedder,
        )

        if self.kind == "offline":
            return LexicalEmbedder()
        if self.kind != "openai":
            raise dg.Failure(
                description=f"unknown embedder {self.kind!r}; set INGEST_EMBEDDER to offline "
                "or openai",
                allow_retries=False,
            )
        if not self.api_key:
            raise dg.Failure(
                description="INGEST_EMBEDDER=openai needs the embeddings model's key "
                "(INGEST_OPENAI_API_KEY or its provider's variable)",
                allow_retries=False,
            )
        model = EmbeddingModel(
            name=self.model,
            api_model=self.api_model or self.model,
            base_url=self.base_url,
            api_key=self.api_key,
            dimensions=self.dimensions,
            timeout_seconds=self.timeout_seconds,
            max_retries=self.max_retries,
        )
        return OpenAIEmbedder(model, batch_size=self.batch_size, concurrency=self.concurrency)


def embedder_from(settings: Settings, **overrides: Any) -> EmbedderResource:
    """The embedder resource the settings describe (``overrides`` win)."""
    fields: dict[str, Any] = {"kind": settings.embedder}
    if settings.embedder == "openai":
        spec = settings.embedding_spec()
        fields |= {
            "model": spec.name,
            "api_model": spec.api_model,
            "base_url": spec.base_url,
            "api_key": _secret(
                "INGEST_OPENAI_API_KEY" if settings.openai_api_key else spec.api_key_variable,
                settings.embedding_api_key_value(),
            ),
            "dimensions": settings.embedding_dimensions,
            "batch_size": settings.embedding_batch_size,
            "concurrency": settings.embedding_concurrency,
            "timeout_seconds": settings.openai_timeout_seconds,
        }
    return EmbedderResource(**{**fields, **overrides})


class IngestLimitsResource(dg.ConfigurableResource):
    """Per-run knobs: batch size, attachment cap, fetch caps, partition leases, the phone
    region for numbers without a country code, and the failed share the check allows."""

    batch_size: int = _default("batch_size")
    attachment_max_bytes: int = _default("attachment_max_bytes")
    max_failed_share: float = _default("max_failed_share")
    max_items_per_run: int | None = None
    max_run_seconds: float | None = None
    lease_ttl_seconds: float = _default("lease_ttl_seconds")
    lease_wait_seconds: float = _default("lease_wait_seconds")
    default_phone_region: str | None = _default("default_phone_region")

    def lease_terms(self) -> LeaseTerms:
        return LeaseTerms(ttl_seconds=self.lease_ttl_seconds, wait_seconds=self.lease_wait_seconds)

    def parse_options(self) -> ParseOptions:
        return ParseOptions(
            attachment_max_bytes=self.attachment_max_bytes,
            default_phone_region=self.default_phone_region,
        )


def _secret(variable: str, value: str | None) -> Any:
    """A set secret as its environment variable (shown by name in the UI), else None."""
    return dg.EnvVar(variable) if value else None


def extractor_from(settings: Settings, **overrides: Any) -> ExtractorResource:
    """The extractor resource the settings describe: the model's registry entry (provider,
    endpoint, prices, limits, structured outputs) and its key (``overrides`` win)."""
    spec = settings.model_spec()
    api_key = settings.openai_api_key_value()
    fields: dict[str, Any] = {
        "kind": settings.extractor,
        "min_confidence": settings.min_confidence,
        "batch_threshold": settings.openai_batch_threshold,
        "concurrency": settings.llm_concurrency,
        "daily_budget_usd": settings.llm_daily_budget_usd,
        "rpm": spec.rpm,
        "tpm": spec.tpm,
        "pacing_url": settings.llm_pacing_url or pacing_url_for(settings.app_database_url()),
        "openai_api_key": _secret(settings.openai_api_key_variable(), api_key),
        "openai_model": spec.name,
        "openai_api_model": spec.api_model,
        "openai_base_url": spec.base_url,
        "openai_timeout_seconds": settings.openai_timeout_seconds,
        "openai_max_retries": settings.openai_max_retries,
        "openai_max_input_tokens": settings.openai_max_input_tokens,
        "openai_input_price_per_million": spec.input_price_per_million,
        "openai_output_price_per_million": spec.output_price_per_million,
        "structured_outputs": spec.structured_outputs,
        "tokenizer": spec.tokenizer,
        "models_json": settings.models,
        **{
            field: _secret(variable, os.environ.get(variable))
            for field, variable in ROUTER_KEY_FIELDS.items()
        },
    }
    return ExtractorResource(**{**fields, **overrides})


# The router's provider keys (besides the OpenAI one), by resource field.
ROUTER_KEY_FIELDS = {
    "openrouter_api_key": "OPENROUTER_API_KEY",
    "azure_api_key": "AZURE_OPENAI_API_KEY",
    "compatible_api_key": "LLM_API_KEY",
}


def limits_from(settings: Settings, **overrides: Any) -> IngestLimitsResource:
    """The per-run limits the settings describe (``overrides`` win)."""
    fields: dict[str, Any] = {
        "batch_size": settings.batch_size,
        "attachment_max_bytes": settings.attachment_max_bytes,
        "max_failed_share": settings.max_failed_share,
        "max_items_per_run": settings.max_items_per_run,
        "max_run_seconds": settings.max_run_seconds,
        "lease_ttl_seconds": settings.lease_ttl_seconds,
        "lease_wait_seconds": settings.lease_wait_seconds,
        "default_phone_region": settings.default_phone_region,
    }
    return IngestLimitsResource(**{**fields, **overrides})


def resources_from(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The code location's resources, filled from ``settings``."""
    return {
        "app_db": AppDatabaseResource(
            url=settings.app_database_url(), tenants=settings.tenant_list()
        ),
        "credentials": CredentialsResource(
            key=_secret("INGEST_CREDENTIALS_KEY", settings.credentials_key)
        ),
        "extractor": extractor_from(settings),
        "limits": limits_from(settings),
        "embedder": embedder_from(settings),
    }
