"""gpt: run the integration's extraction task on parsed items, through the result cache."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.extractor import Extractor
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.steps.concurrent_extraction import SpendGate, extract_concurrently
from ingest_pipeline.steps.partition_lease import ensure_still_held
from ingest_pipeline.steps.step_context import StepContext, Stopwatch, claimed_batches
from ingest_pipeline.store import extraction_cache, ledger
from ingest_pipeline.store.blobs import load_parsed
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import LLM_BUDGET_OPTION
from ingest_pipeline.store.models import IngestItem
from ingest_pipeline.streams.stream_kind import StreamKind, UnparseableItem


def pass_through_partition(ctx: StepContext) -> dict[str, Any]:
    """For an integration without an LLM task: parsed items go straight on to persist."""
    watch = Stopwatch()
    moved = 0
    for session, items in claimed_batches(ctx, "parsed"):
        ledger.mark(session, [{"id": item.id, "step": "extracted"} for item in items])
        moved += len(items)
    return {
        "extracted": moved,
        "extraction_calls": 0,
        "cache_hits": 0,
        "extraction_failed": 0,
        "extractor_model": "none (this integration has no LLM task)",
        "gpt_seconds": watch.seconds(),
    }


def extract_partition(
    ctx: StepContext,
    *,
    kind: StreamKind,
    task: TaskSpec,
    extractor: Extractor,
    batch_threshold: int | None = None,
    concurrency: int = 1,
    daily_budget_usd: float | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Extract every parsed item; returns calls made, cache hits, tokens, cost and failures.

    With ``batch_threshold`` and an extractor that can submit batches, a partition with at
    least that many uncached inputs is sent as one Batch API job instead (see
    `submit_partition_batch`); the items wait at ``parsed`` until the batch sensor has
    collected the results and launched the partition again.

    Inputs are keyed by the hash of the text the task reads, so two deliveries of one
    message, or a re-run, reuse the stored result instead of calling the extractor. Up to
    ``concurrency`` calls are in flight at once (`concurrent_extraction`). No database
    transaction stays open while the extractor works: each batch is claimed in one, every
    paid result is stored in its own the moment it arrives (a crash never pays twice), and
    the items are marked in a third.

    With ``daily_budget_usd``, no call starts once the deployment's spend for ``today``
    (UTC) would pass it, nor once the integration's own spend would pass its
    ``llm_daily_budget_usd`` option: the remaining items wait at ``parsed`` with the reason,
    and a later run (the nightly one, after midnight UTC) extracts them.
    """
    watch = Stopwatch()
    if batch_threshold is not None and _batch_capable(extractor):
        awaiting = submit_partition_batch(
            ctx, kind=kind, task=task, extractor=extractor, threshold=batch_threshold
        )
        if awaiting is not None:
            return {
                **awaiting,
                "extracted": 0,
                "extraction_calls": 0,
                "cache_hits": 0,
                "extraction_failed": 0,
                "extractor_model": extractor.model,
                "gpt_seconds": watch.seconds(),
            }
    totals: Counter[str] = Counter()
    cost = 0.0
    last_id = 0
    day = today or dt.datetime.now(dt.UTC).date()
    gate = SpendGate.for_day(
        ctx.database_url,
        day,
        budget_usd=daily_budget_usd,
        integration=integration_budget(ctx),
    )
    estimate = getattr(extractor, "estimated_cost", None)
    while True:
        ensure_still_held(ctx)
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
            attempts = {item.id: item.attempts for item in items}
            inputs, unique, known = prepare_inputs(
                session, items, kind=kind, task=task, extractor=extractor
            )
        calls = extract_concurrently(
            ctx.database_url,
            task=task,
            extractor=extractor,
            inputs={d: i for d, i in unique.items() if d not in known},
            concurrency=concurrency,
            gate=gate,
            estimate=(lambda item: float(estimate(task, item))) if estimate else lambda _: 0.0,
            integration_id=ctx.integration.id,
        )
        known.update(calls.extraction_ids)
        totals.update(calls.totals)
        cost += calls.cost_usd
        updates = []
        for item_id, tried in attempts.items():
            prepared = inputs.get(item_id)
            if prepared is None:
                totals["extraction_failed"] += 1
                updates.append(ledger.finish(item_id, "failed", reason="gpt: parse result missing"))
            elif prepared.content_hash in known:
                totals["extracted"] += 1
                extraction_id = known[prepared.content_hash]
                updates.append({"id": item_id, "step": "extracted", "extraction_id": extraction_id})
            elif prepared.content_hash in calls.over_budget:
                totals["waiting_for_llm_budget"] += 1
                updates.append({"id": item_id, "status": "pending", "last_error": gate.reason()})
            else:
                reason = (
                    f"gpt: {task.name} extraction failed: {calls.errors[prepared.content_hash]}"
                )
                if tried < kind.llm_attempts:
                    totals["extraction_retry_later"] += 1
                    retry = (
                        f"{reason} (attempt {tried} of {kind.llm_attempts}; "
                        "the next run asks again)"
                    )
                    updates.append(
                        {
                            "id": item_id,
                            "status": "pending",
                            "last_error": retry,
                            "attempts": tried + 1,
                        }
                    )
                else:
                    totals["extraction_failed"] += 1
                    updates.append(ledger.finish(item_id, "failed", reason=reason))
        with session_scope(ctx.database_url) as session:
            ledger.mark(session, updates)
    return {
        "extracted": totals["extracted"],
        "extraction_calls": totals["extraction_calls"],
        "cache_hits": max(totals["extracted"] - totals["extraction_calls"], 0),
        "extraction_failed": totals["extraction_failed"],
        "extraction_retry_later": totals["extraction_retry_later"],
        "input_tokens": totals["input_tokens"],
        "output_tokens": totals["output_tokens"],
        "inputs_truncated": totals["inputs_truncated"],
        "cost_usd": round(cost, 6),
        "waiting_for_llm_budget": totals["waiting_for_llm_budget"],
        **gate.metrics(),
        "extractor_model": extractor.model,
        "gpt_seconds": watch.seconds(),
    }


