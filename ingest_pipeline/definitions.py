"""The code location: assembles the Definitions and nothing else."""

from ingest_pipeline.defs.code_location import build_definitions

defs = build_definitions()
