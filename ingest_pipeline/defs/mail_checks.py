"""Checks that run after each mail partition: nothing duplicated, nothing lost, metrics sane."""

import dagster as dg

from ingest_pipeline.defs.mail_assets import ingest_mail
from ingest_pipeline.defs.partitions import partition_of
from ingest_pipeline.defs.resources import AppDatabaseResource, IngestLimitsResource
from ingest_pipeline.store import ledger, llm_batches
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.store.partition_report import duplicate_keys


def _partition(
    context: dg.AssetCheckExecutionContext, app_db: AppDatabaseResource
) -> ledger.PartitionKey:
    partition = partition_of(context)
    with session_scope(app_db.database_url()) as session:
        integration_id = find_integration(session, partition.integration_key).id
    return ledger.PartitionKey(integration_id=integration_id, day=partition.day)


@dg.asset_check(asset=ingest_mail, blocking=False, description="No unique key appears twice.")
def mail_no_duplicate_keys(
    context: dg.AssetCheckExecutionContext, app_db: AppDatabaseResource
) -> dg.AssetCheckResult:
    part = _partition(context, app_db)
    with session_scope(app_db.database_url()) as session:
        duplicates = duplicate_keys(session, part.integration_id)
    return dg.AssetCheckResult(passed=not duplicates, metadata={"duplicates": dict(duplicates)})


@dg.asset_check(
    asset=ingest_mail,
    description="Every enumerated item ended done, skipped or failed, with a reason when not done.",
)
def mail_items_accounted(
    context: dg.AssetCheckExecutionContext, app_db: AppDatabaseResource
) -> dg.AssetCheckResult:
    part = _partition(context, app_db)
    with session_scope(app_db.database_url()) as session:
        counts = ledger.status_counts(session, part)
        loose = ledger.unaccounted_items(session, part)
        examples = [f"{i.external_id}: {i.status} ({i.last_error or 'no reason'})" for i in loose]
        waiting = llm_batches.open_batch(session, part)
        awaiting = waiting.provider_batch_id if waiting else None
    return dg.AssetCheckResult(
        # Items waiting for an OpenAI batch are accounted for: the batch sensor finishes them.
        passed=not loose or awaiting is not None,
        metadata={
            "statuses": dict(counts),
            "unaccounted_examples": examples,
            **({"awaiting_llm_batch": awaiting} if awaiting else {}),
        },
    )


@dg.asset_check(asset=ingest_mail, description="The share of failed items is under the threshold.")
def mail_failed_share_within_bounds(
    context: dg.AssetCheckExecutionContext,
    app_db: AppDatabaseResource,
    limits: IngestLimitsResource,
) -> dg.AssetCheckResult:
    part = _partition(context, app_db)
    _, _, max_share = limits.resolved()
    with session_scope(app_db.database_url()) as session:
        counts = ledger.status_counts(session, part)
    total = sum(counts.values())
    share = counts.get("failed", 0) / total if total else 0.0
    return dg.AssetCheckResult(
        passed=share <= max_share,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed_share": round(share, 4), "max_failed_share": max_share, "items": total},
    )
