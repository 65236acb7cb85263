"""Sync tokens and paged listings shared by the fake People and Calendar APIs.

A sync token says "changes after change number ``s`` of this user's collection", stamped with
the server's token generation: `SyncState.expire` starts a new generation, so every token
issued before becomes invalid (each API answers that in its own way). A listing's first page
freezes the whole result as a `Snapshot`; page tokens point into it, so changes made while a
client pages do not shift later pages and show up in the next incremental sync instead.
The last page's ``nextSyncToken`` is minted when that page is served, in the generation
current then.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

Params = dict[str, list[str]]
# Parameters every Google API accepts that do not change what a list call means.
SYSTEM_PARAMS = frozenset(
    (
        "alt",
        "fields",
        "prettyPrint",
        "quotaUser",
        "key",
        "access_token",
        "oauth_token",
        "$.xgafv",
        "callback",
        "upload_protocol",
        "uploadType",
    )
)


class PageTokenError(ValueError):
    """A pageToken this server did not issue for this user and listing."""


@dataclass(frozen=True)
class SyncPoint:
    """What a ``nextSyncToken`` stands for: changes after ``change`` of ``kind`` (``scope``)."""

    kind: str
    change: int
    scope: str = ""


@dataclass
class Snapshot:
    """One listing frozen at its first page."""

    owner: str
    kind: str
    fingerprint: tuple[tuple[str, tuple[str, ...]], ...]
    items: list[dict[str, Any]]
    sync_point: SyncPoint | None  # None: the last page carries no nextSyncToken


def first(params: Params, name: str, default: str = "") -> str:
    values = params.get(name)
    return values[0] if values else default


def flag(params: Params, name: str) -> bool:
    return first(params, name).lower() == "true"


def fingerprint(params: Params) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The request's meaning: its parameters less ``pageToken`` and the system ones."""
    return tuple(
        sorted(
            (name, tuple(values))
            for name, values in params.items()
            if name != "pageToken" and name not in SYSTEM_PARAMS
        )
    )


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any] | None:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


class SyncState:
    """The token generation and the open snapshots (callers hold the server lock)."""

    def __init__(self) -> None:
        self.generation = 0
        self._snapshots: list[Snapshot] = []

    def expire(self) -> None:
        """Invalidate every sync token issued so far."""
        self.generation += 1

    def sync_token(self, kind: str, owner: str, change: int, scope: str = "") -> str:
        """A token for the changes after ``change`` of ``owner``'s ``kind`` (and ``scope``)."""
        claims = {"g": self.generation, "k": kind, "u": owner, "c": scope, "s": change}
        return _encode(claims)

    def read_sync_token(self, token: str, kind: str, owner: str, scope: str = "") -> int | None:
        """The change number a valid token stands for; None if unknown, foreign or expired."""
        claims = _decode(token)
        if (
            claims is None
            or claims.get("g") != self.generation
            or (claims.get("k"), claims.get("u"), claims.get("c")) != (kind, owner, scope)
            or not isinstance(claims.get("s"), int)
        ):
            return None
        return int(claims["s"])

    def open(self, snapshot: Snapshot) -> int:
        self._snapshots.append(snapshot)
        return len(self._snapshots) - 1

    def resume(self, token: str, kind: str, owner: str) -> tuple[int, int]:
        """``(snapshot number, offset)`` of a page token; `PageTokenError` if not ours."""
        claims = _decode(token)
        if claims is None or not isinstance(claims.get("n"), int):
            raise PageTokenError("Invalid page token")
        number, offset = claims["n"], claims.get("o")
        if not 0 <= number < len(self._snapshots) or not isinstance(offset, int):
            raise PageTokenError("Invalid page token")
        snapshot = self._snapshots[number]
        if (snapshot.kind, snapshot.owner) != (kind, owner):
            raise PageTokenError("The page token belongs to another listing")
        return number, offset

    def snapshot(self, number: int) -> Snapshot:
        return self._snapshots[number]

    def page(
        self, number: int, offset: int, size: int
    ) -> tuple[list[dict[str, Any]], str | None, str | None]:
        """Items ``offset..offset+size``, the next page token, and on the last page (when the
        listing can seed a sync) the next sync token."""
        snapshot = self._snapshots[number]
        page = snapshot.items[offset : offset + size]
        if offset + size < len(snapshot.items):
            return page, _encode({"n": number, "o": offset + size}), None
        point = snapshot.sync_point
        if point is None:
            return page, None, None
        return page, None, self.sync_token(point.kind, snapshot.owner, point.change, point.scope)
