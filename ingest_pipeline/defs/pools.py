"""Concurrency pools: how many ops may call providers or the LLM at once, across all runs.

Every pool gets an explicit limit written to the instance: pool rows that two runs create
lazily at the same moment race (dagster issue 33552), and an explicit limit avoids that.
"""

import dagster as dg

PROVIDER_POOL = "provider_api"
LLM_POOL = "llm"
POOL_LIMITS: dict[str, int] = {PROVIDER_POOL: 4, LLM_POOL: 2}


def apply_pool_limits(instance: dg.DagsterInstance) -> dict[str, int]:
    """Set each pool's slot count on the instance (only those that differ); returns the limits."""
    storage = instance.event_log_storage
    for pool, limit in POOL_LIMITS.items():
        if storage.get_concurrency_info(pool).slot_count != limit:
            storage.set_concurrency_slots(pool, limit)
    return dict(POOL_LIMITS)
