"""Check a new integration's source before anything is saved, and prepare what is stored.

``integrations add`` calls these: a local path (mailbox, vCard, iCalendar) must be
readable and hold what its provider reads; a Gmail account must answer
``users.getProfile`` with the given credentials, which are then encrypted for storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest_pipeline.settings import get_settings
from ingest_pipeline.sources.base import SourceError, closing
from ingest_pipeline.sources.registry import build_source
from ingest_pipeline.store.credentials_vault import encrypt


@dataclass(frozen=True)
class CheckedAccount:
    """What to store for a new integration: account, provider options, encrypted secrets."""

    account: str
    options: dict[str, Any] = field(default_factory=dict)
    credentials: bytes | None = field(default=None, repr=False)


def check_local_path(provider: str, path: str) -> CheckedAccount:
    """A local provider (mailbox, vcard, ics): the path must hold something it can read."""
    account = str(Path(path).expanduser().resolve())
    build_source(provider=provider, account=account).check()
    return CheckedAccount(account=account)


def check_gmail(
    credentials_file: str,
    *,
    query: str | None = None,
    label: str | None = None,
    api_endpoint: str | None = None,
) -> CheckedAccount:
    """Connect with the credentials (``users.getProfile``), then encrypt them for storage."""
    from ingest_pipeline.sources.gmail.gmail_client import load_credentials_file
    from ingest_pipeline.sources.gmail.gmail_source import GmailSource

    info = load_credentials_file(credentials_file)
    key = get_settings().credentials_key
    ciphertext = encrypt(info, key=key)  # fails early, before any network call, without a key
    options = {
        name: value
        for name, value in (("query", query), ("label", label), ("api_endpoint", api_endpoint))
        if value
    }
    source = build_source(provider="gmail", account="", options=options, credentials=info)
    assert isinstance(source, GmailSource)
    address = source.profile().get("emailAddress")
    if not address:
        raise SourceError("Gmail's getProfile answered without an email address")
    return CheckedAccount(account=str(address), options=options, credentials=ciphertext)


def check_microsoft(
    provider: str,
    credentials_file: str | None,
    *,
    mailbox: str | None = None,
    graph_url: str | None = None,
    authority_host: str | None = None,
    folder: str | None = None,
) -> CheckedAccount:
    """Sign in with the credentials (a file, else ``MS_*`` variables), read the mailbox's
    user from Graph (the cheap access check), then encrypt the credentials for storage.

    The account is the mailbox's user principal name; a delegated grant reads its own
    mailbox, an app-only one the ``mailbox`` given (else ``MS_MAILBOX_USER_ID``)."""
    from ingest_pipeline.sources.microsoft.ms_credentials import (
        credentials_from_environment,
        https_only,
        load_credentials_file,
    )

    if credentials_file:
        info, env_mailbox = load_credentials_file(credentials_file), None
    else:
        info, env_mailbox = credentials_from_environment()
    mailbox = mailbox or env_mailbox or ""
    if info["type"] == "client_credentials" and not mailbox:
        raise SourceError(
            "app-only Microsoft credentials read a named mailbox: give --mailbox USER "
            "(or MS_MAILBOX_USER_ID)"
        )
    options: dict[str, Any] = {}
    if graph_url:
        options["graph_url"] = https_only(graph_url, what="--graph-url")
    if authority_host:
        options["authority_host"] = https_only(authority_host, what="--authority-host")
    if folder:
        options["folder"] = folder
    ciphertext = encrypt(info, key=get_settings().credentials_key)
    source = build_source(
        provider=provider, account=mailbox or "me", options=options, credentials=info
    )
    profile = source.profile()  # type: ignore[attr-defined]
    address = profile.get("userPrincipalName") or profile.get("mail") or profile.get("id")
    if not address:
        raise SourceError("Microsoft Graph answered without the mailbox's name")
    return CheckedAccount(account=str(address), options=options, credentials=ciphertext)


def check_imap(
    *,
    host: str | None,
    user: str | None,
    password_env: str | None,
    oauth2_token_env: str | None,
    folders: list[str] | None = None,
    port: int | None = None,
    security: str = "tls",
    ca_file: str | None = None,
) -> CheckedAccount:
    """An IMAP account: log in with the password (or XOAUTH2 token) read from the named
    environment variable and open every folder, then encrypt the secret for storage. The
    secret itself never appears on a command line."""
    import os

    if not host or not user:
        raise SourceError("--provider imap needs --host and --user")
    if bool(password_env) == bool(oauth2_token_env):
        raise SourceError(
            "--provider imap needs one of --password-env VAR or --oauth2-token-env VAR"
        )
    variable = password_env or oauth2_token_env or ""
    secret = os.environ.get(variable)
    if not secret:
        raise SourceError(f"the environment variable {variable} is not set (it holds the secret)")
    info = {"password": secret} if password_env else {"access_token": secret}
    ciphertext = encrypt(info, key=get_settings().credentials_key)
    options: dict[str, Any] = {"host": host, "security": security, "folders": folders or ["INBOX"]}
    if port:
        options["port"] = port
    if ca_file:
        options["ca_file"] = str(Path(ca_file).expanduser().resolve())
    try:
        with closing(
            build_source(provider="imap", account=user, options=options, credentials=info)
        ) as source:
            source.check()
    except OSError as exc:
        raise SourceError(f"cannot reach the IMAP server {host}: {exc}") from exc
    return CheckedAccount(account=user, options=options, credentials=ciphertext)


def check_dav(
    provider: str,
    *,
    url: str | None,
    user: str | None,
    password_env: str | None,
    ca_file: str | None = None,
    collections: list[str] | None = None,
) -> CheckedAccount:
    """A CalDAV or CardDAV account: sign in with the password read from the named
    environment variable and discover its calendars or address books (those named in
    ``collections``, else all), then encrypt the password for storage."""
    import os

    import httpx
    import requests

    if not url or not user or not password_env:
        raise SourceError(f"--provider {provider} needs --url, --user and --password-env VAR")
    secret = os.environ.get(password_env)
    if not secret:
        raise SourceError(
            f"the environment variable {password_env} is not set (it holds the password)"
        )
    info = {"password": secret}
    option = "calendars" if provider == "caldav" else "address_books"
    options: dict[str, Any] = {"url": url}
    if collections:
        options[option] = list(collections)
    if ca_file:
        options["ca_file"] = str(Path(ca_file).expanduser().resolve())
    try:
        with closing(
            build_source(provider=provider, account=user, options=options, credentials=info)
        ) as source:
            source.check()
    except (OSError, httpx.TransportError, requests.RequestException) as exc:
        raise SourceError(f"cannot reach the {provider} server {url}: {exc}") from exc
    return CheckedAccount(
        account=user, options=options, credentials=encrypt(info, key=get_settings().credentials_key)
    )


def check_google(
    provider: str,
    credentials_file: str,
    *,
    api_endpoint: str | None = None,
    calendars: list[str] | None = None,
) -> CheckedAccount:
    """Google Contacts or Calendar: read the account's own profile (``people/me``) or its
    calendar list with the credentials, then encrypt them for storage. The account is the
    Google address."""
    from ingest_pipeline.sources.google.google_auth import load_credentials_file

    info = load_credentials_file(credentials_file)
    ciphertext = encrypt(info, key=get_settings().credentials_key)
    options: dict[str, Any] = {}
    if api_endpoint:
        options["api_endpoint"] = api_endpoint
    if calendars:
        options["calendars"] = list(calendars)
    source = build_source(provider=provider, account="", options=options, credentials=info)
    profile = source.profile()  # type: ignore[attr-defined]
    emails = profile.get("emailAddresses") or [{}]
    address = profile.get("id") if provider == "google-calendar" else emails[0].get("value")
    if not address:
        raise SourceError("Google answered without the account's address")
    return CheckedAccount(account=str(address), options=options, credentials=ciphertext)
