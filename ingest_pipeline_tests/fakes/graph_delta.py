"""Delta query state: what ``$skiptoken`` (a page of a round) and ``$deltatoken`` (the point a
finished round reached) stand for, and their expiry.

A round is fixed when it starts: the ids to report (every live item for an initial sync;
every item added, changed or removed after the sync point for an incremental one) and the
mailbox's change sequence number at that moment, which becomes the next deltaLink's point.
Items are rendered when their page is served, so a page shows the item as it is then; anything
changed during a round has a later sequence number and shows up again in the next round.
Tokens stay valid when replayed, until `DeltaTokens.expire_all` (Graph then answers 410).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ingest_pipeline_tests.fakes.graph_wire import GraphError

EXPIRED_CODES = ("syncStateNotFound", "resyncRequired")
_EXPIRED_MESSAGES = {
    "syncStateNotFound": "The sync state could not be found. Restart the synchronization "
    "with a delta request without a token.",
    "resyncRequired": "Resync required. Replace any local cached data with a fresh delta "
    "query without a token.",
}


@dataclass(frozen=True)
class DeltaRound:
    """One round of a delta sync being paged through."""

    mailbox: str
    collection: str
    ids: tuple[str, ...]
    offset: int
    upto: int
    select: tuple[str, ...] | None
    generation: int


@dataclass(frozen=True)
class SyncPoint:
    """Where a finished round left off: its deltaLink."""

    mailbox: str
    collection: str
    since: int
    select: tuple[str, ...] | None
    generation: int


class DeltaTokens:
    """Issued skip and delta tokens (callers hold the server lock)."""

    def __init__(self) -> None:
        self.generation = 0
        self._states: dict[str, DeltaRound | SyncPoint] = {}

    def issue(self, state: DeltaRound | SyncPoint) -> str:
        token = secrets.token_urlsafe(36)
        self._states[token] = state
        return token

    def expire_all(self) -> None:
        """Every token issued so far answers 410 from now on."""
        self.generation += 1

    def lookup(
        self, token: str, *, mailbox: str, collection: str, expired_code: str
    ) -> DeltaRound | SyncPoint:
        state = self._states.get(token)
        if state is None or (state.mailbox, state.collection) != (mailbox, collection):
            raise GraphError(
                400,
                "ErrorInvalidSyncStateData",
                "The sync state data is corrupt or otherwise invalid.",
            )
        if state.generation < self.generation:
            raise GraphError(410, expired_code, _EXPIRED_MESSAGES[expired_code])
        return state


@dataclass(frozen=True)
class DeltaSource:
    """A delta-capable collection: its live ids, ids changed after a point, and rendering
    (``None`` from ``render`` means the item is gone: it is reported ``@removed``)."""

    mailbox: str
    collection: str
    live_ids: Callable[[], list[str]]
    changed_since: Callable[[int], list[str]]
    current: int
    render: Callable[[str, tuple[str, ...] | None], dict[str, Any] | None]
    odata_type: str


def delta_page(
    tokens: DeltaTokens,
    source: DeltaSource,
    *,
    url: str,
    params: dict[str, str],
    select: tuple[str, ...] | None,
    size: int,
    expired_code: str,
) -> dict[str, Any]:
    """One page of a delta response, ending in ``@odata.nextLink`` or ``@odata.deltaLink``."""
    key = {"mailbox": source.mailbox, "collection": source.collection}
    if "$skiptoken" in params:
        state = tokens.lookup(params["$skiptoken"], **key, expired_code=expired_code)
        if not isinstance(state, DeltaRound):
            raise GraphError(400, "ErrorInvalidSyncStateData", "A deltatoken is not a skiptoken.")
        round_ = state
    elif "$deltatoken" in params:
        point = tokens.lookup(params["$deltatoken"], **key, expired_code=expired_code)
        if not isinstance(point, SyncPoint):
            raise GraphError(400, "ErrorInvalidSyncStateData", "A skiptoken is not a deltatoken.")
        ids = tuple(source.changed_since(point.since))
        round_ = DeltaRound(
            **key,
            ids=ids,
            offset=0,
            upto=source.current,
            select=point.select,
            generation=tokens.generation,
        )
    else:
        round_ = DeltaRound(
            **key,
            ids=tuple(source.live_ids()),
            offset=0,
            upto=source.current,
            select=select,
            generation=tokens.generation,
        )
    chunk = round_.ids[round_.offset : round_.offset + size]
    value = []
    for item_id in chunk:
        item = source.render(item_id, round_.select)
        if item is None:
            item = {
                "@odata.type": source.odata_type,
                "id": item_id,
                "@removed": {"reason": "deleted"},
            }
        value.append({"@odata.type": source.odata_type, **item})
    answer: dict[str, Any] = {"value": value}
    if round_.offset + size < len(round_.ids):
        token = tokens.issue(replace(round_, offset=round_.offset + size))
        answer["@odata.nextLink"] = f"{url}?$skiptoken={token}"
    else:
        point = SyncPoint(
            **key, since=round_.upto, select=round_.select, generation=round_.generation
        )
        answer["@odata.deltaLink"] = f"{url}?$deltatoken={tokens.issue(point)}"
    return answer
