"""Every card and every event of the shared real-world corpus goes through full partition
runs: each ends done, skipped or failed with a reason, the runs succeed, nothing is lost."""

from __future__ import annotations

import uuid
from pathlib import Path

import dagster as dg
import pytest

from ingest_pipeline.extraction.offline_extractor import OfflineExtractor
from ingest_pipeline.sources.ics.ics_source import IcsSource
from ingest_pipeline.steps.partition_checks import reconcile
from ingest_pipeline.steps.partition_runner import run_partition
from ingest_pipeline.steps.step_context import IntegrationInfo, StepContext
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import find_integration
from ingest_pipeline.store.ledger import PartitionKey
from ingest_pipeline.streams.registry import get_stream
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    ledger_rows,
    register_source,
    run_days,
)


def assert_every_item_ended_with_a_reason(db_url: str) -> list[dict]:
    rows = ledger_rows(db_url)
    for row in rows:
        assert row["status"] in {"done", "skipped", "failed"}, row
        if row["status"] != "done":
            assert row["last_error"], row
    return rows


@pytest.mark.slow
def test_every_corpus_card_is_accounted_for(
    corpus: Path, sqlite_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key = register_source(
        sqlite_url, corpus / "contacts" / "ez-vcard", provider="vcard", stream="contacts"
    )

    [outcome] = run_days(sqlite_url, dagster_instance, key, None, stream="contacts")

    assert outcome.success, outcome.error
    rows = assert_every_item_ended_with_a_reason(sqlite_url)
    assert len(rows) == outcome.metrics["enumerated"] == 26
    assert all(check_results(dagster_instance, outcome.run_id).values())


@pytest.mark.slow
def test_every_corpus_event_is_accounted_for(corpus: Path, sqlite_url: str) -> None:
    folder = corpus / "calendars"
    key = register_source(sqlite_url, folder, provider="ics", stream="calendar_events")
    with session_scope(sqlite_url) as session:
        info = IntegrationInfo.of(find_integration(session, key))
    source = IcsSource(folder)
    kind = get_stream("calendar_events")
    enumerated = 0
    for day in source.first_days():
        part = PartitionKey(info.id, day, "calendar_events")
        ctx = StepContext(sqlite_url, info, part, uuid.uuid4().hex)
        metrics = run_partition(ctx, source, extractor=OfflineExtractor())
        enumerated += metrics["enumerated"]
        with session_scope(sqlite_url) as session:
            result = reconcile(session, part, kind)
        assert result.balanced and result.waiting == 0, (day, result)

    rows = assert_every_item_ended_with_a_reason(sqlite_url)
    assert len(rows) == enumerated
    statuses = [r["status"] for r in rows]
    assert statuses.count("done") >= 117 and statuses.count("failed") >= 70
