"""Build the Source for an integration from its provider, account, options and credentials."""

from __future__ import annotations

from typing import Any

from ingest_pipeline.sources.base import Source, SourceError
from ingest_pipeline.sources.mailbox.mailbox_source import MailboxSource

PROVIDERS = ("mailbox", "gmail")


def build_source(
    *,
    provider: str,
    account: str,
    options: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    sync_state: dict[str, Any] | None = None,
) -> Source:
    """The source that reads ``account`` for ``provider``; `SourceError` for unknown ones."""
    options = options or {}
    if provider == "mailbox":
        return MailboxSource(account)
    if provider == "gmail":
        from ingest_pipeline.sources.gmail.gmail_client import GOOGLE_ENDPOINT, GmailEndpoint
        from ingest_pipeline.sources.gmail.gmail_source import GmailOptions, GmailSource

        if not credentials:
            raise SourceError("this Gmail integration has no stored credentials; add it again")
        return GmailSource(
            credentials,
            options=GmailOptions(
                query=options.get("query"),
                label=options.get("label"),
                endpoint=GmailEndpoint(api_endpoint=options.get("api_endpoint") or GOOGLE_ENDPOINT),
                units_per_minute=int(options.get("units_per_minute", 15_000)),
            ),
            sync_state=sync_state,
        )
    raise SourceError(f"unknown provider {provider!r}; known providers: {', '.join(PROVIDERS)}")
