"""Gmail through google-api-python-client: OAuth credentials, day windows, batched raw fetch
within the per-user quota, incremental history."""
