"""One factory for every stream's ingest asset and its job: ``ingest/<stream>``, a
graph-backed asset of the five ops, partitioned as the stream is."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import dagster as dg

from ingest_pipeline.defs.ingest_checks import ingest_checks_for
from ingest_pipeline.defs.ingest_ops import ingest_ops_for
from ingest_pipeline.defs.partitions import stream_partitions
from ingest_pipeline.streams.registry import get_stream

# What `dg.define_asset_job` returns; its class is not part of dagster's public API.
AssetJob = Any


@dataclass(frozen=True)
class StreamDefs:
    """Everything the code location defines for one stream."""

    stream: str
    asset: dg.AssetsDefinition
    checks: list[dg.AssetChecksDefinition]
    job: AssetJob
    partitions: dg.PartitionsDefinition
    lookahead_days: int = 0
    history_start: dt.date | None = None

    @property
    def job_name(self) -> str:
        return job_name(self.stream)

    @property
    def dated(self) -> bool:
        return get_stream(self.stream).dated


def job_name(stream: str) -> str:
    return f"ingest_{stream}_job"


def output_node(stream: str) -> str:
    """The node whose output is the run's metrics (the graph asset's name)."""
    return f"ingest__{stream}"


def stream_defs(
    stream: str,
    *,
    history_start: dt.date,
    lookahead_days: int = 0,
    executor: dg.ExecutorDefinition = dg.in_process_executor,
) -> StreamDefs:
    """The asset, checks and job of ``stream``; a stream whose items sit on future days
    gets ``lookahead_days`` past today; the job's steps run on ``executor``."""
    kind = get_stream(stream)
    ahead = lookahead_days if kind.looks_ahead else 0
    partitions = stream_partitions(
        stream, dated=kind.dated, history_start=history_start, lookahead_days=ahead
    )
    enumerate_op, fetch_op, parse_op, gpt_op, persist_op = ingest_ops_for(stream)

    @dg.graph_asset(
        key=["ingest", stream],
        partitions_def=partitions,
        group_name="ingest",
        kinds={"python", "sql"},
        description=kind.description,
    )
    def ingest_asset() -> Any:
        return persist_op(gpt_op(parse_op(fetch_op(enumerate_op()))))

    checks = ingest_checks_for(stream, ingest_asset)
    job = dg.define_asset_job(
        name=job_name(stream),
        selection=dg.AssetSelection.assets(ingest_asset).without_checks()
        | dg.AssetSelection.checks_for_assets(ingest_asset),
        partitions_def=partitions,
        executor_def=executor,
        description=f"Enumerate, fetch, parse, extract and persist one partition of {stream}.",
    )
    return StreamDefs(stream, ingest_asset, checks, job, partitions, ahead, history_start)
