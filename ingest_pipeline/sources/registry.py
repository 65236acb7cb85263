"""Build the Source for an integration from its provider name and account."""

from __future__ import annotations

from ingest_pipeline.sources.base import Source, SourceError
from ingest_pipeline.sources.mailbox.mailbox_source import MailboxSource

PROVIDERS = ("mailbox",)


def build_source(*, provider: str, account: str) -> Source:
    """The source that reads ``account`` for ``provider``; `SourceError` for unknown ones."""
    if provider == "mailbox":
        return MailboxSource(account)
    raise SourceError(f"unknown provider {provider!r}; known providers: {', '.join(PROVIDERS)}")
