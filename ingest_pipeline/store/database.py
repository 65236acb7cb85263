"""Engines and sessions for the app database (SQLite embedded, Postgres in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

_engines: dict[str, sa.Engine] = {}


def normalize_url(url: str) -> str:
    """Pin Postgres URLs to psycopg2, which we ship (SQLAlchemy 2.1 maps ``postgresql://``
    to psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def get_engine(url: str) -> sa.Engine:
    """One engine per URL per process; SQLite files get WAL and a busy timeout."""
    url = normalize_url(url)
    engine = _engines.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            path = sa.make_url(url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url)
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True)
        _engines[url] = engine
    return engine


def dispose_engine(url: str) -> None:
    """Close pooled connections (tests dropping a database, processes after fork)."""
    engine = _engines.pop(normalize_url(url), None)
    if engine is not None:
        engine.dispose()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = sessionmaker(get_engine(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
