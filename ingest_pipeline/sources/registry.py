"""The providers: which streams each yields, how its integrations are added, and how to
build the Source for an integration from its account, options and credentials.

Adding a provider: a folder under `sources/` and one `ProviderSpec` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ingest_pipeline.sources.base import Source, SourceError


@dataclass(frozen=True)
class SourceConfig:
    """What an integration stores about its source (credentials already decrypted); the
    app database and the integration's id for sources kept there (prompt sets)."""

    account: str
    options: dict[str, Any]
    credentials: dict[str, Any] | None
    sync_state: dict[str, Any] | None
    database_url: str | None = None
    integration_id: int | None = None


@dataclass(frozen=True)
class ProviderSpec:
    """A provider: the streams it yields (the first is the default), what
    ``integrations add`` needs (a local ``path``, a ``credentials`` file, or nothing but the
    app database: prompt sets, made by ``prompts add``), and its
    Source's builder (which imports the provider's client libraries only when called)."""

    name: str
    streams: tuple[str, ...]
    needs: Literal["path", "credentials", "app_database"]
    build: Callable[[SourceConfig], Source]
    help: str
    account_label: str = ""
    max_items_per_run: int | None = None

    @property
    def account_kind(self) -> str:
        """What a person calls the account in "Reconnect your <kind> account"."""
        return self.account_label or self.name.capitalize()


