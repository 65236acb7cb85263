"""IMAP test helpers: a Dovecot account loaded from an mbox (each message APPENDed with its
``From `` line time as INTERNALDATE, the receipt time the mailbox provider uses), and IMAP
sources built through the provider registry as the pipeline builds them."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from imapclient import IMAPClient

from ingest_pipeline.sources.imap.imap_source import ImapSource
from ingest_pipeline.sources.mailbox.mbox_reader import from_line_time, read_span, scan_mbox
from ingest_pipeline.sources.registry import build_source
from ingest_pipeline_tests.dovecot_server import HOST, DovecotServer, dovecot

USER, PASSWORD = "ann@example.test", "correct horse battery"


def client(server: DovecotServer, user: str = USER, password: str = PASSWORD) -> IMAPClient:
    """A logged-in client of our own, to put mail on the server or change it."""
    context = ssl.create_default_context(cafile=str(server.ca_file))
    imap = IMAPClient(HOST, port=server.tls_port, ssl=True, ssl_context=context, timeout=30)
    imap.login(user, password)
    return imap


def load_mbox(server: DovecotServer, mbox: Path, folder: str = "INBOX") -> int:
    """APPEND every message of ``mbox`` to ``folder`` (created if missing), each with its
    ``From `` line time as INTERNALDATE; returns how many."""
    imap = client(server)
    try:
        if folder != "INBOX" and not imap.folder_exists(folder):
            imap.create_folder(folder)
        count = 0
        for span in scan_mbox(mbox):
            received = from_line_time(span.from_line)
            assert received is not None, span.from_line
            imap.append(folder, read_span(mbox, span.start, span.end), msg_time=received)
            count += 1
        return count
    finally:
        imap.logout()


def append(
    server: DovecotServer, message: bytes, received: dt.datetime, folder: str = "INBOX"
) -> None:
    imap = client(server)
    try:
        imap.append(folder, message, msg_time=received)
    finally:
        imap.logout()


def options(server: DovecotServer, **more: Any) -> dict[str, Any]:
    """The stored options of an integration of ``server`` (implicit TLS, its CA)."""
    return {
        "host": HOST,
        "port": server.tls_port,
        "security": "tls",
        "ca_file": str(server.ca_file),
        **more,
    }


def imap_source(
    server: DovecotServer,
    *,
    password: str = PASSWORD,
    token: str | None = None,
    sync_state: dict[str, Any] | None = None,
    **more: Any,
) -> ImapSource:
    """``USER``'s source on ``server``: with the password, or an XOAUTH2 ``token``."""
    source = build_source(
        provider="imap",
        account=USER,
        options=options(server, **more),
        credentials={"access_token": token} if token else {"password": password},
        sync_state=sync_state,
    )
    assert isinstance(source, ImapSource)
    return source


@pytest.fixture
def imap_server() -> Iterator[DovecotServer]:
    """A Dovecot with one account (``USER``), empty."""
    with dovecot({USER: PASSWORD}) as server:
        yield server


@pytest.fixture
def imap_sample() -> Iterator[DovecotServer]:
    """A Dovecot whose account's INBOX holds the sample mailbox (62 messages)."""
    from ingest_pipeline_tests.conftest import SAMPLE_MBOX

    with dovecot({USER: PASSWORD}) as server:
        load_mbox(server, SAMPLE_MBOX)
        yield server


def expunge(server: DovecotServer, uid: int, folder: str = "INBOX") -> None:
    """Delete one message for good, as a mail client would."""
    imap = client(server)
    try:
        imap.select_folder(folder)
        imap.delete_messages([uid])
        imap.expunge()
    finally:
        imap.logout()


def register_imap(db_url: str, server: DovecotServer, key: str, **more: Any) -> str:
    """An active IMAP integration of ``server``'s account, its password encrypted."""
    from ingest_pipeline.store import integrations
    from ingest_pipeline.store.credentials_vault import encrypt
    from ingest_pipeline.store.database import session_scope

    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session,
            provider="imap",
            account=USER,
            task="job_posting",
            options=options(server, **more),
            credentials=encrypt({"password": PASSWORD}, key=key),
        )
        return row.partition_key or ""


GOOD_TOKEN = "ya29.a-token-the-provider-issued"


@contextlib.contextmanager
def token_introspection(good: str = GOOD_TOKEN) -> Iterator[str]:
    """An OAuth 2.0 token introspection endpoint (RFC 7662) on 127.0.0.1 that calls
    ``good`` active for ``USER`` and any other token inactive; yields its URL."""

    class Introspect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            token = parse_qs(self.rfile.read(length).decode()).get("token", [""])[0]
            body = json.dumps({"active": token == good, "username": USER}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer((HOST, 0), Introspect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/introspect"
    finally:
        server.shutdown()
        server.server_close()
