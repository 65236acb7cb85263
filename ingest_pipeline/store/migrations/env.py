"""Alembic environment: runs the app database's migrations on the URL `migrate.upgrade` gives."""

from __future__ import annotations

from alembic import context

from ingest_pipeline.store.database import get_engine
from ingest_pipeline.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "migrate.upgrade sets sqlalchemy.url"
    with get_engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
