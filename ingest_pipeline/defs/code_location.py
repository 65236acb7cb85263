"""Everything the code location defines, with the resources it runs against."""

from collections.abc import Mapping
from typing import Any

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

MAIL_CHECKS = [mail_no_duplicate_keys, mail_items_accounted, mail_failed_share_within_bounds]


def build_definitions(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    """The assets, checks and jobs; ``resources`` replace the defaults (settings-driven)."""
    return dg.Definitions(
        assets=[ingest_mail],
        asset_checks=MAIL_CHECKS,
        jobs=[ingest_mail_job],
        resources={
            "app_db": AppDatabaseResource(),
            "extractor": ExtractorResource(),
            "limits": IngestLimitsResource(),
            **(resources or {}),
        },
    )
