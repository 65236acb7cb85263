"""The contacts stream through Dagster: vCard files become one contact per person, each card
recorded created/updated/skipped; a re-run writes nothing; an edited card is applied."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from ingest_pipeline.store.database import get_engine
from ingest_pipeline_tests.pipeline_runner import (
    check_results,
    count_rows,
    ledger_rows,
    register_source,
    run_days,
    snapshot,
)
from ingest_pipeline_tests.stream_samples import SAMPLE_VCF, big_vcard_file


def _import(db_url: str, instance: dg.DagsterInstance, path: Path) -> tuple[str, dict]:
    key = register_source(db_url, path, provider="vcard", stream="contacts")
    [outcome] = run_days(db_url, instance, key, None, stream="contacts")
    assert outcome.success, outcome.error
    return key, outcome.metrics


def _actions(db_url: str) -> dict[str, int]:
    with get_engine(db_url).connect() as c:
        rows = c.execute(sa.text("select action, count(*) from imported_contacts group by 1"))
        return {action: count for action, count in rows}


def test_sample_address_book_imports_every_card_and_passes_checks(
    db_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key, metrics = _import(db_url, dagster_instance, SAMPLE_VCF)

    assert metrics["enumerated"] == 13
    assert metrics["contacts_created"] == 12 and metrics["failed"] == 1
    assert _actions(db_url) == {"created": 12}
    [bad] = [r for r in ledger_rows(db_url) if r["status"] != "done"]
    assert bad["status"] == "failed"
    assert bad["last_error"] == "parse: card has no name, email or phone"
    assert str(bad["partition_day"]) == "1970-01-01"  # a snapshot has no day
    # Two people called Alex Chen with different emails stay two contacts.
    assert count_rows(db_url, "select count(*) from contacts where display_name = 'Alex Chen'") == 2
    laura = count_rows(
        db_url, "select count(*) from contact_identities where identity like 'email:laura.%'"
    )
    assert laura == 2  # one contact reachable by both of her emails
    runs = dagster_instance.get_runs()
    assert check_results(dagster_instance, runs[0].run_id) == {
        "contacts_counts_reconcile": True,
        "contacts_no_hidden_duplicates": True,
        "contacts_items_accounted": True,
        "contacts_failed_share_within_bounds": True,
    }
    assert runs[0].tags["dagster/partition"] == key


def test_rerun_of_an_unchanged_address_book_writes_nothing(
    db_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    key, _ = _import(db_url, dagster_instance, SAMPLE_VCF)
    before = snapshot(db_url)

    [again] = run_days(db_url, dagster_instance, key, None, stream="contacts")

    assert again.success
    assert (again.metrics["new_items"], again.metrics["changed_items"]) == (0, 0)
    assert again.metrics["inserted"] == again.metrics["updated"] == 0
    assert snapshot(db_url) == before


def test_an_edited_card_updates_its_contact_and_nothing_else(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    book = tmp_path / "book.vcf"
    big_vcard_file(book, 20)
    key, first = _import(sqlite_url, dagster_instance, book)
    assert first["contacts_created"] == 20
    book.write_bytes(
        book.read_bytes().replace(b"FN:Person 7\r\n", b"FN:Person 7\r\nTITLE:Engineer\r\n")
    )

    [again] = run_days(sqlite_url, dagster_instance, key, None, stream="contacts")

    assert again.success
    assert (again.metrics["new_items"], again.metrics["changed_items"]) == (0, 1)
    assert again.metrics["contacts_updated"] == 1
    assert _actions(sqlite_url) == {"created": 20, "updated": 1}
    assert count_rows(sqlite_url, "select count(*) from contacts where title = 'Engineer'") == 1


def test_one_person_on_two_cards_and_in_two_address_books_is_one_contact(
    sqlite_url: str, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    book = tmp_path / "book.vcf"
    big_vcard_file(book, 100)  # cards 49 and 99 repeat the emails of cards 48 and 98
    _import(sqlite_url, dagster_instance, book)
    assert count_rows(sqlite_url, "select count(*) from contacts") == 98
    # The second card of a person adds its phone to the contact the first card created.
    assert _actions(sqlite_url) == {"created": 98, "updated": 2}

    other = tmp_path / "other.vcf"
    other.write_text(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:P. Five\r\nEMAIL:PERSON5@example.com\r\n"
        "TEL:+1 (650) 253-0000\r\nEND:VCARD\r\n"
    )
    _import(sqlite_url, dagster_instance, other)

    assert count_rows(sqlite_url, "select count(*) from contacts") == 98
    with get_engine(sqlite_url).connect() as c:
        phones = c.execute(
            sa.text("select phones from contacts where contact_key = 'email:person5@example.com'")
        ).scalar_one()
    assert "+16502530000" in str(phones)  # the second source's phone joined the contact
    assert count_rows(sqlite_url, "select count(*) from contact_sources") == 101
