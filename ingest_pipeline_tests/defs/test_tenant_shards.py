"""Shards by tenant (``INGEST_TENANTS``): a deployment's sensors and schedules serve only its
tenants' integrations, so each shard's Dagster instance holds only their partitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ingest_pipeline.cli import main
from ingest_pipeline.defs.ingest_assets import stream_defs
from ingest_pipeline.defs.ingest_schedules import ingest_today_schedule
from ingest_pipeline.defs.integration_sensors import integrations_sensor
from ingest_pipeline.defs.partitions import integration_set_name
from ingest_pipeline.defs.resources import AppDatabaseResource, CredentialsResource
from ingest_pipeline.settings import Settings
from ingest_pipeline.store import integrations
from ingest_pipeline.store.database import session_scope
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.schedule_ticks import tick

MAIL = stream_defs("mail", history_start=dt.date(2020, 1, 1))
TICK = dt.datetime(2026, 11, 5, 10, 15, tzinfo=dt.UTC)


def _add(db_url: str, tenant: str) -> str:
    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session,
            provider="mailbox",
            account=str(SAMPLE_MBOX),
            task="job_posting",
            tenant_id=tenant,
        )
        return row.partition_key or ""


def test_tenants_setting_is_a_comma_separated_list() -> None:
    assert Settings(tenants=" acme, globex ,").tenant_list() == ["acme", "globex"]
    assert Settings(tenants="").tenant_list() is None
    assert Settings().tenant_list() is None


def test_the_sensor_makes_partitions_of_this_shards_tenants_only(
    sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    acme, globex, acme_too = (
        _add(sqlite_url, "acme"),
        _add(sqlite_url, "globex"),
        _add(sqlite_url, "acme"),
    )
    context = dg.build_sensor_context(
        instance=dagster_instance,
        resources={"app_db": AppDatabaseResource(url=sqlite_url, tenants=["acme"])},
    )

    result = integrations_sensor([MAIL])(context)

    [request] = result.dynamic_partitions_requests
    assert list(request.partition_keys) == [acme, acme_too]
    assert {r.partition_key.split("|")[1] for r in result.run_requests} == {acme, acme_too}
    assert globex not in str(result.run_requests)


def test_the_schedule_runs_this_shards_tenants_only(sqlite_url: str) -> None:
    acme, globex = _add(sqlite_url, "acme"), _add(sqlite_url, "globex")
    schedule = ingest_today_schedule(MAIL, probes=None)

    def requested(tenants: list[str] | None) -> set[str]:
        resources = {
            "app_db": AppDatabaseResource(url=sqlite_url, tenants=tenants),
            "credentials": CredentialsResource(),
        }
        with dg.instance_for_test() as instance:
            result = tick(schedule, TICK, resources, instance)
        assert not isinstance(result, dg.SkipReason)
        return {r.partition_key.split("|")[1] for r in result if r.partition_key}

    assert requested(["globex"]) == {globex}
    assert requested(None) == {acme, globex}
    with dg.instance_for_test() as instance:
        skipped = tick(
            schedule,
            TICK,
            {
                "app_db": AppDatabaseResource(url=sqlite_url, tenants=["initech"]),
                "credentials": CredentialsResource(),
            },
            instance,
        )
    assert isinstance(skipped, dg.SkipReason)


def test_integrations_add_registers_a_partition_only_on_the_tenants_shard(
    cli_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INGEST_TENANTS", "acme")
    add = ["integrations", "add", "--provider", "mailbox", "--path", str(SAMPLE_MBOX)]

    assert main([*add, "--tenant", "acme"]) == 0
    served = capsys.readouterr().out.strip()
    assert main([*add, "--tenant", "globex"]) == 0
    out, err = capsys.readouterr()
    other = out.strip()

    assert "not among INGEST_TENANTS" in err
    with dg.DagsterInstance.get() as instance:
        keys = set(instance.get_dynamic_partitions(integration_set_name("mail")))
    assert keys == {served}
    with session_scope(Settings().app_database_url()) as session:
        tenants = {r.partition_key: r.tenant_id for r in integrations.list_integrations(session)}
    assert tenants == {served: "acme", other: "globex"}
