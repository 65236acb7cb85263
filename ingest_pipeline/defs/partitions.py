"""Partitions: every ingest asset is partitioned by UTC day × integration."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

INTEGRATION_DIMENSION = "integration"
DATE_DIMENSION = "date"

integration_partitions = dg.DynamicPartitionsDefinition(name=INTEGRATION_DIMENSION)
day_partitions = dg.DailyPartitionsDefinition(start_date="1990-01-01", end_offset=1, timezone="UTC")
ingest_partitions = dg.MultiPartitionsDefinition(
    {DATE_DIMENSION: day_partitions, INTEGRATION_DIMENSION: integration_partitions}
)


@dataclass(frozen=True)
class IngestPartition:
    """A run's partition: the integration's key and the UTC day."""

    integration_key: str
    day: dt.date

    @property
    def key(self) -> dg.MultiPartitionKey:
        return dg.MultiPartitionKey(
            {DATE_DIMENSION: self.day.isoformat(), INTEGRATION_DIMENSION: self.integration_key}
        )


def partition_of(context: dg.OpExecutionContext | dg.AssetCheckExecutionContext) -> IngestPartition:
    key = context.partition_key
    keys = getattr(key, "keys_by_dimension", None) or dict(
        zip(sorted((DATE_DIMENSION, INTEGRATION_DIMENSION)), key.split("|"), strict=True)
    )
    return IngestPartition(
        integration_key=keys[INTEGRATION_DIMENSION],
        day=dt.date.fromisoformat(keys[DATE_DIMENSION]),
    )
