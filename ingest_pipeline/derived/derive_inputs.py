"""What a derived dataset's function (and its checks) get for one partition."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session

from ingest_pipeline.extraction.embedders import Embedder, LexicalEmbedder
from ingest_pipeline.store.models import Integration


@dataclass
class DeriveInputs:
    """The partition (its integration and UTC day), the open session, and the tools a
    dataset may need, built only when it asks: the embedder (offline by default)."""

    session: Session
    integration: Integration
    day: dt.date
    make_embedder: Callable[[], Embedder] = field(default=LexicalEmbedder)

    @cached_property
    def embedder(self) -> Embedder:
        return self.make_embedder()
