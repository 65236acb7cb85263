"""upsert() on real tables: what it reports, what it writes, and the ids it returns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from ingest_pipeline.store import upsert as upsert_module
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.models import Candidate, RawItemBlob
from ingest_pipeline.store.upsert import UpsertResult, upsert

CANDIDATES: sa.Table = Candidate.__table__  # type: ignore[assignment]
BLOBS: sa.Table = RawItemBlob.__table__  # type: ignore[assignment]
KEYS = ("tenant_id", "candidate_key")


def candidate(i: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant_id": "acme",
        "candidate_key": f"person{i}@example.com",
        "name": f"Person {i}",
        "email": f"person{i}@example.com",
        "phones": [f"+1 555 01{i:02d}"],
        "location": None,
        "skills": ["python", f"skill-{i}"],
        "years_experience": float(i),
        "links": [],
        "summary": f"summary {i}",
        "preferred_roles": None,
    }
    row.update(changes)
    return row


def run(url: str, rows: list[dict[str, Any]], **kwargs: Any) -> UpsertResult:
    kwargs.setdefault("keys", KEYS)
    with session_scope(url) as session:
        return upsert(session, kwargs.pop("table", CANDIDATES), rows, **kwargs)


def snapshot(url: str, table: sa.Table = CANDIDATES) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every row of the table by primary key, all columns."""
    with session_scope(url) as session:
        rows = session.execute(sa.select(table)).mappings().all()
    pk = [c.name for c in table.primary_key.columns]
    return {
        tuple(r[c] for c in pk): {
            k: bytes(v) if isinstance(v, memoryview) else v for k, v in r.items()
        }
        for r in rows
    }


@contextmanager
def writes(url: str) -> Iterator[list[str]]:
    """The INSERT/UPDATE/DELETE statements sent to the database inside the block."""
    engine = get_engine(url)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_first_upsert_inserts_and_maps_every_key_to_its_id(db_url: str) -> None:
    rows = [candidate(i) for i in range(5)]
    result = run(db_url, rows)
    assert (result.inserted, result.updated, result.unchanged) == (5, 0, 0)
    stored = snapshot(db_url)
    assert len(stored) == 5
    assert result.ids == {(r["tenant_id"], r["candidate_key"]): id_ for (id_,), r in stored.items()}
    for (id_,), row in stored.items():
        assert row == {"id": id_, **candidate(int(row["name"].split()[1]))}


def test_the_same_rows_again_are_unchanged_and_write_nothing(db_url: str) -> None:
    rows = [candidate(i) for i in range(5)]
    first = run(db_url, rows)
    before = snapshot(db_url)
    with writes(db_url) as statements:
        again = run(db_url, [dict(r) for r in rows])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert statements == []
    assert snapshot(db_url) == before
    assert again.ids == first.ids


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("summary", "now a manager"),
        ("skills", ["rust"]),
        ("years_experience", 12.5),
        ("location", "Berlin"),
        ("phones", []),
    ],
)
def test_changing_one_column_of_one_row_updates_only_that_row(
    db_url: str, column: str, value: Any
) -> None:
    first = run(db_url, [candidate(i) for i in range(5)])
    before = snapshot(db_url)
    with writes(db_url) as statements:
        result = run(
            db_url, [candidate(i, **({column: value} if i == 2 else {})) for i in range(5)]
        )
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 4)
    assert len(statements) == 1  # the listener sees writes, so `statements == []` means something
    assert result.ids == first.ids
    after = snapshot(db_url)
    changed_id = first.ids[("acme", "person2@example.com")]  # type: ignore[index]
    assert {k: v for k, v in after.items() if k != (changed_id,)} == {
        k: v for k, v in before.items() if k != (changed_id,)
    }
    assert after[(changed_id,)] == {**before[(changed_id,)], column: value}


def test_update_empty_never_overwrites_but_still_inserts(db_url: str) -> None:
    run(db_url, [candidate(i) for i in range(3)])
    before = snapshot(db_url)
    rows = [candidate(i, summary="overwritten?", name="X") for i in range(3)] + [candidate(3)]
    result = run(db_url, rows, update=())
    assert (result.inserted, result.updated, result.unchanged) == (1, 0, 3)
    after = snapshot(db_url)
    assert {k: after[k] for k in before} == before
    assert len(after) == 4
    assert result.ids is not None and set(result.ids) == {
        ("acme", r["candidate_key"]) for r in rows
    }


def test_update_limits_the_columns_written(db_url: str) -> None:
    run(db_url, [candidate(0)])
    result = run(db_url, [candidate(0, name="Renamed", summary="ignored")], update=("name",))
    assert (result.updated, result.unchanged) == (1, 0)
    [row] = snapshot(db_url).values()
    assert (row["name"], row["summary"]) == ("Renamed", "summary 0")


def test_more_rows_than_a_chunk(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upsert_module, "CHUNK", 7)
    rows = [candidate(i) for i in range(20)]
    first = run(db_url, rows)
    assert (first.inserted, first.updated, first.unchanged) == (20, 0, 0)
    assert first.ids is not None and len(set(first.ids.values())) == 20
    assert set(first.ids) == {("acme", r["candidate_key"]) for r in rows}
    with writes(db_url) as statements:
        again = run(db_url, rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 20)
    assert statements == []
    assert again.ids == first.ids
    changed = {3, 10, 18}  # one row in each chunk
    mixed = [candidate(i, summary="changed") if i in changed else candidate(i) for i in range(20)]
    mixed += [candidate(i) for i in range(20, 23)]
    third = run(db_url, mixed)
    assert (third.inserted, third.updated, third.unchanged) == (3, 3, 17)
    assert third.ids is not None and len(third.ids) == 23
    assert {k: v for k, v in third.ids.items() if k in first.ids} == first.ids
    stored = snapshot(db_url)
    assert {r["candidate_key"] for r in stored.values() if r["summary"] == "changed"} == {
        f"person{i}@example.com" for i in changed
    }


def test_binary_rows_without_an_id_column(db_url: str) -> None:
    rows = [{"sha256": f"{i:064x}", "size": 3, "data": bytes([i, 0, 255])} for i in range(4)]
    first = run(db_url, rows, table=BLOBS, keys=("sha256",), id_column=None)
    assert (first.inserted, first.ids) == (4, None)
    with writes(db_url) as statements:
        again = run(db_url, rows, table=BLOBS, keys=("sha256",), id_column=None)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert statements == []
    rows[1] = {**rows[1], "data": b"new"}
    third = run(db_url, rows, table=BLOBS, keys=("sha256",), id_column=None)
    assert (third.updated, third.unchanged) == (1, 3)
    assert snapshot(db_url, BLOBS)[(rows[1]["sha256"],)]["data"] == b"new"
