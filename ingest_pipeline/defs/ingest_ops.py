"""The five ops of an ingest partition run, made once per stream by `ingest_ops_for`; each
calls the Dagster-free step function with the stream's kind, holding the partition lease."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from ingest_pipeline.defs.partitions import partition_of
from ingest_pipeline.defs.pools import LLM_POOL, PROVIDER_POOL
from ingest_pipeline.defs.resources import (
    AppDatabaseResource,
    CredentialsResource,
    ExtractorResource,
    IngestLimitsResource,
)
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline.sources.base import CredentialsRevoked, Source, SourceError, closing
from ingest_pipeline.sources.registry import get_provider
from ingest_pipeline.steps.enumerate_step import enumerate_partition
from ingest_pipeline.steps.extract_step import extract_partition, pass_through_partition
from ingest_pipeline.steps.fetch_step import fetch_partition
from ingest_pipeline.steps.integration_source import disable_for_revoked_access, open_source
from ingest_pipeline.steps.parse_step import parse_partition
from ingest_pipeline.steps.partition_lease import (
    PartitionBusy,
    hold_partition,
    release_partition,
)
from ingest_pipeline.steps.persist_step import persist_partition
from ingest_pipeline.steps.step_context import IntegrationInfo, LeaseLost, StepContext
from ingest_pipeline.store.credentials_vault import CredentialsKeyError
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import IntegrationNotFound, find_integration
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.streams.registry import get_stream

# A run tagged with this "off" extracts directly (the batch sensor's follow-up runs).
LLM_BATCH_TAG = "ingest/llm_batch"

transient_retry = dg.RetryPolicy(
    max_retries=3, delay=2.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def step_context(
    context: dg.OpExecutionContext,
    stream: str,
    app_db: AppDatabaseResource,
    limits: IngestLimitsResource,
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
    if info.stream != stream:
        raise dg.Failure(
            description=f"integration {info.partition_key} yields {info.stream}, not {stream}; "
            f"run it with ingest_{info.stream}_job",
            allow_retries=False,
        )
    if status != "active":
        raise dg.Failure(
            description=f"integration {info.partition_key} is {status}; enable it to import again",
            allow_retries=False,
        )
    return StepContext(
        database_url=url,
        integration=info,
        part=PartitionKey(integration_id=info.id, day=partition.day, stream=stream),
        run_id=context.run_id,
        batch_size=limits.batch_size,
        lease=limits.lease_terms(),
    )


@contextmanager
def leased_step(ctx: StepContext) -> Iterator[None]:
    """Run a step holding the partition's lease, without retries for what retrying cannot
    fix (see `no_retry_for_permanent_errors`)."""
    with no_retry_for_permanent_errors(ctx), hold_partition(ctx):
        yield


@contextmanager
def no_retry_for_permanent_errors(ctx: StepContext | None = None) -> Iterator[None]:
    """Fail the op without retries on what retrying cannot fix; anything else (network, 5xx)
    is left to the op's RetryPolicy.

    - revoked credentials: the integration is disabled and a notification asks the user to
      reconnect, so no schedule retries it every 15 minutes;
    - a `SourceError` (bad path, bad credentials);
    - another live run holding the partition, or having taken it over;
    - the run being terminated: with the in-process executor Dagster would otherwise retry
      the interrupted op and finish the run (dagster issue 15026). The batch in flight has
      rolled back, so the run stops between items.
    The partition's lease is given up on the way out, so the next run need not wait for it.
    """
    try:
        yield
    except CredentialsRevoked as exc:
        if ctx is not None:
            disable_for_revoked_access(ctx, exc)
            release_partition(ctx)
        raise dg.Failure(
            description=f"{exc}. The integration is disabled until it is reconnected.",
            allow_retries=False,
        ) from exc
    except (PartitionBusy, LeaseLost) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    except (SourceError, CredentialsKeyError) as exc:
        if ctx is not None:
            release_partition(ctx)
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    except dg.DagsterExecutionInterruptedError as exc:
        if ctx is not None:
            release_partition(ctx)
        raise dg.Failure(
            description="the run was terminated; it stopped between items and the next run "
            "continues where it left off",
            allow_retries=False,
        ) from exc


@contextmanager
def _source(ctx: StepContext, credentials: CredentialsResource) -> Iterator[Source]:
    """The integration's source, checked, and closed when the step is done with it."""
    with closing(open_source(ctx, credentials_key=credentials.key)) as source:
        source.check()
        yield source


