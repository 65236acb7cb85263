"""Where a CalDAV/CardDAV account lives and how to sign in: the server URL, the CA to trust,
and the user's password (app password on iCloud and Fastmail).

HTTPS is required; plain HTTP only to this machine (127.0.0.1, ::1, localhost), the same
rule as the IMAP source's, so a password never crosses a network in clear.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from ingest_pipeline.domain import sha256_hex
from ingest_pipeline.sources.base import SourceError

# The ledger's external_id column holds 255 characters.
MAX_EXTERNAL_ID = 255


@dataclass(frozen=True)
class DavEndpoint:
    """A DAV server's URL (its root, a ``/.well-known/...`` URL or the principal's), and
    the CA file to trust instead of the system's (None: the system's)."""

    url: str
    ca_file: str | None = None
    timeout_seconds: float = 60.0

    def checked_url(self) -> str:
        """The URL, refused with a clear reason when it is not HTTP(S) or is plain HTTP to
        another machine."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise SourceError(f"DAV URL {self.url!r} is not an http(s):// URL with a host")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise SourceError(
                f"DAV URL {self.url!r} is plain HTTP: the password would cross the network "
                "in clear; use https:// (plain HTTP is accepted only on this machine)"
            )
        return self.url if self.url.endswith("/") else self.url + "/"

    @property
    def verify(self) -> str | bool:
        """What the HTTP client verifies the server's certificate against."""
        return self.ca_file or True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def password_of(credentials: dict[str, Any] | None, *, what: str) -> str:
    """The stored password; `SourceError` when the integration has none."""
    password = (credentials or {}).get("password")
    if not isinstance(password, str) or not password:
        raise SourceError(f"this {what} integration has no stored password; add it again")
    return password


def bounded_id(external_id: str) -> str:
    """``external_id``, or its hash when longer than the ledger keeps."""
    if len(external_id) <= MAX_EXTERNAL_ID:
        return external_id
    return f"sha256:{sha256_hex(external_id.encode('utf-8'))}"


class Collection(Protocol):
    """A calendar or address book as discovered: its URL path and display name."""

    @property
    def path(self) -> str: ...

    @property
    def name(self) -> str: ...


C = TypeVar("C", bound=Collection)


def chosen_collections(
    found: Sequence[C], wanted: Sequence[str], *, kind: str, user: str, url: str
) -> list[C]:
    """The collections of ``found`` (sorted by path) named in ``wanted`` by path or display
    name, or all when nothing is wanted; `SourceError` naming the ones that exist when a
    wanted one does not, or when there is none at all."""
    found = sorted(found, key=lambda c: c.path)
    missing = [w for w in wanted if not any(w in (c.path, c.name) for c in found)]
    if missing:
        known = ", ".join(f"{c.name or c.path} ({c.path})" for c in found) or "none"
        raise SourceError(
            f"no {kind} named {missing[0]!r} for {user} on {url}; the account has: {known}"
        )
    chosen = [c for c in found if c.path in wanted or c.name in wanted] if wanted else found
    if not chosen:
        raise SourceError(f"{user} has no {kind} on {url}")
    return chosen


def collections_signature(tokens: Sequence[tuple[str, str]]) -> str:
    """The change probe's token over each collection's (path, change token)."""
    lines = "\n".join(f"{path}\t{token}" for path, token in tokens)
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()
