"""The code location: assembles the Definitions and nothing else."""

import dagster as dg

from ingest_pipeline.defs.mail_assets import ingest_mail, ingest_mail_job
from ingest_pipeline.defs.mail_checks import (
    mail_failed_share_within_bounds,
    mail_items_accounted,
    mail_no_duplicate_keys,
)
from ingest_pipeline.defs.resources import (
    AppDatabaseResource,
    ExtractorResource,
    IngestLimitsResource,
)

defs = dg.Definitions(
    assets=[ingest_mail],
    asset_checks=[mail_no_duplicate_keys, mail_items_accounted, mail_failed_share_within_bounds],
    jobs=[ingest_mail_job],
    resources={
        "app_db": AppDatabaseResource(),
        "extractor": ExtractorResource(),
        "limits": IngestLimitsResource(),
    },
)
