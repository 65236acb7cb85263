"""gpt: run the integration's extraction task on parsed items, through the result cache."""

from __future__ import annotations

from typing import Any

from ingest_pipeline.domain import ExtractionInput, ParsedMessage
from ingest_pipeline.extraction.extractor import ExtractionFailed, Extractor
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.steps.parse_step import PARSER_VERSION
from ingest_pipeline.steps.step_context import StepContext, Stopwatch, claimed_batches
from ingest_pipeline.store import extraction_cache, ledger
from ingest_pipeline.store.blobs import load_parsed


def extract_partition(ctx: StepContext, *, task: TaskSpec, extractor: Extractor) -> dict[str, Any]:
    """Extract every parsed item; returns calls made, cache hits, tokens, cost and failures.

    Inputs are keyed by the hash of the text the task reads, so two deliveries of one
    message, or a re-run, reuse the stored result instead of calling the extractor.
    """
    watch = Stopwatch()
    calls = failed = extracted = input_tokens = output_tokens = 0
    cost = 0.0
    for session, items in claimed_batches(ctx, "parsed"):
        parsed = load_parsed(
            session,
            [i.content_hash for i in items if i.content_hash],
            parser_version=PARSER_VERSION,
        )
        inputs: dict[int, ExtractionInput] = {}
        for item in items:
            data = parsed.get(item.content_hash or "")
            if data is not None:
                inputs[item.id] = task.build_input(ParsedMessage.from_json(data))
        unique = {inp.content_hash: inp for inp in inputs.values()}
        known = extraction_cache.lookup(
            session,
            list(unique),
            task=task.name,
            model=extractor.model,
            prompt_version=task.prompt_version,
        )
        errors: dict[str, str] = {}
        for digest, inp in unique.items():
            if digest in known:
                continue
            try:
                outcome = extractor.extract(task, inp)
            except ExtractionFailed as exc:
                errors[digest] = str(exc)
                continue
            calls += 1
            input_tokens += outcome.input_tokens
            output_tokens += outcome.output_tokens
            cost += outcome.cost_usd
            known[digest] = extraction_cache.save(
                session, content_hash=digest, task=task.name, outcome=outcome
            )
        updates = []
        for item in items:
            item_input = inputs.get(item.id)
            if item_input is None:
                failed += 1
                updates.append(ledger.finish(item.id, "failed", reason="gpt: parse result missing"))
            elif item_input.content_hash in known:
                extracted += 1
                extraction_id = known[item_input.content_hash]
                updates.append({"id": item.id, "step": "extracted", "extraction_id": extraction_id})
            else:
                failed += 1
                reason = f"gpt: {task.name} extraction failed: {errors[item_input.content_hash]}"
                updates.append(ledger.finish(item.id, "failed", reason=reason))
        ledger.mark(session, updates)
    return {
        "extracted": extracted,
        "extraction_calls": calls,
        "cache_hits": max(extracted - calls, 0),
        "extraction_failed": failed,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": round(cost, 6),
        "extractor_model": extractor.model,
        "gpt_seconds": watch.seconds(),
    }
