"""Test helpers: register an integration, run partitions through the real Dagster job, and
snapshot every app table to compare runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa

from ingest_pipeline.defs.code_location import build_definitions
from ingest_pipeline.defs.local_launch import RunOutcome, derive_days, materialize_days
from ingest_pipeline.defs.resources import (
    AppDatabaseResource,
    EmbedderResource,
    extractor_from,
    limits_from,
)
from ingest_pipeline.settings import get_settings
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import get_engine, session_scope
from ingest_pipeline.store.models import Base

# Far enough back for every receipt day in the shared corpus (1996 onwards).
HISTORY_START = dt.date(1990, 1, 1)
# Columns that record *when* bookkeeping happened rather than what was imported.
VOLATILE = {"updated_at", "created_at", "run_id", "last_sync_at"}
# Surrogate keys: their values depend on insert order and rolled-back sequence values.
SURROGATE = {"id", "message_id", "source_item_id", "extraction_id", "candidate_id"}


def ingest_job(
    db_url: str, *, extractor: str = "offline", stream: str = "mail", **limits: Any
) -> dg.JobDefinition:
    """The code location's ingest job of ``stream``, bound to ``db_url`` (and an extractor
    kind)."""
    return bound_job(db_url, f"ingest_{stream}_job", extractor=extractor, **limits)


def bound_job(
    db_url: str,
    name: str,
    *,
    extractor: str = "offline",
    embedder: EmbedderResource | None = None,
    llm_budget_usd: float | None = None,
    **limits: Any,
) -> dg.JobDefinition:
    """The code location's job ``name``, bound to ``db_url`` (and an extractor kind with
    its daily budget, an embedder)."""
    llm = extractor_from(
        get_settings(), kind=extractor, min_confidence=0.6, daily_budget_usd=llm_budget_usd
    )
    defs = build_definitions(
        {
            "app_db": AppDatabaseResource(url=db_url),
            "extractor": llm,
            "limits": limits_from(get_settings(), **limits),
            "embedder": embedder or EmbedderResource(kind="offline"),
        },
        history_start=HISTORY_START,
    )
    return defs.resolve_job_def(name)


def register_mailbox(
    db_url: str,
    path: Path,
    *,
    task: str | None = "job_posting",
    job_id: int | None = None,
    own_addresses: list[str] | None = None,
) -> str:
    """A mailbox integration of ``path`` (``task`` None: no extraction); ``own_addresses``
    are the account's, making the mail they sent outbound."""
    options: dict[str, Any] = {"job_id": job_id} if job_id is not None else {}
    if own_addresses:
        options["own_addresses"] = own_addresses
    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session, provider="mailbox", account=str(path), task=task, options=options
        )
        return row.partition_key or ""


def register_source(db_url: str, path: Path, *, provider: str, stream: str) -> str:
    """Register a local-file integration of ``stream`` without a task (contacts, calendars)."""
    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session, provider=provider, stream=stream, account=str(path), task=None
        )
        return row.partition_key or ""


def run_days(
    db_url: str,
    instance: dg.DagsterInstance,
    key: str,
    days: list[dt.date] | None,
    *,
    extractor: str = "offline",
    stream: str = "mail",
    **limits: Any,
) -> list[RunOutcome]:
    """One Dagster run per day (``days`` None: a snapshot stream's one partition)."""
    job = ingest_job(db_url, extractor=extractor, stream=stream, **limits)
    return materialize_days(instance, key, days, stream=stream, job=job)


def derive(
    db_url: str,
    instance: dg.DagsterInstance,
    key: str,
    days: list[dt.date],
    *,
    stream: str = "mail",
    embedder: EmbedderResource | None = None,
    extractor: str = "offline",
    llm_budget_usd: float | None = None,
) -> list[RunOutcome]:
    """One run per day of ``stream``'s derived assets and their checks."""
    job = bound_job(
        db_url,
        f"derive_{stream}_job",
        embedder=embedder,
        extractor=extractor,
        llm_budget_usd=llm_budget_usd,
    )
    return derive_days(instance, key, days, stream=stream, job=job)


def snapshot(db_url: str, *, natural: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every app table, sorted. ``natural=True`` leaves out bookkeeping
    timestamps, run ids and surrogate ids, to compare what was imported by different runs."""
    result = {}
    skip = VOLATILE | SURROGATE if natural else set()
    with get_engine(db_url).connect() as connection:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if c.name not in skip]
            rows = connection.execute(sa.select(*cols)).all()
            result[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return result


def ledger_rows(db_url: str) -> list[dict[str, Any]]:
    with get_engine(db_url).connect() as connection:
        return [
            dict(r._mapping)
            for r in connection.execute(
                sa.text(
                    "select external_id, partition_day, status, step, last_error"
                    " from ingest_items order by id"
                )
            )
        ]


def check_results(instance: dg.DagsterInstance, run_id: str) -> dict[str, bool]:
    """Each asset check the run evaluated, by name: passed or not."""
    results = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event and event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            results[data.check_name] = data.passed
    return results


def count_rows(db_url: str, sql: str, **params: Any) -> int:
    """The single number a ``select count(*) ...`` returns."""
    with get_engine(db_url).connect() as c:
        return int(c.execute(sa.text(sql), params).scalar_one())


def corrupt_with(*statements: str) -> Callable[[str], None]:
    """A corruption for a check test: these SQL statements run against a database URL."""

    def run(db_url: str) -> None:
        with get_engine(db_url).begin() as c:
            for statement in statements:
                c.execute(sa.text(statement))

    return run
