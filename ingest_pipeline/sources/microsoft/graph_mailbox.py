"""What the Outlook mail and Microsoft contacts sources share: the signed-in mailbox's
path, its Graph client within Outlook's limits, the access check, and delta paging.

Outlook's documented limits per app and mailbox: 10,000 requests in 10 minutes and 4
requests at once. The client keeps under both (`QuotaBudget` at ``headroom`` of the
quota, a semaphore for the slots); every part of a ``$batch`` counts as a request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ingest_pipeline.sources.base import SourceError
from ingest_pipeline.sources.microsoft.graph_auth import GraphTokens
from ingest_pipeline.sources.microsoft.graph_client import MAX_BATCH_PARTS, GraphClient, GraphError
from ingest_pipeline.sources.microsoft.ms_credentials import GraphEndpoint
from ingest_pipeline.sources.quota_budget import QuotaBudget

# Graph's answers when a delta link can no longer be followed: start a full listing.
EXPIRED_DELTA_CODES = {"syncStateNotFound", "resyncRequired", "SyncStateNotFound"}


@dataclass(frozen=True)
class MailboxLimits:
    """Outlook's per-mailbox limits and how close to them the source runs.

    Graph runs the parts of an unordered ``$batch`` up to four at a time, so one batch in
    flight already uses the mailbox's four concurrent requests (Microsoft's advice for
    batches to one mailbox: one unordered batch at a time, or ``dependsOn`` chains, where
    one throttled part fails every later one with 424). The quota bucket holds one batch,
    so no window sees more than the limit and the refill rate is 95% of it.
    """

    requests_per_window: int = 10_000
    window_seconds: float = 600.0
    max_in_flight: int = 4
    batches_in_flight: int = 1
    headroom: float = 0.95
    batch_size: int = MAX_BATCH_PARTS
    max_attempts: int = 6
    base_backoff_seconds: float = 1.0


@dataclass(frozen=True)
class GraphAccount:
    """One integration's connection to Graph: the grant, the mailbox (a user id or UPN;
    ``me`` for a delegated grant), where Graph lives, and the limits to keep."""

    credentials: dict[str, Any] = field(repr=False)
    mailbox: str
    endpoint: GraphEndpoint = field(default_factory=GraphEndpoint)
    limits: MailboxLimits = field(default_factory=MailboxLimits)


def connect(
    account: GraphAccount, *, sleep: Callable[[float], None] = time.sleep
) -> tuple[GraphClient, str]:
    """The mailbox's Graph client and its path (``users/<id>`` or ``me``)."""
    tokens = GraphTokens(account.credentials, account.endpoint)
    limits = account.limits
    budget = QuotaBudget(
        limit=int(limits.requests_per_window * limits.headroom),
        capacity=limits.batch_size,
        window_seconds=limits.window_seconds,
        sleep=sleep,
    )
    client = GraphClient(
        tokens,
        account.endpoint,
        budget=budget,
        max_in_flight=limits.max_in_flight,
        max_attempts=limits.max_attempts,
        base_backoff_seconds=limits.base_backoff_seconds,
        sleep=sleep,
    )
    if tokens.delegated or account.mailbox in ("", "me"):
        return client, "me"
    return client, f"users/{quote(account.mailbox, safe='@')}"


def check_access(client: GraphClient, user_path: str) -> dict[str, Any]:
    """The mailbox's user (``GET /users/{id}`` or ``/me``): the cheap call that proves the
    grant reaches it; `SourceError` saying why not."""
    try:
        return client.get(user_path, {"$select": "id,userPrincipalName,mail,displayName"})
    except GraphError as exc:
        if exc.status == 404:
            raise SourceError(
                f"Microsoft Graph has no mailbox {user_path!r}: {exc.message}"
            ) from exc
        if exc.status == 403:
            raise SourceError(
                f"Microsoft Graph refused {user_path!r} ({exc.code}): grant the app "
                "Mail.Read / Contacts.Read, or use the user's own sign-in"
            ) from exc
        raise


def is_expired_delta(error: GraphError) -> bool:
    return error.status == 410 or error.code in EXPIRED_DELTA_CODES


def delta_pages(
    client: GraphClient, start: str, params: dict[str, str] | None
) -> Iterator[tuple[list[dict[str, Any]], str | None, str | None]]:
    """Pages of a delta (or any paged) listing: (values, nextLink, deltaLink); ``start`` is
    the first request's path with ``params``, or a saved link (then ``params`` is None)."""
    url, query = start, params
    while True:
        page = client.get(url, query)
        values = [v for v in page.get("value", []) if isinstance(v, dict)]
        next_link = page.get("@odata.nextLink")
        delta_link = page.get("@odata.deltaLink")
        yield values, next_link, delta_link
        if not next_link:
            return
        url, query = str(next_link), None
