"""Access tokens for Graph from msal, for both grants, and what a refused grant means.

msal keeps the app token in its own cache (``acquire_token_for_client`` answers from it
until it nears expiry); a delegated grant's access token is kept here and renewed from the
refresh token when it is about to expire. A grant the identity platform no longer accepts
(``invalid_grant``; AADSTS50173, 70008, 700082: revoked, expired or password changed;
``invalid_client``: the app's secret expired or was removed) raises `CredentialsRevoked`:
the run stops, and the integration is disabled until a person reconnects it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import msal
import requests

from ingest_pipeline.sources.base import CredentialsRevoked, SourceError
from ingest_pipeline.sources.microsoft.ms_credentials import GRAPH_SCOPE, GraphEndpoint

REVOKED_CODES = {50173, 70008, 700082, 70043, 700084, 7000215, 7000222, 7000112}
# Renew this long before the token says it expires, so no request carries a stale one.
EXPIRY_MARGIN_SECONDS = 300


class GraphTokens:
    """Bearer tokens for one integration's grant."""

    def __init__(
        self,
        info: dict[str, Any],
        endpoint: GraphEndpoint,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.info = info
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        session = requests.Session()
        if endpoint.ca_bundle:
            # REQUESTS_CA_BUNDLE in the environment would silently replace ``verify`` (msal
            # passes none per request), so the session ignores the environment's settings.
            session.trust_env = False
            session.verify = endpoint.ca_bundle
        self._options: dict[str, Any] = {
            "authority": endpoint.authority(str(info["tenant_id"])),
            "http_client": session,
            "timeout": endpoint.timeout_seconds,
        }
        if endpoint.authority_host.rstrip("/") != "https://login.microsoftonline.com":
            # Another identity host (a sovereign cloud's, a local one): no instance discovery
            # against login.microsoftonline.com, its own OpenID document instead.
            self._options["instance_discovery"] = False
        self._app: msal.ClientApplication | None = None

    @property
    def delegated(self) -> bool:
        """Whether the grant is a signed-in user's (``me``) rather than the app's."""
        return self.info["type"] == "refresh_token"

    def bearer(self) -> str:
        """A current access token."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._token, lifetime = self._acquire()
                self._expires_at = self._clock() + max(lifetime - EXPIRY_MARGIN_SECONDS, 30)
            return self._token

    def invalidate(self) -> None:
        """Forget the current token (Graph answered 401 with it)."""
        with self._lock:
            self._token = None

    def _application(self) -> msal.ClientApplication:
        """The msal app, made on first use (msal reads the authority's OpenID document
        then, so a network or TLS problem surfaces where it is reported)."""
        if self._app is None:
            client_id = str(self.info["client_id"])
            if self.info.get("client_secret"):
                self._app = msal.ConfidentialClientApplication(
                    client_id, client_credential=str(self.info["client_secret"]), **self._options
                )
            else:
                self._app = msal.PublicClientApplication(client_id, **self._options)
        return self._app

    def _acquire(self) -> tuple[str, float]:
        try:
            app = self._application()
            if self.delegated:
                result = app.acquire_token_by_refresh_token(
                    str(self.info["refresh_token"]), scopes=[GRAPH_SCOPE]
                )
            else:
                assert isinstance(app, msal.ConfidentialClientApplication)
                result = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        except (requests.RequestException, ValueError) as exc:
            raise SourceError(f"Microsoft sign-in failed: {_reason(exc)}") from exc
        if "access_token" in result:
            return str(result["access_token"]), float(result.get("expires_in", 3599))
        raise token_error(result)


def _reason(exc: BaseException) -> str:
    """The innermost cause's message (a TLS error says "certificate verify failed")."""
    while exc.__context__ is not None and exc.__cause__ is None and exc.__context__ is not exc:
        exc = exc.__context__
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return f"the server's TLS certificate is not trusted (set INGEST_MS_CA_BUNDLE): {text}"
    return text


def token_error(result: dict[str, Any]) -> Exception:
    """The exception for msal's error ``result``: `CredentialsRevoked` when the grant is
    gone, else a `SourceError` quoting the identity platform."""
    error = str(result.get("error", "unknown_error"))
    description = str(result.get("error_description", "")).splitlines()[0:1]
    codes = {int(code) for code in result.get("error_codes") or [] if str(code).isdigit()}
    said = f"{error}: {description[0]}" if description else error
    if error in ("invalid_grant", "invalid_client") or codes & REVOKED_CODES:
        return CredentialsRevoked(
            f"Microsoft refused the stored authorization ({said}); reconnect your Microsoft account"
        )
    return SourceError(f"Microsoft sign-in failed ({said})")
