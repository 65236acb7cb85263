"""How the command line prints tables and the per-day import summary."""

from __future__ import annotations

from collections.abc import Sequence

from ingest_pipeline.derived.entity_mentions_daily import EntityTotal
from ingest_pipeline.derived.mail_summary import MailSummary
from ingest_pipeline.derived.matching import Match
from ingest_pipeline.store.partition_report import DayReport


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if c.replace(".", "").isdigit() else c.ljust(w)
                for c, w in zip(row, widths, strict=True)
            ).rstrip()
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def print_summary(reports: list[DayReport], totals: dict[str, float]) -> None:
    """One row per partition with its item counts and the records it produced, a total
    row, and a sentence on what the run wrote and paid for."""
    labels = list(dict.fromkeys(label for r in reports for label in r.produced))
    headers = (
        "day",
        "enumerated",
        "fetched",
        "parsed",
        "extracted",
        "persisted",
        "skipped",
        "failed",
        *(label.replace("_", " ") for label in labels),
    )
    rows: list[tuple[object, ...]] = [
        (
            r.label,
            r.enumerated,
            r.fetched,
            r.parsed,
            r.extracted,
            r.persisted,
            r.skipped,
            r.failed,
            *(r.produced.get(label, 0) for label in labels),
        )
        for r in reports
    ]
    numbers = [[int(str(cell)) for cell in row[1:]] for row in rows]
    totals_row = [sum(column) for column in zip(*numbers, strict=True)] or [0] * (len(headers) - 1)
    if len(rows) > 1:
        rows.append(("total", *totals_row))
    print()
    print_table(headers, rows)
    inserted, updated = int(totals.get("inserted", 0)), int(totals.get("updated", 0))
    calls, hits = int(totals.get("extraction_calls", 0)), int(totals.get("cache_hits", 0))
    print()
    if totals.get("failed_runs"):
        print(f"This run: {inserted} rows inserted, {updated} updated, {calls} extraction calls.")
    elif inserted == 0 and updated == 0 and calls == 0:
        print(
            "Nothing changed: every item was already imported; no row was written and no "
            "extraction call was made."
        )
    else:
        print(
            f"This run: {inserted} rows inserted, {updated} updated, {calls} extraction calls, "
            f"{hits} served from the extraction cache."
        )
    if totals.get("failed_runs"):
        print(f"{int(totals['failed_runs'])} run(s) failed; see above and the Dagster UI.")


def print_mail_summary(summary: MailSummary) -> None:
    """What the mail became: interactions, contacts found in mail, top correspondents."""
    print(
        f"\n== derived from mail ==\n{summary.interactions} interactions "
        f"({summary.automated} automated, bulk or role-account mail, not relationships) with "
        f"{summary.people} people; {summary.contacts_seen_in_mail} contacts seen in mail."
    )
    if summary.top_people:
        print_table(
            ("person", "address", "emails in", "emails out"),
            [tuple(row) for row in summary.top_people],
        )


def print_top_matches(matches: Sequence[tuple[int, str, Match]], model: str) -> None:
    """The best candidate for each of the first postings, with the shared skills."""
    if not matches:
        return
    print(f"\nTop matches (embeddings: {model}; ingest-pipeline match --posting ID for more):")
    print_table(
        ("posting", "id", "best candidate", "score", "why: shared skills"),
        [
            (label[:40], posting_id, m.label, f"{m.score:.3f}", ", ".join(m.shared_skills) or "-")
            for posting_id, label, m in matches
        ],
    )


def print_top_entities(rows: Sequence[EntityTotal]) -> None:
    """The entities the prompt set's answers mention most, per model."""
    if not rows:
        return
    print("\nMost mentioned entities (entity_mentions_daily; plot it per day in your UI):")
    print_table(
        ("entity", "model", "mentions", "answers", "answered by"),
        [(r.display_name, r.model, r.mentions, r.answers, r.answered_by) for r in rows],
    )
