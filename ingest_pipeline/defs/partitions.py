"""Partitions per stream: dated streams by UTC day × integration, snapshot streams (contacts)
by integration alone. Each stream has its own dynamic set of integrations, holding only
those whose provider yields it."""

import datetime as dt
from dataclasses import dataclass

import dagster as dg

INTEGRATION_DIMENSION = "integration"
DATE_DIMENSION = "date"
# Runs of dated streams carry the integration as this tag; snapshot runs as the partition.
INTEGRATION_TAG = f"dagster/partition/{INTEGRATION_DIMENSION}"
PARTITION_TAG = "dagster/partition"


def integration_set_name(stream: str) -> str:
    """The name of the dynamic partitions set holding ``stream``'s integrations."""
    return f"{stream}_integrations"


def stream_partitions(
    stream: str, *, dated: bool, history_start: dt.date, lookahead_days: int = 0
) -> dg.PartitionsDefinition:
    """``date × integration`` (daily, UTC, from ``history_start`` through today and
    ``lookahead_days`` more) for a dated stream; the integration alone for a snapshot
    stream."""
    integrations = dg.DynamicPartitionsDefinition(name=integration_set_name(stream))
    if not dated:
        return integrations
    days = dg.DailyPartitionsDefinition(
        start_date=history_start.isoformat(), end_offset=1 + lookahead_days, timezone="UTC"
    )
    return dg.MultiPartitionsDefinition({DATE_DIMENSION: days, INTEGRATION_DIMENSION: integrations})


@dataclass(frozen=True)
class IngestPartition:
    """A run's partition: the integration's key and, for dated streams, the UTC day."""

    integration_key: str
    day: dt.date | None = None

    @property
    def key(self) -> dg.MultiPartitionKey | str:
        if self.day is None:
            return self.integration_key
        return dg.MultiPartitionKey(
            {DATE_DIMENSION: self.day.isoformat(), INTEGRATION_DIMENSION: self.integration_key}
        )

    @property
    def label(self) -> str:
        return (
            f"{self.day.isoformat()}|{self.integration_key}" if self.day else self.integration_key
        )


def partition_of(
    context: dg.OpExecutionContext | dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> IngestPartition:
    """The partition a run works on, from its (multi- or single-dimension) key."""
    key = context.partition_key
    by_dimension = getattr(key, "keys_by_dimension", None)
    if by_dimension is None and "|" in key:
        by_dimension = dict(
            zip(sorted((DATE_DIMENSION, INTEGRATION_DIMENSION)), key.split("|"), strict=True)
        )
    if by_dimension is None:
        return IngestPartition(integration_key=key)
    return IngestPartition(
        integration_key=by_dimension[INTEGRATION_DIMENSION],
        day=dt.date.fromisoformat(by_dimension[DATE_DIMENSION]),
    )


def integration_key_of_run(run: dg.DagsterRun) -> str | None:
    """The integration a run of any ingest job imports for, from its partition tags."""
    key = run.tags.get(INTEGRATION_TAG)
    if key:
        return key
    partition = run.tags.get(PARTITION_TAG)
    return partition if partition and "|" not in partition else None
