"""A real Radicale CalDAV/CardDAV server for tests, on 127.0.0.1 with a folder of its own.

Radicale comes from PyPI (a test dependency). Each server gets a fresh storage folder, an
htpasswd file with the test users (plain passwords) and, with ``tls``, a certificate for
127.0.0.1 from a throw-away CA (tests trust it through ``ca_file``). Calendars and address
books are made and filled the way a client does it: MKCOL / MKCALENDAR and PUT, so what
the server refuses to store (it validates every object) never reaches it, as on a real
server. ``stop()`` and ``start()`` restart the same server with the same data.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from ingest_pipeline_tests.fakes.graph_tls import write_test_pki
from ingest_pipeline_tests.server_process import HOST, ServerProcess, free_port

_MKCOL = """<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"
         xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/>{kind}</D:resourcetype>
    <D:displayname>{name}</D:displayname>
  </D:prop></D:set>
</D:mkcol>"""
_KINDS = {"calendar": "<C:calendar/>", "addressbook": "<CR:addressbook/>"}


class RadicaleServer:
    """One Radicale instance; ``url`` is its root (``http://127.0.0.1:PORT/``)."""

    def __init__(self, users: dict[str, str], *, tls: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="radicale-test-"))
        self.users = dict(users)
        self.port = free_port()
        (self.root / "users").write_text(
            "".join(f"{name}:{password}\n" for name, password in users.items())
        )
        self.ca_file: str | None = None
        args = [
            "--server-hosts",
            f"{HOST}:{self.port}",
            "--storage-filesystem-folder",
            str(self.root / "collections"),
            "--auth-type",
            "htpasswd",
            "--auth-htpasswd-filename",
            str(self.root / "users"),
            "--auth-htpasswd-encryption",
            "plain",
            "--logging-level",
            "info",
        ]
        if tls:
            pki = write_test_pki(self.root)
            self.ca_file = str(pki.ca_path)
            args += [
                "--server-ssl",
                "True",
                "--server-certificate",
                str(pki.cert_path),
                "--server-key",
                str(pki.key_path),
            ]
        self.url = f"{'https' if tls else 'http'}://{HOST}:{self.port}/"
        self._process = ServerProcess(
            "radicale",
            [sys.executable, "-m", "radicale", *args],
            log=self.root / "radicale.log",
            ports=[self.port],
            log_tail=self.log_tail,
        )

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._process.stop()

    def log_tail(self, chars: int = 3000) -> str:
        path = self.root / "radicale.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- what a client does -------------------------------------------------------------

    def client(self, user: str) -> httpx.Client:
        """An HTTP client signed in as ``user``, rooted at the server."""
        return httpx.Client(
            base_url=self.url,
            auth=(user, self.users[user]),
            verify=self.ca_file or True,
            timeout=30,
        )

    def make_collection(self, user: str, name: str, kind: str, display: str = "") -> str:
        """Create ``/<user>/<name>/`` as a calendar or an address book; its path."""
        path = f"/{user}/{name}/"
        body = _MKCOL.format(kind=_KINDS[kind], name=display or name)
        with self.client(user) as http:
            answer = http.request("MKCOL", path, content=body.encode("utf-8"))
        if answer.status_code != 201:
            raise RuntimeError(f"MKCOL {path}: {answer.status_code} {answer.text[:300]}")
        return path

    def put(self, user: str, path: str, data: bytes, content_type: str) -> httpx.Response:
        """PUT one object (a calendar object or a card); the server's answer, which is
        4xx when it refuses what it cannot read."""
        with self.client(user) as http:
            return http.put(path, content=data, headers={"Content-Type": content_type})

    def delete(self, user: str, path: str) -> None:
        with self.client(user) as http:
            answer = http.delete(path)
        if answer.status_code not in (200, 204):
            raise RuntimeError(f"DELETE {path}: {answer.status_code}")


@contextlib.contextmanager
def radicale(users: dict[str, str], *, tls: bool = False) -> Iterator[RadicaleServer]:
    """A started Radicale with ``users`` (name → password), removed afterwards."""
    server = RadicaleServer(users, tls=tls)
    try:
        server.start()
        yield server
    finally:
        server.close()
