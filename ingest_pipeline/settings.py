"""The one place environment variables are read. Call `get_settings()`; nothing reads at import."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest_pipeline.extraction.models_registry import ModelSpec, get_model, load_registry


class Settings(BaseSettings):
    """Runtime configuration, from ``INGEST_*`` environment variables.

    ``data_dir`` holds the embedded default: the SQLite app database and, unless
    ``DAGSTER_HOME`` is set, the local Dagster home.
    """

    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore")

    data_dir: Path = Field(default=Path(".ingest"))
    database_url: str | None = None
    attachment_max_bytes: int = 10_000_000
    batch_size: int = 500
    min_confidence: float = 0.6
    max_failed_share: float = 0.2
    extractor: str = "offline"
    today_cron: str = "*/15 * * * *"
    nightly_cron: str = "30 2 * * *"
    sensor_interval_seconds: int = 30
    # The 15-minute trigger's change probes (`steps/change_probes.py`): probes at once, the
    # seconds they may take together, the most hours an integration goes without a run;
    # ``change_probes=False`` runs every due integration on every tick.
    change_probes: bool = True
    probe_workers: int = 32
    probe_timeout_seconds: float = 30.0
    safety_run_hours: float = 6.0
    # Where a run's steps execute (`defs/executors.py`): "in_process" (the run's own
    # process), "multiprocess" (a process per step) or "celery" (dagster-celery workers on
    # ``celery_broker``, listening on ``celery_queue``, results over ``celery_backend``).
    executor: Literal["in_process", "multiprocess", "celery"] = "in_process"
    celery_broker: str = "pyamqp://guest:guest@127.0.0.1:5672//"
    celery_backend: str = "rpc://"
    celery_queue: str = "dagster"
    # The tenants this deployment serves, comma-separated (None: every tenant): a shard of
    # its own Dagster instance, so no asset holds more partitions than one instance serves well.
    tenants: str | None = None
    credentials_key: str | None = Field(default=None, repr=False)
    max_items_per_run: int | None = None
    max_run_seconds: float | None = None
    openai_api_key: str | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices("INGEST_OPENAI_API_KEY", "OPENAI_API_KEY"),
    )
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    openai_timeout_seconds: float = 60.0
    openai_max_retries: int = 3
    openai_max_input_tokens: int = 6_000
    openai_input_price_per_million: float | None = None
    openai_output_price_per_million: float | None = None
    openai_batch_threshold: int | None = None
    llm_concurrency: int = 8
    openai_rpm: int | None = None
    openai_tpm: int | None = None
    models: str | None = None
    llm_pacing_url: str | None = None
    llm_daily_budget_usd: float | None = None
    llm_batch_sensor_interval_seconds: int = 60
    history_start: dt.date | None = None
    lease_ttl_seconds: float = 60.0
    lease_wait_seconds: float = 90.0
    default_phone_region: str | None = "US"
    calendar_lookahead_days: int = 14
    ms_graph_url: str = "https://graph.microsoft.com/v1.0"
    ms_authority_host: str = "https://login.microsoftonline.com"
    ms_ca_bundle: str | None = None
    embedder: str = "offline"
    embedding_model: str = "text-embedding-3-small"
    embedding_dimensions: int | None = None
    embedding_batch_size: int = 256
    embedding_concurrency: int = 4

    def tenant_list(self) -> list[str] | None:
        """``INGEST_TENANTS`` as a list (None: every tenant)."""
        if self.tenants is None or not self.tenants.strip():
            return None
        return [t.strip() for t in self.tenants.split(",") if t.strip()]

    def history_start_day(self, *, today: dt.date | None = None) -> dt.date:
        """The first day of the date dimension: ``INGEST_HISTORY_START``, else January 1st
        of last year. Dagster recommends at most 100,000 partitions per asset, and every
        day is a partition per integration: at 1,000 integrations, two years is 730,000
        keys and 1990 would be 13 million."""
        if self.history_start is not None:
            return self.history_start
        today = today or dt.datetime.now(dt.UTC).date()
        return dt.date(today.year - 1, 1, 1)

    def model_spec(self) -> ModelSpec:
        """The registry entry of ``INGEST_OPENAI_MODEL`` (``INGEST_MODELS`` merged over the
        built-in ones), with the ``INGEST_OPENAI_*`` base URL, prices and limits that are
        set overriding it."""
        spec = get_model(self.openai_model, load_registry(self.models))
        overrides: dict[str, Any] = {
            "base_url": self.openai_base_url,
            "input_price_per_million": self.openai_input_price_per_million,
            "output_price_per_million": self.openai_output_price_per_million,
            "rpm": self.openai_rpm,
            "tpm": self.openai_tpm,
        }
        return replace(spec, **{k: v for k, v in overrides.items() if v is not None})

    def embedding_spec(self) -> ModelSpec:
        """The registry entry of ``INGEST_EMBEDDING_MODEL`` (``INGEST_MODELS`` merged)."""
        return get_model(self.embedding_model, load_registry(self.models))

    def embedding_api_key_value(self) -> str | None:
        """The embeddings model's key: ``INGEST_OPENAI_API_KEY``, else its provider's."""
        return self.openai_api_key or os.environ.get(self.embedding_spec().api_key_variable) or None

    def openai_api_key_variable(self) -> str:
        """Which variable holds the model's key: ``INGEST_OPENAI_API_KEY`` when set, else
        the one the registry names for its provider (``OPENAI_API_KEY``, ...)."""
        if os.environ.get("INGEST_OPENAI_API_KEY"):
            return "INGEST_OPENAI_API_KEY"
        return self.model_spec().api_key_variable

    def openai_api_key_value(self) -> str | None:
        """The model's key, from the variable `openai_api_key_variable` names."""
        return self.openai_api_key or os.environ.get(self.openai_api_key_variable()) or None

    def probe_settings(self) -> Any:
        """The trigger's `ProbeSettings`, or None when change probes are off."""
        from ingest_pipeline.steps.change_probes import ProbeSettings

        if not self.change_probes:
            return None
        return ProbeSettings(
            workers=self.probe_workers,
            timeout_seconds=self.probe_timeout_seconds,
            safety_interval=dt.timedelta(hours=self.safety_run_hours),
        )

    def app_database_url(self) -> str:
        """``INGEST_DATABASE_URL``, or the embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'app.db').resolve()}"

    def dagster_home(self) -> Path:
        """The local Dagster home used when ``DAGSTER_HOME`` is not set."""
        return (self.data_dir / "dagster_home").resolve()


def get_settings() -> Settings:
    """Read the environment now (not at import time)."""
    return Settings()
