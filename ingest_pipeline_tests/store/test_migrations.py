"""The Alembic migrations build every table of the models, and re-running them changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from ingest_pipeline.store.database import dispose_engine, get_engine, session_scope
from ingest_pipeline.store.integrations import add_integration
from ingest_pipeline.store.migrate import alembic_config, current_revision, upgrade
from ingest_pipeline.store.models import Base, Integration


def head(url: str) -> str:
    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    assert len(heads) == 1, f"the migrations must have one head, not {heads}"
    return heads[0]


def schema(url: str) -> dict[str, Any]:
    """Tables, their columns, unique constraints and indexes as the database reports them."""
    inspector = sa.inspect(get_engine(url))
    return {
        table: {
            "columns": sorted(c["name"] for c in inspector.get_columns(table)),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(i["name"] or "" for i in inspector.get_indexes(table)),
        }
        for table in sorted(inspector.get_table_names())
    }


def test_a_migrated_database_is_at_the_head_revision(db_url: str) -> None:
    assert current_revision(db_url) == head(db_url)


def test_upgrading_an_up_to_date_database_is_a_no_op(db_url: str) -> None:
    with session_scope(db_url) as session:
        add_integration(session, provider="mailbox", account="/mail/in.mbox", task="job_posting")
    before = schema(db_url)
    upgrade(db_url)
    upgrade(db_url)
    assert schema(db_url) == before
    assert current_revision(db_url) == head(db_url)
    with session_scope(db_url) as session:
        assert session.scalars(sa.select(Integration.account)).all() == ["/mail/in.mbox"]
    with get_engine(db_url).connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    assert [v for (v,) in versions] == [head(db_url)]


def test_every_model_table_exists_with_its_columns_and_unique_constraints(db_url: str) -> None:
    actual = schema(db_url)
    for table in Base.metadata.sorted_tables:
        assert table.name in actual, f"table {table.name} was not created"
        assert actual[table.name]["columns"] == sorted(c.name for c in table.columns), table.name
        wanted = sorted(
            tuple(c.name for c in constraint.columns)
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint)
        )
        assert actual[table.name]["unique"] == wanted, table.name
        for index in table.indexes:
            assert index.name in actual[table.name]["indexes"], (table.name, index.name)


def test_unique_constraints_are_enforced(db_url: str) -> None:
    with session_scope(db_url) as session:
        add_integration(session, provider="mailbox", account="a", task="t", name="same")
    with pytest.raises(sa.exc.IntegrityError), session_scope(db_url) as session:
        add_integration(session, provider="mailbox", account="b", task="t", name="same")
    with session_scope(db_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 1


def test_a_new_database_has_no_revision_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    try:
        assert current_revision(url) is None
        upgrade(url)
        assert current_revision(url) == head(url)
        assert set(schema(url)) >= {t.name for t in Base.metadata.sorted_tables}
    finally:
        dispose_engine(url)
