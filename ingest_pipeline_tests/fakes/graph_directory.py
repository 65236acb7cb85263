"""The tenant behind the fake Graph: apps, users and their mailboxes, refresh grants, delta
state; the set-up API tests call, and who may open which mailbox.

`FakeGraph` serves this over HTTPS; every method takes the server lock, so tests may change
the tenant while the server answers.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

from ingest_pipeline_tests.fakes.graph_delta import DeltaTokens
from ingest_pipeline_tests.fakes.graph_mailbox import Mailbox
from ingest_pipeline_tests.fakes.graph_oauth import Grant, Identity, Principal
from ingest_pipeline_tests.fakes.graph_wire import GraphError


class GraphDirectory:
    """Apps, mailboxes and tokens of the fake's tenants (``base_url`` names the issuer)."""

    def __init__(self, *, base_url: str, seed: int) -> None:
        self._lock = threading.RLock()
        self._rng = random.Random(f"fake-graph-{seed}")
        self._mailboxes: dict[str, Mailbox] = {}
        self._identity = Identity(base_url)
        self._tokens = DeltaTokens()

    def add_app(self, tenant: str, client_id: str, client_secret: str) -> None:
        """Register an app with application permissions to every mailbox of ``tenant``."""
        with self._lock:
            self._identity.add_app(tenant, client_id, client_secret, app_only=True)

    def add_delegated_user(self, tenant: str, client_id: str, client_secret: str, user: str) -> str:
        """A refresh token for ``user`` (mailbox created in ``tenant`` if new) via the app."""
        with self._lock:
            mailbox = self._find(user) or self._new_mailbox(user, None, None, tenant, None)
            grant = Grant(tenant, client_id, mailbox.key, mailbox.user_id, mailbox.display_name)
            return self._identity.add_grant(grant, client_secret)

    def add_mailbox(
        self,
        user: str,
        address: str | None = None,
        user_id: str | None = None,
        *,
        tenant: str | None = None,
        display_name: str | None = None,
    ) -> str:
        """A mailbox for user principal name ``user`` (mail ``address``, default the same),
        reachable as ``/users/{GUID}``, ``/users/{user}`` and ``/users/{address}``; None as
        ``tenant`` lets every tenant's apps in. Returns the GUID (the same one when called
        again for an existing user)."""
        with self._lock:
            existing = self._find(user)
            if existing is not None:
                if user_id is not None and user_id.lower() != existing.user_id.lower():
                    raise ValueError(f"{user!r} already has user id {existing.user_id}")
                return existing.user_id
            return self._new_mailbox(user, address, user_id, tenant, display_name).user_id

    def add_message(
        self, user: str, raw_mime: bytes, received: dt.datetime, folder: str = "inbox"
    ) -> str:
        """Deliver ``raw_mime`` to ``folder`` (well-known name or id) with ``received`` as
        receivedDateTime (naive means UTC; Graph keeps whole seconds). Returns the Graph id."""
        if received.tzinfo is None:
            received = received.replace(tzinfo=dt.UTC)
        received = received.astimezone(dt.UTC).replace(microsecond=0)
        with self._lock:
            return self._setup_mailbox(user).mail_store.add(bytes(raw_mime), received, folder)

    def delete_message(self, user: str, message_id: str) -> None:
        with self._lock:
            self._setup_call(lambda: self._known(user).mail_store.delete(message_id))

    def add_contact(self, user: str, fields: dict[str, Any], folder: str | None = None) -> str:
        """A contact in the default Contacts folder, or in the named contactFolder ``folder``
        (created on first use). ``fields`` are Graph contact properties."""
        with self._lock:
            return self._setup_mailbox(user).contacts.add(fields, folder)

    def update_contact(self, user: str, contact_id: str, fields: dict[str, Any]) -> None:
        """Change some properties (PATCH semantics); changeKey and etag change."""
        with self._lock:
            self._setup_call(lambda: self._known(user).contacts.update(contact_id, fields))

    def delete_contact(self, user: str, contact_id: str) -> None:
        with self._lock:
            self._setup_call(lambda: self._known(user).contacts.delete(contact_id))

    def add_contact_folder(self, user: str, name: str) -> str:
        with self._lock:
            return self._setup_mailbox(user).contacts.add_folder(name)

    def mail_folder_id(self, user: str, folder: str) -> str:
        """The opaque id of a mail folder given by well-known name."""
        with self._lock:
            return self._setup_call(lambda: self._known(user).mail_store.folder(folder).id)

    def contact_folder_id(self, user: str, folder: str | None = None) -> str:
        """The id of the default contacts folder (None) or of a named contactFolder."""
        with self._lock:
            return self._setup_call(lambda: self._known(user).contacts.folder_id(folder))

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """The grant behind ``refresh_token`` (and every token rotated from it) is refused
        with AADSTS70008; access tokens already issued keep working until they expire."""
        with self._lock:
            self._identity.revoke_refresh_token(refresh_token)

    def revoke_app(self, client_id: str) -> None:
        """The app's secret expires: every grant answers 401 invalid_client AADSTS7000222."""
        with self._lock:
            self._identity.revoke_app(client_id)

    def expire_deltas(self) -> None:
        """Every skip and delta token issued so far answers 410 ``delta_expired_code``."""
        with self._lock:
            self._tokens.expire_all()

    def _new_mailbox(
        self,
        user: str,
        address: str | None,
        user_id: str | None,
        tenant: str | None,
        display_name: str | None,
    ) -> Mailbox:
        guid = user_id or str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        local = user.split("@")[0]
        mailbox = Mailbox(
            key=user,
            user_id=guid,
            mail=address or user,
            display_name=display_name or local.replace(".", " ").title(),
            tenant=tenant,
            rng=random.Random(f"{guid}-ids"),
        )
        if any(ref in self._mailboxes for ref in mailbox.refs()):
            raise ValueError(f"another mailbox already answers to one of {sorted(mailbox.refs())}")
        for ref in mailbox.refs():
            self._mailboxes[ref] = mailbox
        if tenant is not None:
            self._identity.tenants.add(tenant)
        return mailbox

    def _find(self, ref: str) -> Mailbox | None:
        return self._mailboxes.get(ref.lower())

    def _known(self, ref: str) -> Mailbox:
        mailbox = self._find(ref)
        if mailbox is None:
            raise KeyError(f"no mailbox {ref!r}: call add_mailbox first")
        return mailbox

    def _setup_mailbox(self, ref: str) -> Mailbox:
        return self._find(ref) or self._new_mailbox(ref, None, None, None, None)

    @staticmethod
    def _setup_call(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except GraphError as exc:
            raise KeyError(exc.message) from None

    def authenticate(self, headers: dict[str, str], now: float) -> Principal:
        """Who the ``Authorization: Bearer`` header speaks for, or 401."""
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        principal = self._identity.principal(token.strip())
        if principal is None:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "IDX14100: JWT is not well formed, there are no dots (.).",
            )
        if principal.expires_at <= now:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        return principal

    def open_mailbox(self, ref: str | None, principal: Principal, route_name: str) -> Mailbox:
        """The mailbox ``/users/{ref}`` (``/me`` for None) names, if ``principal`` may open it:
        404 when unknown to the caller's tenant, 403 when not theirs."""
        if ref is None:
            if principal.user is None:
                raise GraphError(
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            return self._mailboxes[principal.user.lower()]
        mailbox = self._find(ref)
        if mailbox is None or mailbox.tenant not in (None, principal.tenant):
            if route_name == "user.get":
                raise GraphError(
                    404,
                    "Request_ResourceNotFound",
                    f"Resource '{ref}' does not exist or one of its queried reference-property "
                    "objects are not present.",
                )
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{ref}' is invalid.")
        allowed = mailbox.key == principal.user if principal.user else principal.app_only
        if not allowed:
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        return mailbox
