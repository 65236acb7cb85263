"""Dagster glue only: resources, partitions, assets, checks and jobs that call the steps."""
