"""Google's OAuth 2.0 token endpoint (``POST https://oauth2.googleapis.com/token``): refresh
grants and service accounts' signed JWT grants, and the access tokens it hands out.

Answers as Google does: ``{"access_token", "expires_in": 3599, "scope", "token_type":
"Bearer"}``; an unknown or revoked refresh token is ``400 {"error": "invalid_grant",
"error_description": "Token has been expired or revoked."}``; an unknown client or a wrong
secret is ``401 {"error": "invalid_client"}``. google-auth turns those into ``RefreshError``.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ingest_pipeline_tests.fakes.gmail_errors import Reply, json_reply

ACCESS_TOKEN_SECONDS = 3599
READONLY_SCOPE = "https://www.googleapis.com/auth/gmail.readonly"


@dataclass
class Grant:
    """A refresh token: whose mailbox (lower-case address), which client, revoked or not."""

    email: str
    client_id: str
    revoked: bool = False


@dataclass
class _Access:
    grant: Grant
    expires_at: float


def oauth_error(status: int, error: str, description: str = "") -> Reply:
    body = {"error": error, **({"error_description": description} if description else {})}
    return json_reply(status, body)


JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """OAuth clients, refresh tokens and access tokens (callers hold the server lock)."""

    def __init__(self) -> None:
        self._clients: dict[str, str] = {}
        self._grants: dict[str, Grant] = {}
        self._access: dict[str, _Access] = {}
        self._service_accounts: dict[str, Any] = {}

    def add_service_account(self, client_email: str, public_key: Any) -> None:
        """Trust a service account (domain-wide delegation) whose JWTs ``public_key`` verifies."""
        self._service_accounts[client_email] = public_key

    def add_grant(self, email: str, client_id: str, client_secret: str, token: str | None) -> str:
        """Register the client (one secret per id) and a refresh token for ``email``."""
        if self._clients.setdefault(client_id, client_secret) != client_secret:
            raise ValueError(f"OAuth client {client_id!r} already has another secret")
        token = token or "1//fake-" + secrets.token_urlsafe(24)
        if token in self._grants and self._grants[token].email != email:
            raise ValueError("that refresh token already belongs to another user")
        self._grants[token] = Grant(email, client_id)
        return token

    def revoke(self, refresh_token: str) -> None:
        if refresh_token not in self._grants:
            raise KeyError("unknown refresh token")
        self._grants[refresh_token].revoked = True

    def user_of(self, access_token: str, now: float) -> str | None:
        """The mailbox an access token opens, or None (unknown, expired or revoked: 401)."""
        access = self._access.get(access_token)
        if access is None or access.grant.revoked or access.expires_at <= now:
            return None
        return access.grant.email

    def token_request(self, method: str, content_type: str, body: bytes, now: float) -> Reply:
        """Answer a token endpoint request (form-encoded, or JSON as some clients send)."""
        if method != "POST":
            return oauth_error(405, "invalid_request", "POST only")
        try:
            if "json" in content_type:
                form = {k: str(v) for k, v in json.loads(body or b"{}").items()}
            else:
                form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        except (ValueError, AttributeError):
            return oauth_error(400, "invalid_request", "Malformed body")
        if form.get("grant_type") == JWT_BEARER:
            return self._jwt_bearer(form, now)
        return self._refresh(form, now)

    def _jwt_bearer(self, form: dict[str, str], now: float) -> Reply:
        """A service account's signed JWT for a delegated user (``sub``) buys an access token."""
        try:
            header, payload, signature = form.get("assertion", "").split(".")
            claims = json.loads(_b64url(payload))
        except ValueError:
            return oauth_error(400, "invalid_grant", "Invalid JWT.")
        key = self._service_accounts.get(str(claims.get("iss")))
        if key is None:
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        try:
            key.verify(
                _b64url(signature),
                f"{header}.{payload}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        subject = str(claims.get("sub") or "")
        if claims.get("exp", 0) < now or not subject:
            return oauth_error(400, "invalid_grant", "Invalid JWT: expired or without a subject.")
        grant = Grant(subject, str(claims["iss"]))
        access_token = "ya29.fake-sa-" + secrets.token_urlsafe(32)
        self._access[access_token] = _Access(grant, now + ACCESS_TOKEN_SECONDS)
        answer = {
            "access_token": access_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
        }
        return json_reply(200, answer)

    def _refresh(self, form: dict[str, str], now: float) -> Reply:
        if form.get("grant_type") != "refresh_token":
            return oauth_error(400, "unsupported_grant_type", "Invalid grant_type")
        client_id = form.get("client_id", "")
        if client_id not in self._clients:
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if self._clients[client_id] != form.get("client_secret"):
            return oauth_error(401, "invalid_client", "Unauthorized")
        grant = self._grants.get(form.get("refresh_token", ""))
        if grant is None or grant.revoked:
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        if grant.client_id != client_id:
            return oauth_error(400, "unauthorized_client", "Unauthorized")
        access_token = "ya29.fake-" + secrets.token_urlsafe(32)
        self._access[access_token] = _Access(grant, now + ACCESS_TOKEN_SECONDS)
        answer = {
            "access_token": access_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": form.get("scope") or READONLY_SCOPE,
            "token_type": "Bearer",
        }
        return json_reply(200, answer, [("Cache-Control", "no-cache, no-store, max-age=0")])
