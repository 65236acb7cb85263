"""Run ingest partitions through Dagster from the CLI: the same job the UI and schedules run,
executed in this process against the instance in ``DAGSTER_HOME``."""

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from ingest_pipeline.defs.ingest_assets import job_name, output_node
from ingest_pipeline.defs.partitions import IngestPartition, integration_set_name
from ingest_pipeline.defs.pools import apply_pool_limits
from ingest_pipeline.settings import get_settings

EMBEDDED_DAGSTER_YAML = """\
# The embedded default: SQLite storage in this folder, with the same limits as production.
concurrency:
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: "dagster/partition/integration"
        value:
          applyLimitPerUniqueValue: true
        limit: 1
      # Snapshot streams (contacts) are partitioned by the integration alone.
      - key: "dagster/partition"
        value:
          applyLimitPerUniqueValue: true
        limit: 1
  pools:
    default_limit: 4
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
run_retries:
  enabled: true
  max_retries: 2
  retry_on_asset_or_op_failure: false
telemetry:
  enabled: false
"""


@dataclass(frozen=True)
class RunOutcome:
    """One partition run: its Dagster run id, whether it succeeded, and its metrics."""

    partition: IngestPartition
    run_id: str
    success: bool
    metrics: dict[str, Any]
    error: str | None


def local_instance() -> dg.DagsterInstance:
    """The Dagster instance in ``DAGSTER_HOME``, defaulting to ``<data_dir>/dagster_home``."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(get_settings().dagster_home())
        os.environ["DAGSTER_HOME"] = home
    path = Path(home)
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(EMBEDDED_DAGSTER_YAML)
    instance = dg.DagsterInstance.get()
    apply_pool_limits(instance)
    return instance


def register_partition_key(
    instance: dg.DagsterInstance, integration_key: str, *, stream: str
) -> None:
    """Make ``integration_key`` a partition of ``stream``'s asset (idempotent)."""
    set_name = integration_set_name(stream)
    if instance.has_dynamic_partition(set_name, integration_key):
        return
    try:
        instance.add_dynamic_partitions(set_name, [integration_key])
    except Exception:
        # Another process added it between the check and the insert (the SQLite storage
        # selects, then inserts): only an error when it is still missing.
        if not instance.has_dynamic_partition(set_name, integration_key):
            raise


def register_if_served(integration_key: str, *, stream: str, tenant: str) -> bool:
    """Register the partition in the local instance when this deployment serves ``tenant``
    (``INGEST_TENANTS``; all when unset); False when another shard's instance does."""
    served = get_settings().tenant_list()
    if served is not None and tenant not in served:
        return False
    register_partition_key(local_instance(), integration_key, stream=stream)
    return True


def materialize_days(
    instance: dg.DagsterInstance,
    integration_key: str,
    days: list[dt.date] | None,
    *,
    stream: str = "mail",
    on_done: Callable[[RunOutcome], None] = lambda _: None,
    quiet: bool = True,
    job: dg.JobDefinition | None = None,
) -> list[RunOutcome]:
    """Materialize ``ingest/<stream>`` for each day of one integration, one Dagster run per
    day; ``days`` None runs a snapshot stream's one partition.

    ``job`` defaults to the code location's ``ingest_<stream>_job``.
    """
    if job is None:
        from ingest_pipeline.defs.code_location import build_definitions

        # Days asked for before INGEST_HISTORY_START are still run (the UI shows them once
        # the setting reaches back that far).
        history_start = min([get_settings().history_start_day(), *(days or [])])
        job = build_definitions(history_start=history_start).resolve_job_def(job_name(stream))
    register_partition_key(instance, integration_key, stream=stream)
    outcomes = []
    partition_days: list[dt.date | None] = list(days) if days is not None else [None]
    for day in partition_days:
        partition = IngestPartition(integration_key=integration_key, day=day)
        outcome = _execute(job, instance, partition, quiet=quiet, output=output_node(stream))
        on_done(outcome)
        outcomes.append(outcome)
    return outcomes


def derive_days(
    instance: dg.DagsterInstance,
    integration_key: str,
    days: list[dt.date],
    *,
    stream: str = "mail",
    on_done: Callable[[RunOutcome], None] = lambda _: None,
    job: dg.JobDefinition | None = None,
) -> list[RunOutcome]:
    """Materialize the derived assets of ``stream`` for each day of one integration (what
    the automation sensor does after an ingest run when the daemon runs); the metrics are
    the assets' counts, prefixed with the asset's name. None when the stream has none.
    ``job`` defaults to the code location's ``derive_<stream>_job``."""
    from ingest_pipeline.defs.code_location import build_definitions
    from ingest_pipeline.defs.derived_assets import derived_job_name
    from ingest_pipeline.derived.registry import derived_for

    if not derived_for(stream) or not days:
        return []
    if job is None:
        history_start = min([get_settings().history_start_day(), *days])
        job = build_definitions(history_start=history_start).resolve_job_def(
            derived_job_name(stream)
        )
    outcomes = []
    for day in days:
        partition = IngestPartition(integration_key=integration_key, day=day)
        outcome = _execute(job, instance, partition, quiet=True, output=None)
        on_done(outcome)
        outcomes.append(outcome)
    return outcomes


def _execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    partition: IngestPartition,
    *,
    quiet: bool,
    output: str | None,
) -> RunOutcome:
    """One run of ``job`` for ``partition``; metrics from the node ``output`` or, without
    one, from every materialization's metadata (``<asset>.<name>``)."""
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}} if quiet else {}
    result = job.execute_in_process(
        instance=instance,
        partition_key=partition.key,
        run_config=run_config,
        raise_on_error=False,
        tags={"ingest/launched_by": "cli"},
    )
    metrics: dict[str, Any] = {}
    error = None
    if result.success and output is not None:
        metrics = dict(result.output_for_node(output))
    elif result.success:
        for event in result.get_asset_materialization_events():
            materialization = event.step_materialization_data.materialization
            name = materialization.asset_key.path[-1]
            for label, value in materialization.metadata.items():
                metrics[f"{name}.{label}"] = getattr(value, "value", value)
    else:
        failures = [e for e in result.all_events if e.is_step_failure]
        error = "; ".join(_failure_text(e.step_failure_data.error) for e in failures)
        error = error or "run failed"
    return RunOutcome(partition, result.run_id, result.success, metrics, error)


def _failure_text(error: Any) -> str:
    """A step's error as a person reads it: a `dg.Failure`'s description, or the exception
    that caused Dagster's "error occurred while executing" wrapper."""
    if error is None:
        return "failed"
    while error.cause is not None and "Error occurred while executing" in error.message:
        error = error.cause
    return str(error.message).strip()