def _merged(
    context: dg.OpExecutionContext, name: str, upstream: dict[str, Any], summary: dict[str, Any]
) -> dict[str, Any]:
    """Log a step's summary and add it to the metrics passed down the graph."""
    context.log.info(f"{name}: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    return {**upstream, **summary}


def items_cap(configured: int | None, provider: str) -> int | None:
    """The fetch cap of one run: ``INGEST_MAX_ITEMS_PER_RUN`` or the provider's own cap
    (Google Calendar's 2,000, as the seed had), whichever is lower."""
    caps = [c for c in (configured, get_provider(provider).max_items_per_run) if c is not None]
    return min(caps) if caps else None


def final_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The run's totals: duration, items skipped and failed across the steps."""
    metrics = dict(metrics)
    metrics["duration_seconds"] = round(
        sum(v for k, v in metrics.items() if k.endswith("_seconds")), 3
    )
    metrics["skipped"] = sum(
        metrics.get(k, 0) for k in ("items_skipped", "items_duplicate", "fetch_skipped")
    )
    metrics["failed"] = sum(
        metrics.get(k, 0)
        for k in ("fetch_failed", "parse_failed", "extraction_failed", "items_failed")
    )
    return metrics


def ingest_ops_for(stream: str) -> tuple[dg.OpDefinition, ...]:
    """The enumerate, fetch, parse, gpt and persist ops of ``stream``'s asset."""
    kind = get_stream(stream)

    @dg.op(name=f"{stream}_enumerate", retry_policy=transient_retry, pool=PROVIDER_POOL)
    def enumerate_op(
        context: dg.OpExecutionContext,
        app_db: AppDatabaseResource,
        limits: IngestLimitsResource,
        credentials: CredentialsResource,
    ) -> dict[str, Any]:
        """List the partition's provider items into the ledger."""
        ctx = step_context(context, stream, app_db, limits)
        with leased_step(ctx), _source(ctx, credentials) as source:
            summary = enumerate_partition(ctx, source)
        return _merged(context, "enumerate", {}, summary)

    @dg.op(name=f"{stream}_fetch", retry_policy=transient_retry, pool=PROVIDER_POOL)
    def fetch_op(
        context: dg.OpExecutionContext,
        upstream: dict[str, Any],
        app_db: AppDatabaseResource,
        limits: IngestLimitsResource,
        credentials: CredentialsResource,
    ) -> dict[str, Any]:
        """Download unfetched items into content-addressed raw storage."""
        ctx = step_context(context, stream, app_db, limits)
        with leased_step(ctx), _source(ctx, credentials) as source:
            summary = fetch_partition(
                ctx,
                source,
                max_items=items_cap(limits.max_items_per_run, ctx.integration.provider),
                max_seconds=limits.max_run_seconds,
            )
        return _merged(context, "fetch", upstream, summary)

    @dg.op(name=f"{stream}_parse")
    def parse_op(
        context: dg.OpExecutionContext,
        upstream: dict[str, Any],
        app_db: AppDatabaseResource,
        limits: IngestLimitsResource,
    ) -> dict[str, Any]:
        """Parse fetched raw items into the stream's records."""
        ctx = step_context(context, stream, app_db, limits)
        with leased_step(ctx):
            summary = parse_partition(ctx, kind=kind, options=limits.parse_options())
        return _merged(context, "parse", upstream, summary)

    @dg.op(name=f"{stream}_gpt", retry_policy=transient_retry, pool=LLM_POOL)
    def gpt_op(
        context: dg.OpExecutionContext,
        upstream: dict[str, Any],
        app_db: AppDatabaseResource,
        limits: IngestLimitsResource,
        extractor: ExtractorResource,
    ) -> dict[str, Any]:
        """Run the integration's LLM task through the cache (or pass items on without one)."""
        ctx = step_context(context, stream, app_db, limits)
        with leased_step(ctx):
            if ctx.integration.task is None:
                summary = pass_through_partition(ctx)
            else:
                summary = extract_partition(
                    ctx,
                    kind=kind,
                    task=get_task(ctx.integration.task),
                    extractor=extractor.router() if kind.per_item_model else extractor.build(),
                    batch_threshold=(
                        None
                        if context.run.tags.get(LLM_BATCH_TAG) == "off" or kind.per_item_model
                        else extractor.batch_threshold
                    ),
                    concurrency=extractor.concurrency,
                    daily_budget_usd=extractor.daily_budget_usd,
                )
        return _merged(context, "gpt", upstream, summary)

    @dg.op(name=f"{stream}_persist")
    def persist_op(
        context: dg.OpExecutionContext,
        upstream: dict[str, Any],
        app_db: AppDatabaseResource,
        limits: IngestLimitsResource,
        extractor: ExtractorResource,
    ) -> dg.Output[dict[str, Any]]:
        """Upsert the records and end every ledger item; the metrics become metadata."""
        ctx = step_context(context, stream, app_db, limits)
        with leased_step(ctx):
            summary = persist_partition(
                ctx,
                kind=kind,
                task=get_task(ctx.integration.task) if ctx.integration.task else None,
                min_confidence=extractor.min_confidence,
            )
        release_partition(ctx)
        metrics = final_metrics(_merged(context, "persist", upstream, summary))
        return dg.Output(metrics, metadata={k: v for k, v in metrics.items() if v is not None})

    return enumerate_op, fetch_op, parse_op, gpt_op, persist_op
