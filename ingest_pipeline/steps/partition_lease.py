"""Hold a partition's lease while a step works on it, renewing it from a heartbeat thread.

Each step takes the lease when it starts (waiting a while if another live run holds it),
a daemon thread renews it every third of its lifetime, and the last step gives it up. A
killed run stops renewing, so its lease expires and the next run takes over its items.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ingest_pipeline.steps.step_context import LeaseLost, StepContext
from ingest_pipeline.store import partition_leases
from ingest_pipeline.store.database import session_scope

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PartitionBusy(RuntimeError):
    """Another live run holds the partition; the message says which and until when."""


# Runs whose lease a heartbeat found taken over: checked between batches.
_lost: set[tuple[str, int, str, dt.date]] = set()


def _lease_key(ctx: StepContext) -> tuple[str, int, str, dt.date]:
    return (ctx.run_id, ctx.part.integration_id, ctx.part.stream, ctx.part.stored_day)


def acquire_partition(
    ctx: StepContext,
    *,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 1.0,
) -> None:
    """Take the partition's lease for this run, waiting up to ``ctx.lease.wait_seconds``
    while another live run holds it; `PartitionBusy` names the holder after that."""
    waited = 0.0
    while True:
        with session_scope(ctx.database_url) as session:
            held_by = partition_leases.try_acquire(
                session,
                ctx.part,
                run_id=ctx.run_id,
                now=clock(),
                ttl_seconds=ctx.lease.ttl_seconds,
            )
        if held_by is None:
            _lost.discard(_lease_key(ctx))
            return
        if waited >= ctx.lease.wait_seconds:
            raise PartitionBusy(
                f"partition {describe(ctx)} is being imported by run {held_by.run_id} "
                f"(lease until {held_by.expires_at:%Y-%m-%d %H:%M:%S} UTC); this run left it "
                "alone after waiting "
                f"{ctx.lease.wait_seconds:g}s, and that run or the next one imports it"
            )
        sleep(poll_seconds)
        waited += poll_seconds


def describe(ctx: StepContext) -> str:
    day = ctx.part.day.isoformat() + "|" if ctx.part.day else ""
    return f"{day}{ctx.integration.partition_key} ({ctx.part.stream})"


@contextmanager
def hold_partition(ctx: StepContext, *, clock: Clock = utc_now) -> Iterator[None]:
    """Acquire the lease, renew it in the background while the body runs, stop renewing on
    exit (the lease then lives out its time, so the run's next step finds it held)."""
    acquire_partition(ctx, clock=clock)
    stop = threading.Event()
    heartbeat = threading.Thread(
        target=_renew_until, args=(ctx, stop, clock), name="partition-lease", daemon=True
    )
    heartbeat.start()
    try:
        yield
    finally:
        stop.set()
        heartbeat.join()


def _renew_until(ctx: StepContext, stop: threading.Event, clock: Clock) -> None:
    while not stop.wait(ctx.lease.ttl_seconds / 3):
        try:
            with session_scope(ctx.database_url) as session:
                still_ours = partition_leases.renew(
                    session,
                    ctx.part,
                    run_id=ctx.run_id,
                    now=clock(),
                    ttl_seconds=ctx.lease.ttl_seconds,
                )
        except Exception:
            continue
        if not still_ours:
            _lost.add(_lease_key(ctx))
            return


def ensure_still_held(ctx: StepContext) -> None:
    """Raise `LeaseLost` when the heartbeat found that another run took the partition."""
    if _lease_key(ctx) in _lost:
        raise LeaseLost(
            f"run {ctx.run_id} lost the lease on {describe(ctx)} to another run; it stopped "
            "between items and left the rest to the new owner"
        )


def release_partition(ctx: StepContext) -> None:
    """Give the partition up once the run has finished it."""
    with session_scope(ctx.database_url) as session:
        partition_leases.release(session, ctx.part, run_id=ctx.run_id)
