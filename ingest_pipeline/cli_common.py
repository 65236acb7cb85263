"""What the command line's modules share: the usage error, date arguments, the migrated
app database."""

from __future__ import annotations

import argparse
import datetime as dt

from ingest_pipeline.settings import get_settings
from ingest_pipeline.store.migrate import upgrade


class UsageError(Exception):
    """A bad argument or state the user can fix; printed without a traceback."""


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-01") from None


def migrated_url() -> str:
    """The app database's URL, brought to the latest migration first."""
    url = get_settings().app_database_url()
    upgrade(url)
    return url
