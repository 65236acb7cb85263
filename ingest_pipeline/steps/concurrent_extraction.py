"""Many extraction calls in flight at once, each paid result stored the moment it arrives,
under a daily spend limit.

The calls run on a thread pool (the openai client is thread-safe and releases the GIL while
it waits). A worker stores its own result in its own short transaction as soon as the
answer arrives, so a run interrupted while calls are in flight still keeps every result it
paid for: on the way out the pool lets running calls finish (and store) and starts no new
ones. No transaction is open while a call is in flight.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import sqlalchemy as sa

from ingest_pipeline.domain import ExtractionInput, ExtractionOutcome
from ingest_pipeline.extraction.extractor import ExtractionFailed, Extractor
from ingest_pipeline.extraction.tasks import TaskSpec
from ingest_pipeline.store import extraction_cache
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.models import LlmExtraction


def spent_on(database_url: str, day: dt.date, *, integration_id: int | None = None) -> float:
    """USD paid for extractions stored on ``day`` (UTC): by every run of the deployment, or
    by the runs of one integration."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    query = sa.select(sa.func.coalesce(sa.func.sum(LlmExtraction.cost_usd), 0.0)).where(
        LlmExtraction.created_at >= start,
        LlmExtraction.created_at < start + dt.timedelta(days=1),
    )
    if integration_id is not None:
        query = query.where(LlmExtraction.integration_id == integration_id)
    with session_scope(database_url) as session:
        total = session.scalar(query)
    return float(total or 0.0)


@dataclass
class SpendLimit:
    """One daily budget as this run sees it: ``scope`` says whose (``LLM budget`` for the
    deployment, ``LLM budget of <integration>``), ``spent_usd`` what had been paid when the
    run looked plus what this run paid since."""

    scope: str
    budget_usd: float
    spent_usd: float = 0.0


@dataclass
class SpendGate:
    """The day's LLM budgets (the deployment's, optionally the integration's) and what this
    run's calls in flight may still cost.

    A call is started only while every limit's spent + in flight + the call's own estimate
    stays within its budget; past one, the step stops paying and `reason` names it. With no
    limits nothing is refused.
    """

    day: dt.date
    limits: list[SpendLimit] = field(default_factory=list)
    in_flight_usd: float = 0.0
    reached: SpendLimit | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_day(
        cls,
        database_url: str,
        day: dt.date,
        *,
        budget_usd: float | None,
        integration: tuple[int, str, float] | None = None,
    ) -> SpendGate:
        """The gate for ``day`` with the deployment's ``budget_usd`` and ``integration``'s
        (id, name, budget), each starting from what is already spent."""
        limits = []
        if budget_usd is not None:
            limits.append(SpendLimit("LLM budget", budget_usd, spent_on(database_url, day)))
        if integration is not None:
            integration_id, name, integration_budget = integration
            spent = spent_on(database_url, day, integration_id=integration_id)
            limits.append(SpendLimit(f"LLM budget of {name}", integration_budget, spent))
        return cls(day=day, limits=limits)

    def reserve(self, estimate_usd: float) -> bool:
        with self.lock:
            for limit in self.limits:
                if limit.spent_usd + self.in_flight_usd + estimate_usd > limit.budget_usd:
                    self.reached = self.reached or limit
                    return False
            self.in_flight_usd += estimate_usd
            return True

    def settle(self, estimate_usd: float, cost_usd: float) -> None:
        with self.lock:
            self.in_flight_usd -= estimate_usd
            for limit in self.limits:
                limit.spent_usd += cost_usd

    def reason(self) -> str:
        limit = self.reached or (self.limits[0] if self.limits else SpendLimit("LLM budget", 0))
        return (
            f"{limit.scope} for {self.day.isoformat()} reached: ${limit.spent_usd:.4f} of "
            f"${limit.budget_usd:.2f} spent; the next day's runs continue"
        )

    def metrics(self) -> dict[str, float]:
        """Spend against each budget, for the run's metadata."""
        names = {"LLM budget": "llm"}
        out: dict[str, float] = {}
        for limit in self.limits:
            prefix = names.get(limit.scope, "llm_integration")
            out[f"{prefix}_daily_budget_usd"] = limit.budget_usd
            out[f"{prefix}_spent_today_usd"] = round(limit.spent_usd, 6)
        return out


@dataclass
class CallResults:
    """What one round of calls produced: extraction ids and failure reasons by content hash,
    the inputs left waiting for budget, and the call totals for the metrics."""

    extraction_ids: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    over_budget: set[str] = field(default_factory=set)
    totals: Counter[str] = field(default_factory=Counter)
    cost_usd: float = 0.0


def extract_concurrently(
    database_url: str,
    *,
    task: TaskSpec,
    extractor: Extractor,
    inputs: Mapping[str, ExtractionInput],
    concurrency: int,
    gate: SpendGate,
    estimate: Callable[[ExtractionInput], float] = lambda _: 0.0,
    integration_id: int | None = None,
) -> CallResults:
    """Extract every input with at most ``concurrency`` calls in flight; each worker stores
    its result (as paid by ``integration_id``) before it reports back."""
    results = CallResults()
    lock = threading.Lock()

    def call(digest: str, item: ExtractionInput, reserved: float) -> None:
        try:
            outcome = extractor.extract(task, item)
        except ExtractionFailed as exc:
            gate.settle(reserved, 0.0)
            with lock:
                results.errors[digest] = str(exc)
            return
        except BaseException:
            gate.settle(reserved, 0.0)
            raise
        extraction_id = _store(database_url, digest, task, outcome, integration_id)
        gate.settle(reserved, outcome.cost_usd)
        with lock:
            results.extraction_ids[digest] = extraction_id
            _count(results, outcome)

    queue = list(inputs.items())
    pool = ThreadPoolExecutor(max_workers=max(concurrency, 1), thread_name_prefix="llm-call")
    running: set[Future[None]] = set()
    try:
        while queue or running:
            while queue and len(running) < max(concurrency, 1):
                digest, item = queue[0]
                reserved = estimate(item)
                if not gate.reserve(reserved):
                    results.over_budget.update(d for d, _ in queue)
                    queue.clear()
                    break
                queue.pop(0)
                running.add(pool.submit(call, digest, item, reserved))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()  # a transport error after the client's retries: the op retries
    finally:
        # Calls already running finish and store what they paid for; none start.
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _store(
    database_url: str,
    digest: str,
    task: TaskSpec,
    outcome: ExtractionOutcome,
    integration_id: int | None,
) -> int:
    with session_scope(database_url) as session:
        return extraction_cache.save(
            session,
            content_hash=digest,
            task=task.name,
            outcome=outcome,
            integration_id=integration_id,
        )


def _count(results: CallResults, outcome: ExtractionOutcome) -> None:
    results.totals["extraction_calls"] += 1
    results.totals["input_tokens"] += outcome.input_tokens
    results.totals["output_tokens"] += outcome.output_tokens
    results.totals["inputs_truncated"] += bool(outcome.extra.get("truncated"))
    results.cost_usd += outcome.cost_usd
