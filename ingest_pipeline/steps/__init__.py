"""The five steps as plain functions over the ledger; the Dagster ops and the CLI call these."""
