"""ingest_pipeline: imports connected accounts' mail, contacts and events into the app database."""
