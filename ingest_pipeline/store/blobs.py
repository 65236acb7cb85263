"""Raw item bytes and parse results, content-addressed by sha256."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.models import ParsedItemRow, RawItemBlob
from ingest_pipeline.store.upsert import table_of, upsert


def store_blobs(session: Session, blobs: Iterable[tuple[str, bytes]]) -> int:
    """Store (sha256, bytes) pairs; bytes already stored are not written again."""
    rows = [
        {"sha256": digest, "size": len(data), "data": data} for digest, data in dict(blobs).items()
    ]
    return upsert(
        session,
        table_of(RawItemBlob),
        rows,
        keys=("sha256",),
        update=(),
        id_column=None,
    ).inserted


def load_blobs(session: Session, digests: Sequence[str]) -> dict[str, bytes]:
    """The stored bytes of each digest that exists."""
    if not digests:
        return {}
    rows = session.execute(
        sa.select(RawItemBlob.sha256, RawItemBlob.data).where(RawItemBlob.sha256.in_(set(digests)))
    )
    return {digest: bytes(data) for digest, data in rows}


def store_parsed(
    session: Session, parsed: dict[str, dict[str, Any]], *, parser_version: str
) -> None:
    """Store parse results by raw content hash; existing ones are kept."""
    rows = [
        {"content_hash": digest, "parser_version": parser_version, "data": data}
        for digest, data in parsed.items()
    ]
    upsert(
        session,
        table_of(ParsedItemRow),
        rows,
        keys=("content_hash", "parser_version"),
        update=(),
        id_column=None,
    )


def load_parsed(
    session: Session, digests: Sequence[str], *, parser_version: str
) -> dict[str, dict[str, Any]]:
    """The stored parse results of each digest that has one at ``parser_version``."""
    if not digests:
        return {}
    rows = session.execute(
        sa.select(ParsedItemRow.content_hash, ParsedItemRow.data).where(
            ParsedItemRow.content_hash.in_(set(digests)),
            ParsedItemRow.parser_version == parser_version,
        )
    )
    return {key: value for key, value in rows}
