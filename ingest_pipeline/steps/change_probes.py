"""Ask each due integration's provider, cheaply and in parallel, whether anything changed
since its last successful run, and decide which integrations need a run.

A source that can tell offers ``probe_signature()``: a token of the account's current
state for the price of one request or a few ``stat`` calls (Gmail's ``historyId``, a
local folder's sizes and modification times). Equal tokens mean nothing new. The token a
run was launched with is kept on the integration once the run succeeds, so the next tick
compares against what was imported.

An integration still runs when its provider cannot be probed, when the probe failed (the
error is kept on the integration; a run finds out more, and a revoked grant disables it),
when it never succeeded or its last run did not, and at least once per safety interval
(deletions and changes a token does not show). A source that can also tell *which days*
changed (``changed_days``: CalDAV's sync-collection feed) has those days run too. Nothing
here knows Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from ingest_pipeline.sources.base import closing
from ingest_pipeline.sources.registry import build_source
from ingest_pipeline.store.credentials_vault import decrypt
from ingest_pipeline.store.integrations import PROBE_FEED_KEY

PROBE_ERROR_CHARS = 500


@dataclass(frozen=True)
class ProbeSettings:
    """How the 15-minute trigger asks providers for changes: probes in parallel, the time
    they may take together, and the longest an integration goes without a run."""

    workers: int = 32
    timeout_seconds: float = 30.0
    safety_interval: dt.timedelta = dt.timedelta(hours=6)


@dataclass(frozen=True)
class ProbeTarget:
    """One due integration as the probe needs it, and what its last successful run saw."""

    key: str
    provider: str
    account: str
    options: dict[str, Any]
    credentials: bytes | None
    sync_state: dict[str, Any]
    last_token: str | None
    last_status: str | None
    last_success_at: dt.datetime | None
    database_url: str | None = None
    integration_id: int | None = None
    feed_days: tuple[dt.date, dt.date] | None = None


@dataclass(frozen=True)
class ProbeOutcome:
    """What one probe found: the account's token, or why there is none (``error``), or
    that the provider offers no cheap probe (``supported`` false)."""

    key: str
    token: str | None = None
    error: str | None = None
    supported: bool = True
    days: tuple[dt.date, ...] = ()
    feed: dict[str, Any] | None = None


@dataclass(frozen=True)
class Decision:
    """An integration to run now, why, and the token to keep when the run succeeds; the
    days its provider's feed says changed (besides the schedule's own), and the feed state
    to keep when they succeed."""

    key: str
    reason: str
    token: str | None
    days: tuple[dt.date, ...] = ()
    feed: dict[str, Any] | None = None


def probe_one(target: ProbeTarget, *, credentials_key: str | None) -> ProbeOutcome:
    """The target's token (never raises: an error is the outcome's ``error``)."""
    try:
        source = build_source(
            provider=target.provider,
            account=target.account,
            options=target.options,
            credentials=decrypt(target.credentials, key=credentials_key)
            if target.credentials
            else None,
            sync_state=target.sync_state,
            database_url=target.database_url,
            integration_id=target.integration_id,
        )
        with closing(source):
            probe: Callable[[], str] | None = getattr(source, "probe_signature", None)
            if probe is None:
                return ProbeOutcome(target.key, supported=False)
            token = str(probe())
            feed_of = getattr(source, "changed_days", None)
            if feed_of is None or target.feed_days is None or token == target.last_token:
                return ProbeOutcome(target.key, token=token)  # unchanged: no feed to read
            first, last = target.feed_days
            days, feed = feed_of(target.sync_state.get(PROBE_FEED_KEY), first=first, last=last)
            return ProbeOutcome(target.key, token=token, days=tuple(days or ()), feed=feed)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".strip()
        return ProbeOutcome(target.key, error=reason[:PROBE_ERROR_CHARS])


def probe_all(
    targets: Sequence[ProbeTarget],
    *,
    credentials_key: str | None,
    workers: int = 32,
    timeout_seconds: float = 30.0,
    probe: Callable[..., ProbeOutcome] = probe_one,
) -> dict[str, ProbeOutcome]:
    """Every target's outcome, ``workers`` probes at a time; probes still running after
    ``timeout_seconds`` are outcomes with an error (they finish in the background, their
    answers unused)."""
    if not targets:
        return {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets))))
    futures = {
        pool.submit(probe, target, credentials_key=credentials_key): target for target in targets
    }
    done, _ = wait(futures, timeout=timeout_seconds)
    pool.shutdown(wait=False, cancel_futures=True)
    outcomes = {}
    for future, target in futures.items():
        if future in done:
            outcomes[target.key] = future.result()
        else:
            error = f"the probe took longer than {timeout_seconds:g} s"
            outcomes[target.key] = ProbeOutcome(target.key, error=error)
    return outcomes


def decide(
    target: ProbeTarget,
    outcome: ProbeOutcome,
    *,
    now: dt.datetime,
    safety_interval: dt.timedelta,
) -> Decision | None:
    """Whether ``target`` runs this tick, and why; None when nothing is new. A run also
    covers the days the provider's feed says changed."""
    if outcome.error is not None:
        return Decision(target.key, f"probe failed ({outcome.error})", None)
    if not outcome.supported:
        return Decision(target.key, f"{target.provider} has no cheap probe", None)
    if target.last_status != "success" or target.last_token is None:
        reason = "no successful run with a probe yet"
    elif outcome.token != target.last_token:
        reason = "changed"
    elif target.last_success_at is None or now - target.last_success_at >= safety_interval:
        reason = "safety run"
    else:
        return None
    return Decision(target.key, reason, outcome.token, days=outcome.days, feed=outcome.feed)
