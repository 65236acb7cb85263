"""Batched, dialect-aware upserts that report what they changed.

Each batch costs one SELECT of the existing rows by key and one multi-row
``INSERT ... ON CONFLICT DO UPDATE`` for the rows that are new or differ; rows that are
already identical are not written at all, so a re-run touches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 500


@dataclass
class UpsertResult:
    """How many rows were inserted, updated or already identical, and each key's row id."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: dict[tuple[Any, ...], Any] | None = None


def table_of(model: type[Any]) -> sa.Table:
    """The Core table of an ORM model."""
    return cast(sa.Table, model.__table__)


def _insert(session: Session, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


def _chunks(rows: Sequence[Mapping[str, Any]], size: int) -> Iterable[Sequence[Mapping[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _key_filter(table: sa.Table, keys: Sequence[str], values: list[tuple[Any, ...]]) -> Any:
    """A filter matching at least the rows with these keys: each key column ``IN`` its
    values. For composite keys that is a superset (callers match keys exactly); it plans far
    faster on Postgres than a row-value ``IN`` list, and batches share their leading columns."""
    return sa.and_(
        *(table.c[k].in_(sorted({v[i] for v in values}, key=repr)) for i, k in enumerate(keys))
    )


def upsert(
    session: Session,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    id_column: str | None = "id",
) -> UpsertResult:
    """Insert ``rows`` or update the ``update`` columns of rows whose ``keys`` exist.

    ``update=None`` updates every non-key column; ``update=()`` never updates (insert if
    absent). Rows must all have the same columns. Returns counts and, when ``id_column`` is
    given, the id of every row by key.
    """
    result = UpsertResult(ids={} if id_column else None)
    if not rows:
        return result
    columns = list(rows[0].keys())
    update_cols = [c for c in columns if c not in keys] if update is None else list(update)
    wanted = [*keys, *update_cols] + ([id_column] if id_column else [])
    for chunk in _chunks(rows, CHUNK):
        by_key = {tuple(row[k] for k in keys): row for row in chunk}
        existing = {
            key: rec
            for rec in session.execute(
                sa.select(*(table.c[c] for c in dict.fromkeys(wanted))).where(
                    _key_filter(table, keys, list(by_key))
                )
            )
            if (key := tuple(rec[: len(keys)])) in by_key
        }
        to_write: list[Mapping[str, Any]] = []
        for key, row in by_key.items():
            current = existing.get(key)
            if current is None:
                result.inserted += 1
                to_write.append(row)
            elif any(current._mapping[c] != row[c] for c in update_cols):
                result.updated += 1
                to_write.append(row)
            else:
                result.unchanged += 1
        written = _write(
            session, table, to_write, keys=keys, update_cols=update_cols, id_column=id_column
        )
        if result.ids is not None and id_column is not None:
            result.ids.update({key: rec._mapping[id_column] for key, rec in existing.items()})
            result.ids.update(written)
            missing = [key for key in by_key if key not in result.ids]
            if missing:  # inserted meanwhile by someone else: ON CONFLICT DO NOTHING returns no id
                for rec in session.execute(
                    sa.select(*(table.c[k] for k in keys), table.c[id_column]).where(
                        _key_filter(table, keys, missing)
                    )
                ):
                    result.ids.setdefault(tuple(rec[: len(keys)]), rec[len(keys)])
    return result


def _write(
    session: Session,
    table: sa.Table,
    rows: list[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update_cols: Sequence[str],
    id_column: str | None,
) -> dict[tuple[Any, ...], Any]:
    """``INSERT ... ON CONFLICT`` for ``rows``; returns the written rows' ids.

    Executed as an executemany with RETURNING, which SQLAlchemy sends as batched multi-row
    INSERTs ("insertmanyvalues") from one cached compilation, on psycopg2 and SQLite alike.
    """
    if not rows:
        return {}
    stmt = _insert(session, table)
    if update_cols:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update_cols}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    returning = [table.c[k] for k in keys] + ([table.c[id_column]] if id_column else [])
    returned = session.execute(stmt.returning(*returning), list(rows))
    if id_column is None:
        return {}
    return {tuple(rec[: len(keys)]): rec[len(keys)] for rec in returned}