def integration_budget(ctx: StepContext) -> tuple[int, str, float] | None:
    """The integration's own daily LLM budget (its ``llm_daily_budget_usd`` option), if set."""
    budget = ctx.integration.options.get(LLM_BUDGET_OPTION)
    if budget is None:
        return None
    return ctx.integration.id, ctx.integration.partition_key, float(budget)


def prepare_inputs(
    session: Session,
    items: list[IngestItem],
    *,
    kind: StreamKind,
    task: TaskSpec,
    extractor: Extractor,
) -> tuple[dict[int, ExtractionInput], dict[str, ExtractionInput], dict[str, int]]:
    """Each item's task input (by item id), the distinct inputs (by content hash), and the
    cached extraction id of each input that has one for this task, prompt and the model
    that answers it (the extractor's, or with a `ModelRouter` the one each input names)."""
    parsed = load_parsed(
        session,
        [i.content_hash for i in items if i.content_hash],
        parser_version=kind.parser_version,
    )
    inputs: dict[int, ExtractionInput] = {}
    for item in items:
        if item.content_hash in parsed:
            try:
                inputs[item.id] = kind.task_input(parsed[item.content_hash], task)
            except UnparseableItem:
                continue

    unique = {inp.content_hash: inp for inp in inputs.values()}
    model_for = getattr(extractor, "model_for", lambda _: extractor.model)
    by_model: dict[str, list[str]] = {}
    for digest, inp in unique.items():
        by_model.setdefault(model_for(inp), []).append(digest)
    known: dict[str, int] = {}
    for model, digests in by_model.items():
        known |= extraction_cache.lookup(
            session, digests, task=task.name, model=model, prompt_version=task.prompt_version
        )
    return inputs, unique, known


def _batch_capable(extractor: Extractor) -> bool:
    from ingest_pipeline.extraction.openai_extractor import OpenAIExtractor

    return isinstance(extractor, OpenAIExtractor)


def submit_partition_batch(
    ctx: StepContext, *, kind: StreamKind, task: TaskSpec, extractor: Any, threshold: int
) -> dict[str, Any] | None:
    """Send the partition's uncached inputs as one batch when there are at least
    ``threshold`` of them (or report the batch already waiting); None to extract directly."""
    from ingest_pipeline.extraction.openai_batch import submit_batch
    from ingest_pipeline.store import llm_batches

    with session_scope(ctx.database_url) as session:
        waiting = llm_batches.open_batch(session, ctx.part)
        if waiting is not None:
            return {
                "awaiting_llm_batch": waiting.provider_batch_id,
                "awaiting_items": len(waiting.requests),
            }
        items = ledger.active_items(session, ctx.part, step="parsed")
        _, unique, known = prepare_inputs(session, items, kind=kind, task=task, extractor=extractor)
    missing = [inp for digest, inp in unique.items() if digest not in known]
    if len(missing) < threshold:
        return None
    submitted = submit_batch(extractor, task, missing)
    with session_scope(ctx.database_url) as session:
        llm_batches.record(
            session,
            part=ctx.part,
            provider_batch_id=submitted.batch_id,
            input_file_id=submitted.input_file_id,
            task=task.name,
            model=extractor.model,
            prompt_version=task.prompt_version,
            requests=submitted.requests,
        )
    return {"llm_batch_submitted": submitted.batch_id, "awaiting_items": len(missing)}
