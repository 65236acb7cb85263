"""What a derived dataset's function (and its checks) get for one partition."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ingest_pipeline.store.models import Integration

if TYPE_CHECKING:
    from ingest_pipeline.extraction.embedders import Embedder
    from ingest_pipeline.extraction.extractor import Extractor


# The defaults are built on first use: the code location (and every run process) loads this
# module, while only the datasets that embed or extract need numpy and the rule tables.
def offline_extractor() -> Extractor:
    from ingest_pipeline.extraction.offline_extractor import OfflineExtractor

    return OfflineExtractor()


def lexical_embedder() -> Embedder:
    from ingest_pipeline.extraction.embedders import LexicalEmbedder

    return LexicalEmbedder()


@dataclass(frozen=True)
class LlmSettings:
    """How derived datasets call the LLM: the extractor (offline by default), calls in
    flight, and the deployment's daily spend limit (USD, UTC day; None: none)."""

    make_extractor: Callable[[], Extractor] = field(default=offline_extractor)
    concurrency: int = 1
    daily_budget_usd: float | None = None


@dataclass
class DeriveInputs:
    """The partition (its integration and UTC day), the open session, and the tools a
    dataset may need, built only when it asks: the embedder and the LLM (both offline by
    default). ``database_url`` is where paid results are committed on their own."""

    session: Session
    integration: Integration
    day: dt.date
    make_embedder: Callable[[], Embedder] = field(default=lexical_embedder)
    llm: LlmSettings = field(default_factory=LlmSettings)

    @cached_property
    def embedder(self) -> Embedder:
        return self.make_embedder()

    @cached_property
    def extractor(self) -> Extractor:
        return self.llm.make_extractor()

    @property
    def database_url(self) -> str:
        return self.session.get_bind().engine.url.render_as_string(hide_password=False)
