"""Benchmark: what a run process imports, here and at an earlier commit.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/import_bench.py [--baseline REF] [--repeat 5]

For this checkout and for ``--baseline`` (a git ref, checked out into a temporary worktree
and imported from there with this venv's packages), each of ``--repeat`` fresh processes:

1. loads the code location the way a run worker does (``ingest_pipeline.definitions``,
   then the Definitions) under ``python -X importtime``: the wall time, and the import time
   of the code location's own module tree as ``-X importtime`` reports it;
2. then runs one day of the bundled sample mailbox with the offline extractor through the
   job (``execute_in_process`` on a temp SQLite app database and Dagster home),
   and lists which heavy packages the process holds at the end (openai,
   googleapiclient, numpy, msal, ...): what a mailbox partition's run imports.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = [
    "openai",
    "googleapiclient",
    "google.auth",
    "msal",
    "numpy",
    "redis",
    "celery",
    "bs4",
    "lxml",
    "docx",
    "pypdf",
    "icalendar",
    "recurring_ical_events",
    "vobject",
    "phonenumbers",
    "cryptography",
    "httpx",
    "tnefparse",
]
CHILD = r"""
import json, os, sys, time
start = time.perf_counter()
import ingest_pipeline.definitions as location
defs = location.defs()
job = defs.resolve_job_def("ingest_mail_job")
loaded = time.perf_counter() - start
import dagster as dg
from ingest_pipeline.defs.local_launch import local_instance, register_partition_key
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import add_integration
from ingest_pipeline.store.migrate import upgrade
url = os.environ["INGEST_DATABASE_URL"]
upgrade(url)
with session_scope(url) as session:
    key = add_integration(session, provider="mailbox", account=os.environ["SAMPLE"],
                          task="job_posting", stream="mail").partition_key
instance = local_instance()
register_partition_key(instance, key, stream="mail")
before = set(sys.modules)
result = job.execute_in_process(instance=instance, partition_key=f"2026-11-02|{key}",
    run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
heavy = json.loads(os.environ["HEAVY"])
print(json.dumps({
    "load_s": loaded, "success": result.success,
    "at_load": sorted(h for h in heavy if h in before),
    "after_run": sorted(h for h in heavy if h in sys.modules),
}))
"""


def child(source: Path) -> dict:
    """One fresh process importing ``ingest_pipeline`` from ``source``."""
    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        env = {
            **os.environ,
            "PYTHONPATH": str(source),
            "DAGSTER_HOME": str(Path(folder) / "home"),
            "INGEST_DATA_DIR": str(Path(folder) / "data"),
            "INGEST_DATABASE_URL": f"sqlite:///{folder}/app.db",
            "INGEST_HISTORY_START": "2026-01-01",
            "INGEST_EXTRACTOR": "offline",
            "SAMPLE": str(source / "ingest_pipeline" / "sample_data" / "sample.mbox"),
            "HEAVY": json.dumps(HEAVY),
        }
        env.pop("OPENAI_API_KEY", None)
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", CHILD],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["own_import_s"] = own_import_seconds(done.stderr)
    return result


def own_import_seconds(importtime: str) -> float:
    """The cumulative import time of ``ingest_pipeline.definitions`` (its whole tree, Dagster
    included where the code location is the first to import it)."""
    for line in importtime.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "ingest_pipeline.definitions":
            return int(parts[1]) / 1e6
    return float("nan")


def measure(source: Path, repeat: int) -> dict:
    runs = [child(source) for _ in range(repeat)]
    assert all(r["success"] for r in runs), runs
    return {
        "load_s": statistics.median(r["load_s"] for r in runs),
        "own_import_s": statistics.median(r["own_import_s"] for r in runs),
        "at_load": runs[-1]["at_load"],
        "after_run": runs[-1]["after_run"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="bc1b555", help="git ref to compare against")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import-bench-base-") as folder:
        base = Path(folder) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            results = {
                f"baseline {args.baseline}": measure(base, args.repeat),
                "this checkout": measure(ROOT, args.repeat),
            }
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT)
    print(f"import benchmark: Python {sys.version.split()[0]}; medians of {args.repeat} processes")
    for label, r in results.items():
        print(
            f"\n{label}: code location loaded in {r['load_s']:.2f} s "
            f"(-X importtime: {r['own_import_s']:.2f} s for ingest_pipeline.definitions)"
        )
        print(f"  heavy packages after loading: {', '.join(r['at_load']) or 'none'}")
        print(f"  after one mailbox partition:  {', '.join(r['after_run']) or 'none'}")
    (old, new) = results.values()
    print(f"\nload time: {new['load_s'] / old['load_s']:.2f}x the baseline's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
