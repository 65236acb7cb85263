"""Open an integration's source, keep its provider state, and react to revoked access."""

from __future__ import annotations

from ingest_pipeline.sources.base import CredentialsRevoked, Source
from ingest_pipeline.sources.registry import build_source, get_provider
from ingest_pipeline.steps.step_context import StepContext
from ingest_pipeline.store import integrations
from ingest_pipeline.store.credentials_vault import decrypt
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.models import Integration
from ingest_pipeline.store.search_keywords import KEYWORD_SEARCH_OPTION, tenant_keywords

RECONNECT_KIND = "reconnect_account"


def open_source(ctx: StepContext, *, credentials_key: str | None) -> Source:
    """The integration's source with its decrypted credentials and saved sync state; with
    the ``keyword_search`` option, the tenant's keywords as they are now (`tenant_keywords`)."""
    info = ctx.integration
    credentials = decrypt(info.credentials, key=credentials_key) if info.credentials else None
    options = dict(info.options)
    if options.get(KEYWORD_SEARCH_OPTION):
        with session_scope(ctx.database_url) as session:
            options["keywords"] = tenant_keywords(session, info.tenant_id)
    return build_source(
        provider=info.provider,
        account=info.account,
        options=options,
        credentials=credentials,
        sync_state=info.sync_state,
        database_url=ctx.database_url,
        integration_id=info.id,
    )


def save_sync_state(ctx: StepContext, source: Source) -> bool:
    """Store the source's provider state (e.g. Gmail's historyId) when it changed."""
    state_of = getattr(source, "sync_state", None)
    if state_of is None:
        return False
    state = state_of()
    if state is None:
        return False
    with session_scope(ctx.database_url) as session:
        row = session.get(Integration, ctx.integration.id)
        if row is None or (row.sync_state or {}) == state:
            return False
        row.sync_state = state
    return True


def disable_for_revoked_access(ctx: StepContext, error: CredentialsRevoked) -> None:
    """Stop importing from the integration and tell a person to reconnect it."""
    provider = get_provider(ctx.integration.provider).account_kind
    with session_scope(ctx.database_url) as session:
        row = session.get(Integration, ctx.integration.id)
        if row is None:
            return
        row.status = "disabled"
        integrations.record_sync(session, row.id, status="failed", error=str(error))
        integrations.notify(
            session,
            row.id,
            kind=RECONNECT_KIND,
            message=f"Reconnect your {provider} account {row.account}: {error}",
        )
