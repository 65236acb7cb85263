"""The five ops of an ingest partition run; each calls the Dagster-free step function."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from ingest_pipeline.defs.partitions import partition_of
from ingest_pipeline.defs.pools import LLM_POOL, PROVIDER_POOL
from ingest_pipeline.defs.resources import (
    AppDatabaseResource,
    ExtractorResource,
    IngestLimitsResource,
)
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline.settings import get_settings
from ingest_pipeline.sources.base import CredentialsRevoked, Source, SourceError
from ingest_pipeline.steps.enumerate_step import enumerate_partition
from ingest_pipeline.steps.extract_step import extract_partition
from ingest_pipeline.steps.fetch_step import fetch_partition
from ingest_pipeline.steps.integration_source import disable_for_revoked_access, open_source
from ingest_pipeline.steps.parse_step import parse_partition
from ingest_pipeline.steps.persist_step import persist_partition
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext
from ingest_pipeline.store.credentials_vault import CredentialsKeyError
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import IntegrationNotFound, find_integration
from ingest_pipeline.store.ledger import PartitionKey

# A run tagged with this "off" extracts directly (the batch sensor's follow-up runs).
LLM_BATCH_TAG = "ingest/llm_batch"

transient_retry = dg.RetryPolicy(
    max_retries=3, delay=2.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def step_context(
    context: dg.OpExecutionContext, app_db: AppDatabaseResource, limits: IngestLimitsResource
) -> StepContext:
    """Resolve the run's partition to the integration row and the ledger partition."""
    partition = partition_of(context)
    url = app_db.database_url()
    try:
        with session_scope(url) as session:
            row = find_integration(session, partition.integration_key)
            info = IntegrationInfo.of(row)
            status = row.status
    except IntegrationNotFound as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    if status != "active":
        raise dg.Failure(
            description=f"integration {info.partition_key} is {status}; enable it to import again",
            allow_retries=False,
        )
    batch_size, _, _ = limits.resolved()
    return StepContext(
        database_url=url,
        integration=info,
        part=PartitionKey(integration_id=info.id, day=partition.day),
        run_id=context.run_id,
        batch_size=batch_size,
    )


def _source(ctx: StepContext) -> Source:
    with no_retry_for_permanent_errors(ctx):
        source = open_source(ctx)
        source.check()
    return source


@contextmanager
def no_retry_for_permanent_errors(ctx: StepContext | None = None) -> Iterator[None]:
    """Fail the op without retries on what retrying cannot fix; anything else (network, 5xx)
    is left to the op's RetryPolicy.

    - revoked credentials: the integration is disabled and a notification asks the user to
      reconnect, so no schedule retries it every 15 minutes;
    - a `SourceError` (bad path, bad credentials);
    - the run being terminated: with the in-process executor Dagster would otherwise retry
      the interrupted op and finish the run (dagster issue 15026). The batch in flight has
      rolled back, so the run stops between items.
    """
    try:
        yield
    except CredentialsRevoked as exc:
        if ctx is not None:
            disable_for_revoked_access(ctx, exc)
        raise dg.Failure(
            description=f"{exc}. The integration is disabled until it is reconnected.",
            allow_retries=False,
        ) from exc
    except (SourceError, CredentialsKeyError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    except dg.DagsterExecutionInterruptedError as exc:
        raise dg.Failure(
            description="the run was terminated; it stopped between items and the next run "
            "continues where it left off",
            allow_retries=False,
        ) from exc


def _merged(
    context: dg.OpExecutionContext, name: str, upstream: dict[str, Any], summary: dict[str, Any]
) -> dict[str, Any]:
    """Log a step's summary and add it to the metrics passed down the graph."""
    context.log.info(f"{name}: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    return {**upstream, **summary}


@dg.op(retry_policy=transient_retry, pool=PROVIDER_POOL)
def enumerate_op(
    context: dg.OpExecutionContext, app_db: AppDatabaseResource, limits: IngestLimitsResource
) -> dict[str, Any]:
    """List the day's provider items into the ledger."""
    ctx = step_context(context, app_db, limits)
    with no_retry_for_permanent_errors(ctx):
        summary = enumerate_partition(ctx, _source(ctx))
    return _merged(context, "enumerate", {}, summary)


@dg.op(retry_policy=transient_retry, pool=PROVIDER_POOL)
def fetch_op(
    context: dg.OpExecutionContext,
    upstream: dict[str, Any],
    app_db: AppDatabaseResource,
    limits: IngestLimitsResource,
) -> dict[str, Any]:
    """Download unfetched items into content-addressed raw storage."""
    ctx = step_context(context, app_db, limits)
    settings = get_settings()
    with no_retry_for_permanent_errors(ctx):
        summary = fetch_partition(
            ctx,
            _source(ctx),
            max_items=settings.max_items_per_run,
            max_seconds=settings.max_run_seconds,
        )
    return _merged(context, "fetch", upstream, summary)


@dg.op
def parse_op(
    context: dg.OpExecutionContext,
    upstream: dict[str, Any],
    app_db: AppDatabaseResource,
    limits: IngestLimitsResource,
) -> dict[str, Any]:
    """Parse fetched raw items into typed messages."""
    ctx = step_context(context, app_db, limits)
    _, attachment_max_bytes, _ = limits.resolved()
    with no_retry_for_permanent_errors():
        summary = parse_partition(ctx, attachment_max_bytes=attachment_max_bytes)
    return _merged(context, "parse", upstream, summary)


@dg.op(retry_policy=transient_retry, pool=LLM_POOL)
def gpt_op(
    context: dg.OpExecutionContext,
    upstream: dict[str, Any],
    app_db: AppDatabaseResource,
    limits: IngestLimitsResource,
    extractor: ExtractorResource,
) -> dict[str, Any]:
    """Run the integration's extraction task through the cache."""
    ctx = step_context(context, app_db, limits)
    with no_retry_for_permanent_errors():
        summary = extract_partition(
            ctx,
            task=get_task(ctx.integration.task),
            extractor=extractor.build(),
            batch_threshold=(
                None
                if context.run.tags.get(LLM_BATCH_TAG) == "off"
                else get_settings().openai_batch_threshold
            ),
        )
    return _merged(context, "gpt", upstream, summary)


@dg.op
def persist_op(
    context: dg.OpExecutionContext,
    upstream: dict[str, Any],
    app_db: AppDatabaseResource,
    limits: IngestLimitsResource,
    extractor: ExtractorResource,
) -> dg.Output[dict[str, Any]]:
    """Upsert the records and end every ledger item; the metrics become materialization metadata."""
    ctx = step_context(context, app_db, limits)
    with no_retry_for_permanent_errors():
        summary = persist_partition(
            ctx,
            task=get_task(ctx.integration.task),
            min_confidence=extractor.resolved_min_confidence(),
        )
    metrics = _merged(context, "persist", upstream, summary)
    metrics["duration_seconds"] = round(
        sum(v for k, v in metrics.items() if k.endswith("_seconds")), 3
    )
    metrics["skipped"] = summary.get("items_skipped", 0) + summary.get("items_duplicate", 0)
    metrics["failed"] = (
        upstream.get("fetch_failed", 0)
        + upstream.get("parse_failed", 0)
        + upstream.get("extraction_failed", 0)
        + summary.get("items_failed", 0)
    )
    return dg.Output(metrics, metadata={k: v for k, v in metrics.items() if v is not None})
