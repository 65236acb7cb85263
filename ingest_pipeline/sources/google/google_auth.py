"""Google credentials for every Google source (Gmail, Contacts, Calendar), and what Google's
errors mean.

Two kinds of credentials are accepted, as JSON:

- an authorized-user OAuth token: ``{"type": "authorized_user", "client_id",
  "client_secret", "refresh_token"[, "token_uri"]}`` (what ``gcloud``/installed-app flows
  write);
- a service account with domain-wide delegation: the service account key file, plus
  ``"subject": "user@workspace-domain"`` naming the account to read.

Each stream asks only for its own read-only scope (`SCOPES`); one integration per account
and stream, so a Gmail grant never needs the contacts scope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ingest_pipeline.sources.base import CredentialsRevoked, SourceError
from ingest_pipeline.sources.credentials_file import read_json_object

SCOPES = {
    "mail": ["https://www.googleapis.com/auth/gmail.readonly"],
    "contacts": ["https://www.googleapis.com/auth/contacts.readonly"],
    "calendar_events": ["https://www.googleapis.com/auth/calendar.readonly"],
}
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}


@dataclass(frozen=True)
class GoogleEndpoint:
    """Where Google's APIs live (``api_endpoint`` lets tests and proxies stand in)."""

    api_endpoint: str = "https://www.googleapis.com/"
    timeout_seconds: float = 60.0

    def batch_uri(self, api: str, version: str) -> str:
        """An API's batch endpoint (the discovery document's ignores ``api_endpoint``)."""
        return f"{self.api_endpoint.rstrip('/')}/batch/{api}/{version}"


def load_credentials_file(path: str) -> dict[str, Any]:
    """Read and sanity-check a credentials JSON file; `SourceError` says what is wrong."""
    info = read_json_object(path)
    kind = info.get("type", "authorized_user")
    required = {
        "authorized_user": ("client_id", "client_secret", "refresh_token"),
        "service_account": ("client_email", "private_key", "subject"),
    }.get(kind)
    if required is None:
        raise SourceError(
            f"credentials type {kind!r} is not supported (authorized_user or service_account)"
        )
    missing = [field for field in required if not info.get(field)]
    if missing:
        raise SourceError(f"credentials file {path!r} lacks {', '.join(missing)}")
    return info


def google_credentials(info: dict[str, Any], scopes: list[str]) -> Any:
    """google-auth credentials for ``scopes`` that refresh themselves (never logged)."""
    if info.get("type") == "service_account":
        return service_account.Credentials.from_service_account_info(
            info, scopes=scopes, subject=info["subject"]
        )
    return user_credentials.Credentials(
        token=None,
        refresh_token=info["refresh_token"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        token_uri=info.get("token_uri", GOOGLE_TOKEN_URI),
        scopes=scopes,
    )


def authorized_http(
    credentials: Any, timeout_seconds: float
) -> google_auth_httplib2.AuthorizedHttp:
    return google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(timeout=timeout_seconds)
    )


def google_service(api: str, version: str, http: Any, api_endpoint: str) -> Any:
    """The real googleapiclient service from its bundled discovery document."""
    return build(
        api,
        version,
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_endpoint},
    )


def error_reason(error: HttpError) -> str:
    """Google's reason for an error: ``errors[0].reason`` (``rateLimitExceeded``,
    ``fullSyncRequired``) or an ErrorInfo detail's ``reason`` (``EXPIRED_SYNC_TOKEN``)."""
    try:
        details = json.loads(error.content.decode("utf-8", "replace"))["error"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""
    if not isinstance(details, dict):
        return ""
    for entry in details.get("details") or []:
        if isinstance(entry, dict) and entry.get("reason"):
            return str(entry["reason"])
    errors = details.get("errors") or []
    if errors and isinstance(errors[0], dict):
        return str(errors[0].get("reason") or "")
    return ""


def is_transient(error: HttpError) -> bool:
    """429, 403 rate-limit reasons and 5xx: worth asking again after a pause."""
    status = int(error.resp.status)
    return (
        status == 429
        or status >= 500
        or (status == 403 and error_reason(error) in RATE_LIMIT_REASONS)
    )


def retry_after_seconds(error: HttpError, default: float) -> float:
    value = error.resp.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else default
    except ValueError:
        return default


def revoked(exc: BaseException) -> CredentialsRevoked | None:
    """A `CredentialsRevoked` when ``exc`` says the grant is gone (invalid_grant, or 401)."""
    if isinstance(exc, google.auth.exceptions.RefreshError):
        text = str(exc)
        if "invalid_grant" in text or "invalid_client" in text or "unauthorized" in text:
            return CredentialsRevoked(
                "Google refused the stored authorization (invalid_grant): the token was "
                "revoked or expired; reconnect your Google account"
            )
    if isinstance(exc, HttpError) and int(exc.resp.status) == 401:
        return CredentialsRevoked(
            "Google answered 401 after a token refresh: reconnect your Google account"
        )
    return None
