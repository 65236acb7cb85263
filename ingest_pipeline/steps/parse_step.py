"""parse: turn fetched raw items into the stream's records, stored by content hash."""

from __future__ import annotations

from typing import Any

from ingest_pipeline.steps.step_context import StepContext, Stopwatch, claimed_batches
from ingest_pipeline.store import ledger
from ingest_pipeline.store.blobs import load_blobs, load_parsed, store_parsed
from ingest_pipeline.streams.stream_kind import ParseOptions, StreamKind, UnparseableItem


def parse_partition(ctx: StepContext, *, kind: StreamKind, options: ParseOptions) -> dict[str, Any]:
    """Parse every fetched item; returns ``parsed``, ``parse_failed`` and ``parse_defects``.

    Raw bytes parsed before (same bytes, same parser version) are not parsed again. An
    item with no usable content fails with the parser's reason; tolerated problems are
    kept as the record's defects and do not fail it.
    """
    watch = Stopwatch()
    parsed_count = failed = with_defects = 0
    version = kind.parser_version
    for session, items in claimed_batches(ctx, "fetched"):
        digests = [item.content_hash for item in items if item.content_hash]
        known = load_parsed(session, digests, parser_version=version)
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
                fresh[digest] = kind.parse(data, options)
            except UnparseableItem as exc:
                errors[digest] = str(exc)
        store_parsed(session, fresh, parser_version=version)
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
