"""The models' budgets in a SQL table every process of the deployment reaches.

One row per model in ``llm_pacing_budget``, read and rewritten in one short transaction that
holds the row's lock: ``SELECT ... FOR UPDATE`` on Postgres, ``BEGIN IMMEDIATE`` on SQLite
(SQLite locks the whole file, so the pacer keeps its own file beside the app database rather
than queueing behind the app's writers). The table is created on first use, not by a
migration: it holds nothing that outlives a minute of idleness.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

from ingest_pipeline.extraction.llm_pacing_budget import BudgetState

_T = TypeVar("_T")

_metadata = sa.MetaData()

budget_table = sa.Table(
    "llm_pacing_budget",
    _metadata,
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("requests", sa.Double(), nullable=False),
    sa.Column("tokens", sa.Double(), nullable=False),
    sa.Column("as_of", sa.Double(), nullable=False),
    sa.Column("paused_until", sa.Double(), nullable=False),
)
"""A row is one model's `BudgetState`; times are seconds on the pacers' clock."""

_CREATE_LOCK_KEY = 0x6C6C6D70
"""Postgres advisory lock that serialises processes creating the table at the same moment."""

_SQLITE_BUSY_SECONDS = 30.0


class SqlBudgetStore:
    """`BudgetStore` over SQLAlchemy, on SQLite or Postgres (psycopg2)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._rows: set[str] = set()
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_CREATE_LOCK_KEY)))
            _metadata.create_all(connection, checkfirst=True)

    @classmethod
    def open(cls, url: str) -> SqlBudgetStore:
        """A store on ``sqlite:///path`` or ``postgresql://...``."""
        parsed = sa.make_url(_pin_psycopg2(url))
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(parsed))
        if parsed.get_backend_name() == "postgresql":
            return cls(sa.create_engine(parsed, pool_pre_ping=True))
        raise ValueError(f"not a SQLite or Postgres URL: {parsed.render_as_string()}")

    def update(
        self,
        model: str,
        fresh: BudgetState,
        change: Callable[[BudgetState], tuple[BudgetState, _T]],
    ) -> _T:
        with self._engine.begin() as connection:
            if model not in self._rows:
                connection.execute(self._insert_missing(model, fresh))
            row = connection.execute(
                sa.select(*_state_columns()).where(budget_table.c.model == model).with_for_update()
            ).one()
            state, result = change(BudgetState(*row))
            connection.execute(
                budget_table.update().where(budget_table.c.model == model).values(_values(state))
            )
        self._rows.add(model)
        return result

    def read(self, model: str) -> BudgetState | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(*_state_columns()).where(budget_table.c.model == model)
            ).one_or_none()
        return None if row is None else BudgetState(*row)

    def close(self) -> None:
        self._engine.dispose()

    def _insert_missing(self, model: str, fresh: BudgetState) -> sa.Executable:
        values = {"model": model, **_values(fresh)}
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(budget_table).values(values).on_conflict_do_nothing()
        return sqlite.insert(budget_table).values(values).on_conflict_do_nothing()


def _state_columns() -> tuple[sa.Column[Any], ...]:
    c = budget_table.c
    return (c.requests, c.tokens, c.as_of, c.paused_until)


def _values(state: BudgetState) -> dict[str, float]:
    return {
        "requests": state.requests,
        "tokens": state.tokens,
        "as_of": state.as_of,
        "paused_until": state.paused_until,
    }


def _pin_psycopg2(url: str) -> str:
    """SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3; we ship psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    """An engine whose transactions start with ``BEGIN IMMEDIATE``: the write lock is taken
    before the row is read, so two processes never decide on the same budget."""
    path = url.database
    if not path or path == ":memory:":
        raise ValueError("the pacing budget needs a SQLite file that every process opens")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": _SQLITE_BUSY_SECONDS})
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _begin_immediate)
    return engine


def _locked(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # sqlite3 would otherwise issue its own deferred BEGIN; `_begin_immediate` does it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # Switching to WAL needs the file to itself, and SQLite answers "database is locked" at
    # once (no busy wait) while another process is opening the same new file: try again.
    for attempt in Retrying(
        retry=retry_if_exception(_locked),
        stop=stop_after_delay(_SQLITE_BUSY_SECONDS),
        wait=wait_random(0.01, 0.2),
        reraise=True,
    ):
        with attempt:
            cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _begin_immediate(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
