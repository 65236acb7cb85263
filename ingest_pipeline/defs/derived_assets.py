"""One factory for the derived assets (``derived/<name>``) downstream of the ingest assets,
their checks, one job per stream that materializes them, and the automation sensor that
keeps them current.

Each derived asset has its stream's partitions and `EAGER`: when a partition of what it
reads is materialized (a scheduled run, a CLI run, a backfill of old days), that same
partition of the derived asset is requested, so the downstream tables follow every ingest.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import dagster as dg

from ingest_pipeline.defs.ingest_assets import AssetJob, StreamDefs
from ingest_pipeline.defs.partitions import partition_of
from ingest_pipeline.defs.resources import (
    AppDatabaseResource,
    EmbedderResource,
    ExtractorResource,
)
from ingest_pipeline.derived.derive_inputs import DeriveInputs, LlmSettings
from ingest_pipeline.derived.derived_checks import DerivedCheck
from ingest_pipeline.derived.registry import DerivedDataset, derived_for
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import find_integration

T = TypeVar("T")

GROUP = "derived"
# Eager without its latest-time-window limit: a backfill of older days updates them too.
EAGER = dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())


def derived_job_name(stream: str) -> str:
    return f"derive_{stream}_job"


def _key(name: str) -> dg.AssetKey:
    return dg.AssetKey(name.split("/")) if "/" in name else dg.AssetKey([GROUP, name])


@dataclass(frozen=True)
class DerivedDefs:
    """The derived assets of one stream, their checks, and the job materializing them
    (with their checks)."""

    stream: str
    assets: list[dg.AssetsDefinition]
    checks: list[dg.AssetChecksDefinition]
    job: AssetJob


def _on_partition(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
    app_db: AppDatabaseResource,
    embedder: EmbedderResource,
    extractor: ExtractorResource,
    compute: Callable[[DeriveInputs], T],
) -> T:
    """``compute`` over the run's partition (its integration and day) in one transaction."""
    partition = partition_of(context)
    if partition.day is None:
        raise dg.Failure(f"derived datasets follow dated partitions; got {partition.label}")
    with session_scope(app_db.database_url()) as session:
        integration = find_integration(session, partition.integration_key)
        llm = LlmSettings(
            make_extractor=extractor.build,
            concurrency=extractor.concurrency,
            daily_budget_usd=extractor.daily_budget_usd,
        )
        return compute(
            DeriveInputs(session, integration, partition.day, make_embedder=embedder.build, llm=llm)
        )


def _asset(dataset: DerivedDataset, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=_key(dataset.name),
        deps=[_key(dataset.reads)],
        partitions_def=partitions,
        group_name=GROUP,
        kinds={"python", "sql"},
        automation_condition=EAGER,
        description=dataset.description,
    )
    def derived_asset(
        context: dg.AssetExecutionContext,
        app_db: AppDatabaseResource,
        embedder: EmbedderResource,
        extractor: ExtractorResource,
    ) -> dg.MaterializeResult:
        counts = _on_partition(context, app_db, embedder, extractor, dataset.derive)
        context.log.info(f"{dataset.name} for {context.partition_key}: {dict(counts)}")
        return dg.MaterializeResult(metadata={k: int(v) for k, v in sorted(counts.items())})

    return derived_asset


def _check(
    asset: dg.AssetsDefinition, dataset: DerivedDataset, check: DerivedCheck
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=check.name, description=check.description)
    def derived_check(
        context: dg.AssetCheckExecutionContext,
        app_db: AppDatabaseResource,
        embedder: EmbedderResource,
        extractor: ExtractorResource,
    ) -> dg.AssetCheckResult:
        problems = _on_partition(context, app_db, embedder, extractor, check.find)
        return dg.AssetCheckResult(
            passed=not problems, metadata={"problems": len(problems), "examples": problems}
        )

    return derived_check


def derived_defs(
    streams: Sequence[StreamDefs], executor: dg.ExecutorDefinition = dg.in_process_executor
) -> list[DerivedDefs]:
    """Per stream with derived datasets: their assets, checks and job (its steps on
    ``executor``)."""
    found = []
    for defs in streams:
        datasets = derived_for(defs.stream)
        if not datasets:
            continue
        assets = [_asset(d, defs.partitions) for d in datasets]
        checks = [
            _check(asset, d, c) for asset, d in zip(assets, datasets, strict=True) for c in d.checks
        ]
        job = dg.define_asset_job(
            name=derived_job_name(defs.stream),
            selection=dg.AssetSelection.assets(*assets),
            partitions_def=defs.partitions,
            executor_def=executor,
            description=f"Compute what the application derives from one partition of "
            f"{defs.stream}.",
        )
        found.append(DerivedDefs(defs.stream, assets, checks, job))
    return found


def automation_sensor(minimum_interval_seconds: int) -> dg.AutomationConditionSensorDefinition:
    """Requests the derived assets' partitions whose inputs were materialized; on by
    default, one run per partition (so each run carries its integration's tags)."""
    return dg.AutomationConditionSensorDefinition(
        "derived_automation_sensor",
        target=dg.AssetSelection.groups(GROUP),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=minimum_interval_seconds,
        emit_backfills=False,
        description="Updates the derived assets after each ingest materialization, including "
        "backfills of older days.",
    )
