"""Where a run's steps execute (``INGEST_EXECUTOR``).

- ``in_process`` (default): the five steps of a partition run one after another in the run's
  own process. A run is small (one integration × one day) and the machine runs several at
  once, so this is the cheapest: one import of the code location per run.
- ``multiprocess``: a process per step, on the machine that runs the run.
- ``celery``: each step is a task on a dagster-celery worker, on this machine or any other,
  taken from the broker (RabbitMQ or Redis). Every worker needs this package, the same
  ``INGEST_*`` environment (app database, keys), and ``DAGSTER_HOME`` pointing at the shared
  Postgres instance; step outputs are the small metrics dicts, kept by the instance's IO
  manager (its ``storage`` folder, shared by the processes of one machine; use an object
  store IO manager when the workers are on several machines).
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from ingest_pipeline.settings import Settings


def celery_config(settings: Settings) -> dict[str, Any]:
    """The dagster-celery configuration the runs submit with and the workers start from
    (``dagster-celery worker start -y``): broker, result backend, and the queue the steps
    go to."""
    return {
        "broker": settings.celery_broker,
        "backend": settings.celery_backend,
        "config_source": {"task_default_queue": settings.celery_queue},
    }


def run_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor every ingest and derived job runs with."""
    if settings.executor == "in_process":
        return dg.in_process_executor
    if settings.executor == "multiprocess":
        return dg.multiprocess_executor
    # Imported only when chosen: celery and kombu add ~0.3 s to every run's start.
    from dagster_celery import celery_executor

    executor: dg.ExecutorDefinition = celery_executor.configured(
        celery_config(settings), name="celery"
    )
    return executor
