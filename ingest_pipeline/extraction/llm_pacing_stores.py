"""Which shared store keeps the budgets, from a URL: SQLite, Postgres or Redis."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ingest_pipeline.extraction.llm_pacing_budget import BudgetStore
from ingest_pipeline.extraction.llm_pacing_sql import SqlBudgetStore


def open_budget_store(url: str) -> BudgetStore:
    """The shared budget store at ``url``: ``sqlite:///path`` (a file every process opens),
    ``postgresql://...`` (a table in that database) or ``redis://...``."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("redis", "rediss"):
        # Imported here so the redis client is needed only by deployments that use it.
        from ingest_pipeline.extraction.llm_pacing_redis import RedisBudgetStore

        return RedisBudgetStore.open(url)
    return SqlBudgetStore.open(url)


def pacing_url_for(app_database_url: str) -> str:
    """Where the budgets live for an app database: beside a SQLite one, in a file of their
    own (``app.db`` → ``app.llm_pacing.db``) so their locks never queue behind the app's
    writers; inside a Postgres one, which locks rows, not files."""
    url = sa.make_url(app_database_url)
    if url.get_backend_name() != "sqlite":
        return app_database_url
    if not url.database or url.database == ":memory:":
        raise ValueError("an in-memory SQLite app database has no file to keep budgets beside")
    path = Path(url.database)
    return url.set(database=str(path.with_name(f"{path.stem}.llm_pacing.db"))).render_as_string()
