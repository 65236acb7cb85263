"""Alembic environment: runs the app database's migrations on the URL `migrate.upgrade` gives."""

from __future__ import annotations

from alembic import context

from ingest_pipeline.store.database import get_engine
from ingest_pipeline.store.models import Base

config = context.config
target_metadata = Base.metadata
# Tables that live in the app database but not in its models: the LLM pacer's budgets
# (`extraction/llm_pacing_sql.py`), created on first use and worth nothing after a minute.
UNMANAGED_TABLES = {"llm_pacing_budget"}


def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
    return not (type_ == "table" and name in UNMANAGED_TABLES)


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "migrate.upgrade sets sqlalchemy.url"
    with get_engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
