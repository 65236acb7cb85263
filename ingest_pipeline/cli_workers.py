"""``ingest-pipeline workers``: what dagster-celery workers start from when runs execute
their steps on Celery (``INGEST_EXECUTOR=celery``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from ingest_pipeline.defs.executors import celery_config
from ingest_pipeline.settings import get_settings


def celery_worker_command(config_path: str, queue: str) -> list[str]:
    """The command that starts one worker taking this code location's steps."""
    start = ["dagster-celery", "worker", "start", "-A", "dagster_celery.app"]
    return [*start, "-y", config_path, "-q", queue]


def cmd_workers_celery_config(args: argparse.Namespace) -> int:
    """Write the executor's Celery configuration (broker, backend, queue) as the YAML
    ``dagster-celery worker start -y`` reads, and say how to start a worker."""
    settings = get_settings()
    text = yaml.safe_dump(celery_config(settings), sort_keys=False)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    Path(args.output).write_text(text)
    print(f"wrote {args.output}; start a worker on each machine with:")
    print("  " + " ".join(celery_worker_command(args.output, settings.celery_queue)))
    if settings.executor != "celery":
        print(
            "note: INGEST_EXECUTOR is not 'celery' here; runs send steps to the workers only "
            "where the code location loads with INGEST_EXECUTOR=celery",
            file=sys.stderr,
        )
    return 0


def add_worker_commands(sub: Any) -> None:
    """The ``workers`` command group on the main parser's subcommands."""
    group = sub.add_parser("workers", help="Celery workers for the steps of runs").add_subparsers(
        dest="workers_command", required=True
    )
    config = group.add_parser(
        "celery-config", help="write the YAML dagster-celery workers start from"
    )
    config.add_argument("--output", "-o", help="the file to write (default: standard output)")
    config.set_defaults(func=cmd_workers_celery_config)
