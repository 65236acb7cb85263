"""Build an authorized Gmail client from stored credentials (see `google_auth` for the
credentials accepted and how Google's errors are read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import google_auth_httplib2

from ingest_pipeline.sources.google.google_auth import (
    SCOPES as STREAM_SCOPES,
)
from ingest_pipeline.sources.google.google_auth import (
    authorized_http as _authorized_http,
)
from ingest_pipeline.sources.google.google_auth import (
    error_reason,
    google_service,
    is_transient,
    load_credentials_file,
    retry_after_seconds,
    revoked,
)
from ingest_pipeline.sources.google.google_auth import (
    google_credentials as _google_credentials,
)

SCOPES = STREAM_SCOPES["mail"]
GOOGLE_ENDPOINT = "https://gmail.googleapis.com/"

__all__ = [
    "GOOGLE_ENDPOINT",
    "GmailEndpoint",
    "authorized_http",
    "error_reason",
    "gmail_service",
    "google_credentials",
    "is_transient",
    "load_credentials_file",
    "retry_after_seconds",
    "revoked",
]


@dataclass(frozen=True)
class GmailEndpoint:
    """Where the API lives (``api_endpoint`` lets tests and proxies stand in for Google)."""

    api_endpoint: str = GOOGLE_ENDPOINT
    timeout_seconds: float = 60.0

    @property
    def batch_uri(self) -> str:
        """Gmail's batch endpoint (the discovery document's would ignore ``api_endpoint``)."""
        return f"{self.api_endpoint.rstrip('/')}/batch/gmail/v1"


def google_credentials(info: dict[str, Any]) -> Any:
    """Credentials with Gmail's read-only scope."""
    return _google_credentials(info, SCOPES)


def authorized_http(
    credentials: Any, endpoint: GmailEndpoint
) -> google_auth_httplib2.AuthorizedHttp:
    return _authorized_http(credentials, endpoint.timeout_seconds)


def gmail_service(http: Any, endpoint: GmailEndpoint) -> Any:
    """The real googleapiclient Gmail service from its bundled discovery document."""
    return google_service("gmail", "v1", http, endpoint.api_endpoint)
