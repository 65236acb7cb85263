"""The Microsoft identity platform (Entra ID v2.0) as msal sees it: OpenID discovery, an
optional instance-discovery endpoint, and ``POST /{tenant}/oauth2/v2.0/token`` for the
``client_credentials`` and ``refresh_token`` grants.

Errors are Entra's: a wrong secret is ``401 invalid_client`` AADSTS7000215, an expired
(revoked) app secret ``401 invalid_client`` AADSTS7000222, an app unknown to the tenant
``400 unauthorized_client`` AADSTS700016, a revoked refresh token ``400 invalid_grant``
AADSTS70008, a client-credentials scope without ``/.default`` ``400 invalid_scope``
AADSTS1002012. Access tokens are opaque; Graph resolves them with `Identity.principal`.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from ingest_pipeline_tests.fakes.graph_wire import AAD_JSON, Reply, aad_error, json_reply

ACCESS_TOKEN_SECONDS = 3599
META_TENANTS = frozenset({"common", "organizations"})
_OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})


@dataclass
class App:
    """An app registration: one secret; app-only (application permission) consent per tenant."""

    client_id: str
    secret: str
    tenants: set[str] = field(default_factory=set)
    app_only_tenants: set[str] = field(default_factory=set)
    secret_expired: bool = False


@dataclass
class Grant:
    """A delegated sign-in: every refresh token rotated from it shares (and loses) it."""

    tenant: str
    client_id: str
    user: str
    user_id: str
    display_name: str
    revoked: bool = False


@dataclass(frozen=True)
class Principal:
    """Who an access token speaks for: an app in a tenant, or (delegated) one user."""

    tenant: str
    client_id: str
    user: str | None
    app_only: bool
    expires_at: float


class Identity:
    """Apps, refresh-token grants and access tokens (callers hold the server lock)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.tenants: set[str] = set()
        self._apps: dict[str, App] = {}
        self._refresh: dict[str, Grant] = {}
        self._access: dict[str, Principal] = {}

    def add_app(self, tenant: str, client_id: str, secret: str, *, app_only: bool) -> None:
        app = self._apps.setdefault(client_id, App(client_id, secret))
        if app.secret != secret:
            raise ValueError(f"app {client_id!r} already has another client secret")
        self.tenants.add(tenant)
        app.tenants.add(tenant)
        if app_only:
            app.app_only_tenants.add(tenant)

    def add_grant(self, grant: Grant, secret: str) -> str:
        self.add_app(grant.tenant, grant.client_id, secret, app_only=False)
        token = _refresh_token()
        self._refresh[token] = grant
        return token

    def revoke_refresh_token(self, token: str) -> None:
        try:
            self._refresh[token].revoked = True
        except KeyError:
            raise KeyError("unknown refresh token") from None

    def revoke_app(self, client_id: str) -> None:
        try:
            self._apps[client_id].secret_expired = True
        except KeyError:
            raise KeyError(f"unknown app {client_id!r}") from None

    def principal(self, access_token: str) -> Principal | None:
        return self._access.get(access_token)

    def openid_configuration(self, tenant: str) -> Reply:
        """``GET /{tenant}/v2.0/.well-known/openid-configuration``."""
        if tenant not in self.tenants and tenant not in META_TENANTS:
            return aad_error(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant "
                "ID and are signing into the correct cloud.",
            )
        root = f"{self.base_url}/{tenant}"
        issuer_tenant = "{tenantid}" if tenant in META_TENANTS else tenant
        config = {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{self.base_url}/{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{self.base_url}/oidc/userinfo",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "tid", "oid"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }
        return json_reply(200, config, content_type=AAD_JSON)

    def instance_discovery(self, query: str) -> Reply:
        """``GET /common/discovery/instance?authorization_endpoint=...`` (msal asks it only when
        given ``instance_discovery=<this URL>``)."""
        endpoint = (parse_qs(query).get("authorization_endpoint") or [""])[0]
        parts = urlsplit(endpoint).path.split("/")
        tenant = parts[1] if len(parts) > 1 and parts[1] else "common"
        host = urlsplit(self.base_url).netloc
        payload = {
            "tenant_discovery_endpoint": (
                f"{self.base_url}/{tenant}/v2.0/.well-known/openid-configuration"
            ),
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }
        return json_reply(200, payload, content_type=AAD_JSON)

    def token(self, tenant: str, method: str, body: bytes, now: float) -> tuple[str, Reply]:
        """``POST /{tenant}/oauth2/v2.0/token``: (grant type, reply)."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant_type = form.get("grant_type", "")
        if method != "POST":
            return grant_type, aad_error(
                405, "invalid_request", 900561, "The endpoint only accepts POST requests."
            )
        if grant_type not in ("client_credentials", "refresh_token"):
            return grant_type, aad_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        client_id = form.get("client_id", "")
        app = self._apps.get(client_id)
        if app is None or (tenant not in app.tenants and tenant not in META_TENANTS):
            return grant_type, aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant}'.",
            )
        if form.get("client_secret") != app.secret:
            return grant_type, aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{client_id}'.",
            )
        if app.secret_expired:
            return grant_type, aad_error(
                401,
                "invalid_client",
                7000222,
                f"The provided client secret keys for app '{client_id}' are expired. Visit the "
                "Azure portal to create new keys for your app.",
            )
        if grant_type == "client_credentials":
            return grant_type, self._client_credentials(tenant, app, form, now)
        return grant_type, self._refresh_grant(tenant, app, form, now)

    def _client_credentials(self, tenant: str, app: App, form: dict[str, str], now: float) -> Reply:
        scope = form.get("scope", "")
        if tenant in META_TENANTS:
            return aad_error(
                400,
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by "
                "any provided credentials.",
            )
        if not scope.endswith("/.default") or " " in scope.strip():
            return aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        access = self._issue(
            Principal(
                tenant,
                app.client_id,
                None,
                tenant in app.app_only_tenants,
                now + ACCESS_TOKEN_SECONDS,
            )
        )
        payload = {
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "ext_expires_in": ACCESS_TOKEN_SECONDS,
            "access_token": access,
        }
        return json_reply(200, payload, content_type=AAD_JSON)

    def _refresh_grant(self, tenant: str, app: App, form: dict[str, str], now: float) -> Reply:
        grant = self._refresh.get(form.get("refresh_token", ""))
        if grant is None:
            return aad_error(
                400,
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            )
        if grant.revoked:
            return aad_error(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to "
                "inactivity. Send a new interactive authorization request for this user and "
                "resource.",
            )
        if grant.client_id != app.client_id or tenant not in (grant.tenant, *META_TENANTS):
            return aad_error(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
        requested = form.get("scope", "").split()
        resource_scopes = [s for s in requested if s not in _OIDC_SCOPES]
        access = self._issue(
            Principal(grant.tenant, app.client_id, grant.user, False, now + ACCESS_TOKEN_SECONDS)
        )
        refresh = _refresh_token()
        self._refresh[refresh] = grant
        payload: dict[str, object] = {
            "token_type": "Bearer",
            "scope": " ".join(resource_scopes or ["https://graph.microsoft.com/.default"]),
            "expires_in": ACCESS_TOKEN_SECONDS,
            "ext_expires_in": ACCESS_TOKEN_SECONDS,
            "access_token": access,
            "refresh_token": refresh,
        }
        if "openid" in requested:
            payload["id_token"] = self._id_token(grant, app.client_id)
        if form.get("client_info") == "1":
            info = {"uid": grant.user_id, "utid": grant.tenant}
            payload["client_info"] = _b64url(json.dumps(info).encode())
        return json_reply(200, payload, content_type=AAD_JSON)

    def _issue(self, principal: Principal) -> str:
        token = secrets.token_urlsafe(48)
        self._access[token] = principal
        return token

    def _id_token(self, grant: Grant, client_id: str) -> str:
        """An unsigned (``alg: none``) ID token: msal reads its claims, never its signature.
        Its times are wall-clock epoch seconds, as msal compares them with ``time.time()``."""
        issued = int(time.time())
        header = {"typ": "JWT", "alg": "none"}
        claims = {
            "aud": client_id,
            "iss": f"{self.base_url}/{grant.tenant}/v2.0",
            "iat": issued,
            "nbf": issued,
            "exp": issued + ACCESS_TOKEN_SECONDS,
            "name": grant.display_name,
            "oid": grant.user_id,
            "preferred_username": grant.user,
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{client_id}/{grant.user_id}")),
            "tid": grant.tenant,
            "ver": "2.0",
        }
        return ".".join(
            [_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()), ""]
        )


def _refresh_token() -> str:
    return "0.AXoA" + secrets.token_urlsafe(96)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
