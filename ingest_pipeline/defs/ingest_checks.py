"""One factory for every ingest asset's checks: counts reconcile (nothing lost), no
duplicate the unique keys cannot see, every item accounted with a reason, and the failed
share under its threshold."""

import dagster as dg

from ingest_pipeline.defs.partitions import partition_of
from ingest_pipeline.defs.resources import AppDatabaseResource, IngestLimitsResource
from ingest_pipeline.steps.partition_checks import reconcile
from ingest_pipeline.store import ledger, llm_batches
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.streams.registry import get_stream


def _partition(
    context: dg.AssetCheckExecutionContext, app_db: AppDatabaseResource, stream: str
) -> ledger.PartitionKey:
    partition = partition_of(context)
    with session_scope(app_db.database_url()) as session:
        integration_id = find_integration(session, partition.integration_key).id
    return ledger.PartitionKey(integration_id=integration_id, day=partition.day, stream=stream)


def ingest_checks_for(stream: str, asset: dg.AssetsDefinition) -> list[dg.AssetChecksDefinition]:
    """The four checks of ``stream``'s ingest asset."""
    kind = get_stream(stream)

    @dg.asset_check(
        asset=asset,
        name=f"{stream}_counts_reconcile",
        description="Every enumerated item is stored, a skipped duplicate of a stored item, "
        "skipped or failed with a reason, or waiting; none is done without its record.",
    )
    def counts_reconcile(
        context: dg.AssetCheckExecutionContext, app_db: AppDatabaseResource
    ) -> dg.AssetCheckResult:
        part = _partition(context, app_db, stream)
        with session_scope(app_db.database_url()) as session:
            result = reconcile(session, part, kind)
        return dg.AssetCheckResult(
            passed=result.balanced,
            metadata={
                "enumerated": result.enumerated,
                "stored": result.stored,
                "duplicates_skipped": result.duplicates_skipped,
                "skipped": result.skipped,
                "failed": result.failed,
                "waiting": result.waiting,
                "lost": result.lost,
                "lost_examples": result.lost_examples,
            },
        )

    @dg.asset_check(
        asset=asset,
        name=f"{stream}_no_hidden_duplicates",
        blocking=False,
        description="No duplicate the unique keys cannot see: the same message under two "
        "keys, the same posting from two messages, one person as two contacts, one "
        "occurrence under two ids.",
    )
    def no_hidden_duplicates(
        context: dg.AssetCheckExecutionContext, app_db: AppDatabaseResource
    ) -> dg.AssetCheckResult:
        part = _partition(context, app_db, stream)
        with session_scope(app_db.database_url()) as session:
            found = kind.hidden_duplicates(session, part.integration_id)
        return dg.AssetCheckResult(
            passed=not found,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"duplicates": found},
        )

    @dg.asset_check(
        asset=asset,
        name=f"{stream}_items_accounted",
        description="Every enumerated item ended done, skipped or failed, with a reason "
        "when not done.",
    )
    def items_accounted(
        context: dg.AssetCheckExecutionContext, app_db: AppDatabaseResource
    ) -> dg.AssetCheckResult:
        part = _partition(context, app_db, stream)
        with session_scope(app_db.database_url()) as session:
            counts = ledger.status_counts(session, part)
            loose = ledger.unaccounted_items(session, part)
            examples = [
                f"{i.external_id}: {i.status} ({i.last_error or 'no reason'})" for i in loose
            ]
            waiting = llm_batches.open_batch(session, part)
            awaiting = waiting.provider_batch_id if waiting else None
        return dg.AssetCheckResult(
            # Items waiting for an OpenAI batch are accounted for: the batch sensor ends them.
            passed=not loose or awaiting is not None,
            metadata={
                "statuses": dict(counts),
                "unaccounted_examples": examples,
                **({"awaiting_llm_batch": awaiting} if awaiting else {}),
            },
        )

    @dg.asset_check(
        asset=asset,
        name=f"{stream}_failed_share_within_bounds",
        description="The share of failed items is under the threshold.",
    )
    def failed_share_within_bounds(
        context: dg.AssetCheckExecutionContext,
        app_db: AppDatabaseResource,
        limits: IngestLimitsResource,
    ) -> dg.AssetCheckResult:
        part = _partition(context, app_db, stream)
        with session_scope(app_db.database_url()) as session:
            counts = ledger.status_counts(session, part)
        total = sum(counts.values())
        share = counts.get("failed", 0) / total if total else 0.0
        return dg.AssetCheckResult(
            passed=share <= limits.max_failed_share,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "failed_share": round(share, 4),
                "max_failed_share": limits.max_failed_share,
                "items": total,
            },
        )

    return [counts_reconcile, no_hidden_duplicates, items_accounted, failed_share_within_bounds]
