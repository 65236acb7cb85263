"""Find the Postgres the tests use: INGEST_TEST_POSTGRES_URL, else 127.0.0.1:5432, else a
throwaway cluster from local PostgreSQL binaries; else skip (or fail when CI=true)."""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import sqlalchemy as sa

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def reachable(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_throwaway_cluster() -> str | None:
    """initdb + pg_ctl a cluster in a temp dir (as the postgres user when we are root)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = bins[-1] if bins else shutil.which("initdb")
    if not initdb:
        return None
    pg_ctl = os.path.join(os.path.dirname(initdb), "pg_ctl")
    prefix: list[str] = []
    data = tempfile.mkdtemp(prefix="ingest-pg-")
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(
        [*prefix, initdb, "-D", data, "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *prefix,
            pg_ctl,
            "-D",
            data,
            "-o",
            f"-p {port} -k {data} -h 127.0.0.1",
            "-w",
            "start",
            "-l",
            os.path.join(data, "log"),
        ],
        check=True,
        capture_output=True,
    )
    atexit.register(
        lambda: subprocess.run(
            [*prefix, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True
        )
    )
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    for _ in range(50):
        if reachable(url):
            return url
        time.sleep(0.1)
    return None


def find_postgres() -> tuple[str | None, str]:
    """(admin URL, how it was found) or (None, why not)."""
    url = os.environ.get("INGEST_TEST_POSTGRES_URL", DEFAULT_URL)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    if reachable(url):
        return url, "server"
    try:
        started = start_throwaway_cluster()
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"no Postgres at {url} and a throwaway cluster failed to start: {exc}"
    if started:
        return started, "throwaway cluster"
    return None, f"no Postgres at {url} and no local PostgreSQL binaries to start one"
