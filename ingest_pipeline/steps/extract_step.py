"""gpt: run the integration's extraction task on parsed items, through the result cache."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ingest_pipeline.domain import ExtractionInput, ParsedMessage
from ingest_pipeline.extraction.extractor import ExtractionFailed, Extractor
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.steps.parse_step import PARSER_VERSION
from ingest_pipeline.steps.step_context import StepContext, Stopwatch
from ingest_pipeline.store import extraction_cache, ledger
from ingest_pipeline.store.blobs import load_parsed
from ingest_pipeline.store.database import session_scope


def extract_partition(ctx: StepContext, *, task: TaskSpec, extractor: Extractor) -> dict[str, Any]:
    """Extract every parsed item; returns calls made, cache hits, tokens, cost and failures.

    Inputs are keyed by the hash of the text the task reads, so two deliveries of one
    message, or a re-run, reuse the stored result instead of calling the extractor. No
    database transaction stays open while the extractor works: each batch is claimed in
    one, every paid result is stored in its own the moment it arrives (a crash never pays
    twice), and the items are marked in a third.
    """
    watch = Stopwatch()
    totals: Counter[str] = Counter()
    cost = 0.0
    last_id = 0
    while True:
        with session_scope(ctx.database_url) as session:
            items = ledger.claim(
                session,
                ctx.part,
                step="parsed",
                run_id=ctx.run_id,
                limit=ctx.batch_size,
                after_id=last_id,
            )
            if not items:
                break
            last_id = items[-1].id
            item_ids = [item.id for item in items]
            parsed = load_parsed(
                session,
                [i.content_hash for i in items if i.content_hash],
                parser_version=PARSER_VERSION,
            )
            inputs: dict[int, ExtractionInput] = {
                item.id: task.build_input(ParsedMessage.from_json(parsed[item.content_hash]))
                for item in items
                if item.content_hash in parsed
            }
            unique = {inp.content_hash: inp for inp in inputs.values()}
            known = extraction_cache.lookup(
                session,
                list(unique),
                task=task.name,
                model=extractor.model,
                prompt_version=task.prompt_version,
            )
        errors: dict[str, str] = {}
        for digest, item_input in unique.items():
            if digest in known:
                continue
            try:
                outcome = extractor.extract(task, item_input)
            except ExtractionFailed as exc:
                errors[digest] = str(exc)
                continue
            with session_scope(ctx.database_url) as session:
                known[digest] = extraction_cache.save(
                    session, content_hash=digest, task=task.name, outcome=outcome
                )
            totals["extraction_calls"] += 1
            totals["input_tokens"] += outcome.input_tokens
            totals["output_tokens"] += outcome.output_tokens
            totals["inputs_truncated"] += bool(outcome.extra.get("truncated"))
            cost += outcome.cost_usd
        updates = []
        for item_id in item_ids:
            prepared = inputs.get(item_id)
            if prepared is None:
                totals["extraction_failed"] += 1
                updates.append(ledger.finish(item_id, "failed", reason="gpt: parse result missing"))
            elif prepared.content_hash in known:
                totals["extracted"] += 1
                extraction_id = known[prepared.content_hash]
                updates.append({"id": item_id, "step": "extracted", "extraction_id": extraction_id})
            else:
                totals["extraction_failed"] += 1
                reason = f"gpt: {task.name} extraction failed: {errors[prepared.content_hash]}"
                updates.append(ledger.finish(item_id, "failed", reason=reason))
        with session_scope(ctx.database_url) as session:
            ledger.mark(session, updates)
    return {
        "extracted": totals["extracted"],
        "extraction_calls": totals["extraction_calls"],
        "cache_hits": max(totals["extracted"] - totals["extraction_calls"], 0),
        "extraction_failed": totals["extraction_failed"],
        "input_tokens": totals["input_tokens"],
        "output_tokens": totals["output_tokens"],
        "inputs_truncated": totals["inputs_truncated"],
        "cost_usd": round(cost, 6),
        "extractor_model": extractor.model,
        "gpt_seconds": watch.seconds(),
    }
