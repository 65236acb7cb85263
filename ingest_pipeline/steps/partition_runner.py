"""Run the five steps of one partition in order, holding its lease: what a Dagster run of
an ingest job does, without Dagster (benchmarks, corpus tests, tools)."""

from __future__ import annotations

from typing import Any

from ingest_pipeline.extraction.extractor import Extractor
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline.sources.base import Source
from ingest_pipeline.steps.enumerate_step import enumerate_partition
from ingest_pipeline.steps.extract_step import extract_partition, pass_through_partition
from ingest_pipeline.steps.fetch_step import fetch_partition
from ingest_pipeline.steps.parse_step import parse_partition
from ingest_pipeline.steps.partition_lease import hold_partition, release_partition
from ingest_pipeline.steps.persist_step import persist_partition
from ingest_pipeline.steps.step_context import StepContext
from ingest_pipeline.streams.registry import get_stream
from ingest_pipeline.streams.stream_kind import ParseOptions


def run_partition(
    ctx: StepContext,
    source: Source,
    *,
    extractor: Extractor,
    parse_options: ParseOptions | None = None,
    min_confidence: float = 0.6,
    max_items: int | None = None,
    max_seconds: float | None = None,
) -> dict[str, Any]:
    """enumerate → fetch → parse → gpt → persist over the ledger for ``ctx.part``; returns
    every step's summary merged. The lease is given up once the partition is persisted."""
    kind = get_stream(ctx.part.stream)
    task = get_task(ctx.integration.task) if ctx.integration.task else None
    metrics: dict[str, Any] = {}
    with hold_partition(ctx):
        metrics |= enumerate_partition(ctx, source)
        metrics |= fetch_partition(ctx, source, max_items=max_items, max_seconds=max_seconds)
        metrics |= parse_partition(ctx, kind=kind, options=parse_options or ParseOptions())
        if task is None:
            metrics |= pass_through_partition(ctx)
        else:
            metrics |= extract_partition(ctx, kind=kind, task=task, extractor=extractor)
        metrics |= persist_partition(ctx, kind=kind, task=task, min_confidence=min_confidence)
    release_partition(ctx)
    return metrics
