"""Where a CalDAV/CardDAV account lives and how to sign in: the server URL, the CA to trust,
and the user's password (app password on iCloud and Fastmail).

HTTPS is required; plain HTTP only to this machine (127.0.0.1, ::1, localhost), the same
rule as the IMAP source's, so a password never crosses a network in clear.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
    from ingest_pipeline.domain import sha256_hex

    return f"sha256:{sha256_hex(external_id.encode('utf-8'))}"
