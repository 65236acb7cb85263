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
    if len(keys) == 1:
        return table.c[keys[0]].in_([v[0] for v in values])
    return sa.tuple_(*(table.c[k] for k in keys)).in_(values)


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
            tuple(rec[: len(keys)]): rec
            for rec in session.execute(
                sa.select(*(table.c[c] for c in dict.fromkeys(wanted))).where(
                    _key_filter(table, keys, list(by_key))
                )
            )
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
        if to_write:
            stmt = _insert(session, table)
            if update_cols:
                stmt = stmt.on_conflict_do_update(
                    index_elements=list(keys),
                    set_={c: stmt.excluded[c] for c in update_cols},
                )
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
            session.execute(stmt, list(to_write))
        if id_column is not None and not to_write:
            assert result.ids is not None
            for key, rec in existing.items():
                result.ids[key] = rec._mapping[id_column]
        elif id_column is not None:
            assert result.ids is not None
            for rec in session.execute(
                sa.select(*(table.c[k] for k in keys), table.c[id_column]).where(
                    _key_filter(table, keys, list(by_key))
                )
            ):
                result.ids[tuple(rec[: len(keys)])] = rec[len(keys)]
    return result
