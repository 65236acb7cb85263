"""Shared fixtures: app databases on SQLite and on real Postgres, and a Dagster test instance."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ingest_pipeline.store.database import dispose_engine
from ingest_pipeline.store.migrate import upgrade
from ingest_pipeline_tests.postgres_server import find_postgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
SAMPLE_MBOX = PROJECT_ROOT / "ingest_pipeline" / "sample_data" / "sample.mbox"

_pg: dict[str, str | None] = {}


def _postgres_admin_url() -> str:
    if "url" not in _pg:
        _pg["url"], _pg["why"] = find_postgres()
    if _pg["url"] is None:
        message = f"Postgres tests need a server: {_pg['why']}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: a missing Postgres is an error, not a skip)")
        pytest.skip(message)
    return str(_pg["url"])


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[str, str]]:
    """A migrated template database; each test copies it (CREATE DATABASE ... TEMPLATE)."""
    admin = _postgres_admin_url()
    name = f"ingest_tmpl_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    dispose_engine(url)
    yield admin, name
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _fresh_postgres(template: tuple[str, str]) -> Iterator[str]:
    admin, template_name = template
    name = f"ingest_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    url = sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    yield url
    dispose_engine(url)
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _fresh_sqlite(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    yield url
    dispose_engine(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty app database: once on SQLite, once on Postgres."""
    if request.param == "sqlite":
        yield from _fresh_sqlite(tmp_path)
    else:
        yield from _fresh_postgres(request.getfixturevalue("postgres_template"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield from _fresh_sqlite(tmp_path)


@pytest.fixture
def postgres_url(postgres_template: tuple[str, str]) -> Iterator[str]:
    yield from _fresh_postgres(postgres_template)


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line's embedded default in a temp folder (the working directory): the
    SQLite app database and the Dagster home under ``<tmp>/.ingest``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("INGEST_DATA_DIR", str(tmp_path / ".ingest"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".ingest" / "dagster_home"))
    return tmp_path / ".ingest"


@pytest.fixture
def dagster_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance on SQLite in a temp DAGSTER_HOME."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


@pytest.fixture
def dagster_storage_url(postgres_template: tuple[str, str]) -> Iterator[str]:
    """An empty Postgres database for Dagster's own storage (dagster-postgres creates tables)."""
    admin, _ = postgres_template
    name = f"dagster_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    return CORPUS


@pytest.fixture
def make_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Make more fresh databases of a dialect ("sqlite" or "postgres") within one test."""
    with contextlib.ExitStack() as stack:

        def make(dialect: str) -> str:
            if dialect == "sqlite":
                folder = tmp_path / f"db-{uuid.uuid4().hex[:8]}"
                folder.mkdir()
                gen = _fresh_sqlite(folder)
            else:
                gen = _fresh_postgres(request.getfixturevalue("postgres_template"))
            url = next(gen)
            stack.callback(lambda: next(gen, None))
            return url

        yield make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first (in their order), the rest after: with two workers the
    minutes-long daemon and CLI tests then run beside the many short ones instead of
    leaving one worker alone with them at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
