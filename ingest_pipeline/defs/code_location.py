"""Everything the code location defines, with the resources it runs against."""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from ingest_pipeline.defs.ingest_schedules import ingest_today_schedule, ingest_yesterday_schedule
from ingest_pipeline.defs.integration_sensors import (
    ingest_canceled_sensor,
    ingest_failure_sensor,
    ingest_success_sensor,
    integrations_sensor,
)
from ingest_pipeline.defs.llm_batch_sensor import llm_batches_sensor
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
from ingest_pipeline.settings import get_settings

MAIL_CHECKS = [mail_no_duplicate_keys, mail_items_accounted, mail_failed_share_within_bounds]


def build_definitions(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    """Assets, checks, job, schedules and sensors; ``resources`` replace the defaults."""
    settings = get_settings()
    return dg.Definitions(
        assets=[ingest_mail],
        asset_checks=MAIL_CHECKS,
        jobs=[ingest_mail_job],
        schedules=[
            ingest_today_schedule(settings.today_cron),
            ingest_yesterday_schedule(settings.nightly_cron),
        ],
        sensors=[
            integrations_sensor(settings.sensor_interval_seconds),
            llm_batches_sensor(settings.llm_batch_sensor_interval_seconds),
            ingest_success_sensor,
            ingest_failure_sensor,
            ingest_canceled_sensor,
        ],
        resources={
            "app_db": AppDatabaseResource(),
            "extractor": ExtractorResource(),
            "limits": IngestLimitsResource(),
            **(resources or {}),
        },
    )
