"""Connecting to an IMAP server with imapclient: TLS by default, password or XOAUTH2.

``security`` is ``tls`` (implicit TLS, port 993), ``starttls`` (port 143, upgraded before
login) or ``plain`` (no TLS: only to a server on this machine). ``ca_file`` trusts a
certificate authority besides the system's (a self-hosted server's own CA).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import Any, Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from ingest_pipeline.sources.base import CredentialsRevoked, SourceError

Security = Literal["tls", "starttls", "plain"]
DEFAULT_PORTS: dict[str, int] = {"tls": 993, "starttls": 143, "plain": 143}
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class ImapEndpoint:
    """Where the server answers and how the connection is secured."""

    host: str
    port: int | None = None
    security: Security = "tls"
    ca_file: str | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port or DEFAULT_PORTS[self.security]}"

    def check(self) -> None:
        if self.security not in DEFAULT_PORTS:
            raise SourceError(
                f"IMAP security must be tls, starttls or plain, not {self.security!r}"
            )
        if self.security == "plain" and self.host not in LOCAL_HOSTS:
            raise SourceError(
                f"refusing to send an IMAP password to {self.host} without TLS: plain is only "
                "for a server on this machine; use --security tls or starttls"
            )


def _context(endpoint: ImapEndpoint) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if endpoint.ca_file:
        context.load_verify_locations(cafile=endpoint.ca_file)
    return context


def connect(endpoint: ImapEndpoint, user: str, credentials: dict[str, Any]) -> IMAPClient:
    """A logged-in client. A refused login is `CredentialsRevoked` (the person must fix the
    password or reconnect); an unknown host or an untrusted certificate a `SourceError`
    naming the server; a refused or dropped connection stays `OSError` (retryable)."""
    endpoint.check()
    port = endpoint.port or DEFAULT_PORTS[endpoint.security]
    try:
        client = IMAPClient(
            endpoint.host,
            port=port,
            ssl=endpoint.security == "tls",
            ssl_context=_context(endpoint) if endpoint.security == "tls" else None,
            timeout=TIMEOUT_SECONDS,
        )
        if endpoint.security == "starttls":
            client.starttls(_context(endpoint))
    except ssl.SSLCertVerificationError as exc:
        raise SourceError(
            f"the IMAP server {endpoint.address} has a certificate this machine does not "
            f"trust ({exc.verify_message}); give its CA with --ca-file"
        ) from exc
    except socket.gaierror as exc:
        raise SourceError(f"no IMAP server {endpoint.address}: {exc}") from exc
    # A refused or dropped connection stays an OSError: a restarting server is back soon,
    # and the step's retry policy tries again.
    client.normalise_times = False  # INTERNALDATE with its zone, never local time
    try:
        if credentials.get("access_token"):
            client.oauth2_login(user, str(credentials["access_token"]))
        elif credentials.get("password") is not None:
            client.login(user, str(credentials["password"]))
        else:
            raise SourceError("this IMAP integration has no password or token; add it again")
    except LoginError as exc:
        _close(client)
        reason = exc.args[0] if exc.args else exc
        raise CredentialsRevoked(
            f"the IMAP server {endpoint.address} refused the login of {user}: {reason!s}"
        ) from exc
    except IMAPClientError as exc:
        _close(client)
        raise SourceError(f"the IMAP server {endpoint.address} refused to log in: {exc}") from exc
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError):
        client.shutdown()
