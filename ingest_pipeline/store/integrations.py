"""Integrations: register, find, list and disable connected accounts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.store.models import Integration, Notification

_KEY_SAFE = re.compile(r"[^a-z0-9-]+")


class IntegrationNotFound(LookupError):
    """No integration has that partition key or name."""


# The option holding an integration's own daily LLM budget (USD, UTC day); absent: none.
LLM_BUDGET_OPTION = "llm_daily_budget_usd"


# The tenant integrations belong to when none is given (the embedded default).
DEFAULT_TENANT = "default"

# Where an integration's provider feed state lives in its sync_state (CalDAV: each
# calendar's sync token), kept when the runs the feed asked for succeed.
PROBE_FEED_KEY = "probe_feed"


def partition_key_for(provider: str, integration_id: int) -> str:
    """The Dagster dynamic partition key: ``<provider>-<id>`` (never ``|`` or ``,``)."""
    return f"{_KEY_SAFE.sub('-', provider.lower())}-{integration_id}"


def add_integration(
    session: Session,
    *,
    provider: str,
    account: str,
    task: str | None,
    stream: str = "mail",
    name: str | None = None,
    options: dict[str, Any] | None = None,
    tenant_id: str = DEFAULT_TENANT,
    user_id: str | None = None,
    credentials: bytes | None = None,
) -> Integration:
    """Create an integration and give it its partition key; the name defaults to the key."""
    integration = Integration(
        provider=provider,
        stream=stream,
        account=account,
        task=task,
        name=name or f"pending-{dt.datetime.now(dt.UTC).timestamp()}",
        options=options or {},
        tenant_id=tenant_id,
        user_id=user_id,
        credentials=credentials,
        status="active",
        sync_state={},
    )
    session.add(integration)
    session.flush()
    integration.partition_key = partition_key_for(provider, integration.id)
    if name is None:
        integration.name = integration.partition_key
    session.flush()
    return integration


def find_integration(session: Session, key_or_name: str) -> Integration:
    """The integration whose partition key or name is ``key_or_name``."""
    found = session.scalar(
        sa.select(Integration).where(
            sa.or_(Integration.partition_key == key_or_name, Integration.name == key_or_name)
        )
    )
    if found is None:
        raise IntegrationNotFound(
            f"no integration with key or name {key_or_name!r}; "
            "`ingest-pipeline integrations list` shows them"
        )
    return found


def find_by_name(session: Session, name: str) -> Integration | None:
    return session.scalar(sa.select(Integration).where(Integration.name == name))


def integrations_by_key(session: Session, keys: list[str]) -> list[Integration]:
    """The integrations with these partition keys, in id order."""
    if not keys:
        return []
    query = sa.select(Integration).where(Integration.partition_key.in_(keys))
    return list(session.scalars(query.order_by(Integration.id)))


def list_integrations(
    session: Session,
    *,
    status: str | None = None,
    stream: str | None = None,
    tenants: Sequence[str] | None = None,
) -> list[Integration]:
    """Integrations in id order, of a status, a stream and some tenants (None: any)."""
    query = sa.select(Integration).order_by(Integration.id)
    if tenants is not None:
        query = query.where(Integration.tenant_id.in_(list(tenants)))
    if status is not None:
        query = query.where(Integration.status == status)
    if stream is not None:
        query = query.where(Integration.stream == stream)
    return list(session.scalars(query))


def set_llm_budget(session: Session, integration: Integration, usd: float | None) -> None:
    """Set (or, with None, clear) the integration's own daily LLM budget in USD."""
    if usd is not None and usd < 0:
        raise ValueError(f"an LLM budget cannot be negative (got {usd})")
    options = dict(integration.options or {})
    if usd is None:
        options.pop(LLM_BUDGET_OPTION, None)
    else:
        options[LLM_BUDGET_OPTION] = usd
    integration.options = options
    session.flush()


def set_status(session: Session, integration: Integration, status: str) -> None:
    integration.status = status
    session.flush()


def record_sync(
    session: Session,
    integration_id: int,
    *,
    status: str,
    error: str | None = None,
    probe_token: str | None = None,
    probe_feed: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Remember the outcome of the latest run for ``ingest-pipeline status``; a success
    also keeps its time and the change token the run was launched with (if any), which the
    next scheduled tick compares the provider's against, and its feed state (``probe_feed``
    in the sync state: where the provider's next list of changed days starts)."""
    now = now or dt.datetime.now(dt.UTC)
    values: dict[str, Any] = {
        "last_sync_at": now,
        "last_sync_status": status,
        "last_sync_error": error,
    }
    if status == "success":
        values["last_success_at"] = now
        if probe_token is not None:
            values["probe_token"] = probe_token
        if probe_feed is not None:
            row = session.get(Integration, integration_id)
            if row is not None:
                values["sync_state"] = {**(row.sync_state or {}), PROBE_FEED_KEY: probe_feed}
    session.execute(sa.update(Integration).where(Integration.id == integration_id).values(values))


def record_probes(
    session: Session, outcomes: dict[str, str | None], *, now: dt.datetime | None = None
) -> None:
    """Remember when each integration (by partition key) was probed and the probe's error
    (None: it answered)."""
    if not outcomes:
        return
    now = now or dt.datetime.now(dt.UTC)
    ids = {
        key: integration_id
        for key, integration_id in session.execute(
            sa.select(Integration.partition_key, Integration.id).where(
                Integration.partition_key.in_(list(outcomes))
            )
        )
    }
    session.execute(
        sa.update(Integration),
        [
            {"id": ids[key], "probed_at": now, "probe_error": error}
            for key, error in outcomes.items()
            if key in ids
        ],
    )


def notify(session: Session, integration_id: int, *, kind: str, message: str) -> None:
    """Record a notification a person must act on."""
    session.add(Notification(integration_id=integration_id, kind=kind, message=message))
    session.flush()
