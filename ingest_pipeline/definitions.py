"""The code location: assembles the Definitions and nothing else.

Loaded lazily by Dagster (``@dg.definitions``), so settings are read when the code location
loads, never at import.
"""

import dagster as dg

from ingest_pipeline.defs.code_location import build_definitions


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
