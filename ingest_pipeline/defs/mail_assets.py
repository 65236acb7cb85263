"""The mail asset: one partition per integration-day, built by the five ingest ops."""

from typing import Any

import dagster as dg

from ingest_pipeline.defs.ingest_ops import enumerate_op, fetch_op, gpt_op, parse_op, persist_op
from ingest_pipeline.defs.partitions import ingest_partitions


@dg.graph_asset(
    key=["ingest", "mail"],
    partitions_def=ingest_partitions,
    group_name="ingest",
    kinds={"python", "sql"},
    description=(
        "Mail received on one UTC day by one integration, imported into the app database: "
        "messages, attachments, and the integration's extraction results (job postings or "
        "job applications). Its metadata are the run's metrics."
    ),
)
def ingest_mail() -> Any:
    return persist_op(gpt_op(parse_op(fetch_op(enumerate_op()))))


ingest_mail_job = dg.define_asset_job(
    name="ingest_mail_job",
    selection=dg.AssetSelection.assets(ingest_mail).without_checks()
    | dg.AssetSelection.checks_for_assets(ingest_mail),
    partitions_def=ingest_partitions,
    executor_def=dg.in_process_executor,
    description="Enumerate, fetch, parse, extract and persist one integration-day of mail.",
)