def _mailbox(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.mailbox.mailbox_source import MailboxSource

    return MailboxSource(config.account)


def _vcard(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.vcard.vcard_source import VCardSource

    return VCardSource(config.account)


def _ics(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.ics.ics_source import IcsSource

    return IcsSource(config.account)


def _gmail(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.gmail.gmail_client import GOOGLE_ENDPOINT, GmailEndpoint
    from ingest_pipeline.sources.gmail.gmail_source import GmailOptions, GmailSource

    if not config.credentials:
        raise SourceError("this Gmail integration has no stored credentials; add it again")
    options = config.options
    return GmailSource(
        config.credentials,
        options=GmailOptions(
            query=options.get("query"),
            label=options.get("label"),
            keywords=tuple(options.get("keywords") or ()),
            endpoint=GmailEndpoint(api_endpoint=options.get("api_endpoint") or GOOGLE_ENDPOINT),
            units_per_minute=int(options.get("units_per_minute", 15_000)),
        ),
        sync_state=config.sync_state,
    )


def _google_endpoint(config: SourceConfig, default: str) -> Any:
    from ingest_pipeline.sources.google.google_auth import GoogleEndpoint

    return GoogleEndpoint(api_endpoint=config.options.get("api_endpoint") or default)


def _google_contacts(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.google.people_source import PEOPLE_ENDPOINT, GoogleContactsSource

    if not config.credentials:
        raise SourceError("this Google integration has no stored credentials; add it again")
    return GoogleContactsSource(
        config.credentials,
        endpoint=_google_endpoint(config, PEOPLE_ENDPOINT.api_endpoint),
        sync_state=config.sync_state,
    )


def _google_calendar(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.google.calendar_source import (
        CALENDAR_ENDPOINT,
        GoogleCalendarSource,
    )

    if not config.credentials:
        raise SourceError("this Google integration has no stored credentials; add it again")
    return GoogleCalendarSource(
        config.credentials,
        calendars=tuple(config.options.get("calendars") or ("primary",)),
        endpoint=_google_endpoint(config, CALENDAR_ENDPOINT.api_endpoint),
    )


def _graph_account(config: SourceConfig) -> Any:
    from ingest_pipeline.settings import get_settings
    from ingest_pipeline.sources.microsoft.graph_mailbox import GraphAccount
    from ingest_pipeline.sources.microsoft.ms_credentials import GraphEndpoint, check_credentials

    if not config.credentials:
        raise SourceError("this Microsoft integration has no stored credentials; add it again")
    settings = get_settings()
    endpoint = GraphEndpoint(
        graph_url=config.options.get("graph_url") or settings.ms_graph_url,
        authority_host=config.options.get("authority_host") or settings.ms_authority_host,
        ca_bundle=settings.ms_ca_bundle,
    )
    credentials = check_credentials(config.credentials, origin="the stored credentials")
    return GraphAccount(credentials=credentials, mailbox=config.account, endpoint=endpoint)


def _outlook(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.microsoft.outlook_source import OutlookOptions, OutlookSource

    options = OutlookOptions(
        folder=config.options.get("folder") or "inbox",
        keywords=tuple(config.options.get("keywords") or ()),
    )
    return OutlookSource(_graph_account(config), options=options, sync_state=config.sync_state)


def _imap(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.imap.imap_connection import ImapEndpoint
    from ingest_pipeline.sources.imap.imap_source import ImapSource

    if not config.credentials:
        raise SourceError("this IMAP integration has no stored password or token; add it again")
    options = config.options
    if not options.get("host"):
        raise SourceError("this IMAP integration has no server host; add it again")
    endpoint = ImapEndpoint(
        host=str(options["host"]),
        port=int(options["port"]) if options.get("port") else None,
        security=options.get("security") or "tls",
        ca_file=options.get("ca_file"),
    )
    return ImapSource(
        endpoint,
        config.account,
        config.credentials,
        folders=tuple(options.get("folders") or ("INBOX",)),
        sync_state=config.sync_state,
    )


def _dav_endpoint(config: SourceConfig, what: str) -> Any:
    from ingest_pipeline.sources.dav.dav_endpoint import DavEndpoint

    if not config.options.get("url"):
        raise SourceError(f"this {what} integration has no server URL; add it again")
    return DavEndpoint(url=str(config.options["url"]), ca_file=config.options.get("ca_file"))


def _caldav(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.dav.caldav_source import CalDavSource

    return CalDavSource(
        _dav_endpoint(config, "CalDAV"),
        config.account,
        config.credentials,
        calendars=tuple(config.options.get("calendars") or ()),
    )


def _carddav(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.dav.carddav_source import CardDavSource

    return CardDavSource(
        _dav_endpoint(config, "CardDAV"),
        config.account,
        config.credentials,
        address_books=tuple(config.options.get("address_books") or ()),
        sync_state=config.sync_state,
    )


def _prompts(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.prompts.prompt_set_source import PromptSetSource

    if config.database_url is None:
        raise SourceError("a prompt set is read from the app database: give its URL")
    return PromptSetSource(
        config.database_url, integration_id=config.integration_id, name=config.account
    )


def _microsoft_contacts(config: SourceConfig) -> Source:
    from ingest_pipeline.sources.microsoft.ms_contacts_source import MicrosoftContactsSource

    return MicrosoftContactsSource(_graph_account(config), sync_state=config.sync_state)


PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec("mailbox", ("mail",), "path", _mailbox, "mbox file, Maildir or .eml folder"),
        ProviderSpec(
            "gmail", ("mail",), "credentials", _gmail, "Gmail through the Gmail API", "Google"
        ),
        ProviderSpec(
            "google-contacts",
            ("contacts",),
            "credentials",
            _google_contacts,
            "Google Contacts through the People API",
            "Google",
        ),
        ProviderSpec(
            "google-calendar",
            ("calendar_events",),
            "credentials",
            _google_calendar,
            "Google Calendar through the Calendar API",
            "Google",
            max_items_per_run=2000,
        ),
        ProviderSpec(
            "outlook",
            ("mail",),
            "credentials",
            _outlook,
            "Outlook mail through Microsoft Graph",
            "Microsoft",
        ),
        ProviderSpec(
            "microsoft-contacts",
            ("contacts",),
            "credentials",
            _microsoft_contacts,
            "Outlook contacts through Microsoft Graph",
            "Microsoft",
        ),
        ProviderSpec(
            "imap",
            ("mail",),
            "credentials",
            _imap,
            "any IMAP server (TLS or STARTTLS; password or XOAUTH2 token)",
            "IMAP",
        ),
        ProviderSpec(
            "caldav",
            ("calendar_events",),
            "credentials",
            _caldav,
            "any CalDAV server's calendars (iCloud, Fastmail, Nextcloud...; password)",
            "CalDAV",
            max_items_per_run=2000,
        ),
        ProviderSpec(
            "carddav",
            ("contacts",),
            "credentials",
            _carddav,
            "any CardDAV server's address books (sync-collection where offered; password)",
            "CardDAV",
        ),
        ProviderSpec("vcard", ("contacts",), "path", _vcard, ".vcf file or folder of them"),
        ProviderSpec("ics", ("calendar_events",), "path", _ics, ".ics file or folder of them"),
        ProviderSpec(
            "prompts",
            ("prompt_runs",),
            "app_database",
            _prompts,
            "a prompt set in the app database (ingest-pipeline prompts add)",
            "prompt set",
        ),
    )
}


def get_provider(name: str) -> ProviderSpec:
    """The provider called ``name``; `SourceError` listing the known ones otherwise."""
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(PROVIDERS)
        raise SourceError(f"unknown provider {name!r}; known providers: {known}") from None


def build_source(
    *,
    provider: str,
    account: str,
    options: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    sync_state: dict[str, Any] | None = None,
    database_url: str | None = None,
    integration_id: int | None = None,
) -> Source:
    """The source that reads ``account`` for ``provider``; `SourceError` for unknown ones."""
    return get_provider(provider).build(
        SourceConfig(
            account=account,
            options=options or {},
            credentials=credentials,
            sync_state=sync_state,
            database_url=database_url,
            integration_id=integration_id,
        )
    )


def providers_of(stream: str) -> list[str]:
    """The providers that yield ``stream``."""
    return [spec.name for spec in PROVIDERS.values() if stream in spec.streams]
