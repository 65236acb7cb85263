"""parse: turn fetched raw messages into `ParsedMessage` records stored by content hash."""

from __future__ import annotations

from typing import Any

from ingest_pipeline.parsing.mime_message import UnparseableMessage, parse_message
from ingest_pipeline.steps.step_context import StepContext, Stopwatch, claimed_batches
from ingest_pipeline.store import ledger
from ingest_pipeline.store.blobs import load_blobs, load_parsed, store_parsed

PARSER_VERSION = "1"


def parse_partition(ctx: StepContext, *, attachment_max_bytes: int) -> dict[str, Any]:
    """Parse every fetched item; returns ``parsed``, ``parse_failed`` and ``parse_defects``.

    A raw message parsed before (same bytes, same parser version) is not parsed again. A
    message with no usable content fails with the parser's reason; tolerated problems are
    kept as the message's defects and do not fail it.
    """
    watch = Stopwatch()
    parsed_count = failed = with_defects = 0
    for session, items in claimed_batches(ctx, "fetched"):
        digests = [item.content_hash for item in items if item.content_hash]
        known = load_parsed(session, digests, parser_version=PARSER_VERSION)
        missing = [d for d in dict.fromkeys(digests) if d not in known]
        raw = load_blobs(session, missing)
        fresh: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        for digest in missing:
            data = raw.get(digest)
            if data is None:
                errors[digest] = "raw bytes missing from storage; re-fetch the item"
                continue
            try:
                fresh[digest] = parse_message(
                    data, attachment_max_bytes=attachment_max_bytes
                ).to_json()
            except UnparseableMessage as exc:
                errors[digest] = str(exc)
        store_parsed(session, fresh, parser_version=PARSER_VERSION)
        known.update(fresh)
        updates = []
        for item in items:
            digest = item.content_hash or ""
            if digest in known:
                parsed_count += 1
                with_defects += bool(known[digest].get("defects"))
                updates.append({"id": item.id, "step": "parsed"})
            else:
                failed += 1
                reason = errors.get(digest, "item was never fetched")
                updates.append(ledger.finish(item.id, "failed", reason=f"parse: {reason}"))
        ledger.mark(session, updates)
    return {
        "parsed": parsed_count,
        "parse_failed": failed,
        "parse_defects": with_defects,
        "parse_seconds": watch.seconds(),
    }
