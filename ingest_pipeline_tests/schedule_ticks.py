"""Evaluate a schedule the way the daemon does: inside the context's ``with``.

``build_schedule_context(instance=...)`` keeps only the instance's ref and opens a second
instance from it when the schedule reads ``context.instance``; that instance sets Dagster's
definitions-state storage in a ContextVar. Left open, it is garbage-collected later, in
another test, and its exit puts back a storage whose instance is gone ("Attempted to resolve
undefined DagsterInstance weakref" in whatever test loads definitions next). Closing the
context closes that instance at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg


def tick(
    schedule: dg.ScheduleDefinition,
    when: dt.datetime,
    resources: dict[str, Any],
    instance: dg.DagsterInstance | None = None,
) -> list[dg.RunRequest] | dg.SkipReason:
    """The run requests (or the skip reason) of ``schedule`` evaluated at ``when``."""
    with dg.build_schedule_context(
        scheduled_execution_time=when, instance=instance, resources=resources
    ) as context:
        result = schedule(context)  # type: ignore[arg-type]
        if isinstance(result, dg.SkipReason):
            return result
        return list(result)
