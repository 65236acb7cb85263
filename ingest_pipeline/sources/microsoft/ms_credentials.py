"""Microsoft credentials as stored (encrypted) on an integration, and where Graph lives.

Two grants, as JSON:

- app-only (client credentials): ``{"type": "client_credentials", "tenant_id",
  "client_id", "client_secret"}``; the app reads the mailbox the integration names (the
  seed's ``MS_MAILBOX_USER_ID``), with the ``Mail.Read``/``Contacts.Read`` application
  permissions an admin granted;
- delegated: ``{"type": "refresh_token", "tenant_id", "client_id", "refresh_token"[,
  "client_secret"]}``; the signed-in user's own mailbox (``me``). Without a secret the app
  is a public client.

``integrations add`` takes a JSON file, or reads the seed's ``MS_CLIENT_ID``,
``MS_CLIENT_SECRET``, ``MS_TENANT_ID`` (and ``MS_MAILBOX_USER_ID``) from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ingest_pipeline.sources.base import SourceError
from ingest_pipeline.sources.credentials_file import read_json_object

GRAPH_URL = "https://graph.microsoft.com/v1.0"
AUTHORITY_HOST = "https://login.microsoftonline.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
_REQUIRED = {
    "client_credentials": ("tenant_id", "client_id", "client_secret"),
    "refresh_token": ("tenant_id", "client_id", "refresh_token"),
}


@dataclass(frozen=True)
class GraphEndpoint:
    """Where Graph and the identity platform answer, and the CA bundle that verifies them
    (None: the system's). Both URLs must be https: msal refuses anything else, and a URL
    read from the database must not send tokens in clear text."""

    graph_url: str = GRAPH_URL
    authority_host: str = AUTHORITY_HOST
    ca_bundle: str | None = None
    timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        https_only(self.graph_url, what="the Graph URL")
        https_only(self.authority_host, what="the Microsoft authority")

    def authority(self, tenant_id: str) -> str:
        return f"{self.authority_host.rstrip('/')}/{tenant_id}"


def https_only(url: str, *, what: str) -> str:
    """``url`` when it is an https URL with a host; `SourceError` otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SourceError(f"{what} must be an https:// URL, not {url!r}")
    return url


def check_credentials(info: dict[str, Any], *, origin: str) -> dict[str, Any]:
    """``info`` when it holds one of the two grants; `SourceError` saying what is missing."""
    kind = info.get("type") or (
        "refresh_token" if info.get("refresh_token") else "client_credentials"
    )
    required = _REQUIRED.get(kind)
    if required is None:
        raise SourceError(
            f"{origin}: Microsoft credentials type {kind!r} is not supported "
            "(client_credentials or refresh_token)"
        )
    missing = [name for name in required if not info.get(name)]
    if missing:
        raise SourceError(f"{origin} lacks {', '.join(missing)}")
    return {**info, "type": kind}


def load_credentials_file(path: str) -> dict[str, Any]:
    """Read and check a Microsoft credentials JSON file."""
    info = read_json_object(path)
    return check_credentials(info, origin=f"credentials file {path!r}")


def credentials_from_environment() -> tuple[dict[str, Any], str | None]:
    """App-only credentials from ``MS_CLIENT_ID``, ``MS_CLIENT_SECRET``, ``MS_TENANT_ID``,
    and the mailbox from ``MS_MAILBOX_USER_ID`` (None when unset)."""
    info = {
        "type": "client_credentials",
        "tenant_id": os.environ.get("MS_TENANT_ID", ""),
        "client_id": os.environ.get("MS_CLIENT_ID", ""),
        "client_secret": os.environ.get("MS_CLIENT_SECRET", ""),
    }
    missing = [
        f"MS_{name.upper()}"
        for name in ("tenant_id", "client_id", "client_secret")
        if not info[name]
    ]
    if missing:
        raise SourceError(
            f"Microsoft needs --credentials FILE, or {', '.join(missing)} in the environment"
        )
    return info, os.environ.get("MS_MAILBOX_USER_ID") or None
