"""The HTTP plumbing of the fake Gmail: a threading HTTP/1.1 server on 127.0.0.1:<random port>.

It reads each request, hands ``(method, target, lower-case headers, body)`` to a responder
and writes the `Reply` (or closes the connection without answering when the responder
returns None: an injected drop).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from ingest_pipeline_tests.fakes.gmail_errors import Reply, error_reply

Responder = Callable[[str, str, dict[str, str], bytes], Reply | None]


class LocalHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections so `stop` can cut keep-alives."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, respond: Responder, on_error: Callable[[str], None]) -> None:
        self.respond = respond
        self.on_error = on_error
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        """Serve from a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-gmail-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, cut kept-alive connections and close the listening socket."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.server_close()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive (httplib2 reuses connections), every answer sized."""

    protocol_version = "HTTP/1.1"
    server_version = "ESF"  # what Google's front end calls itself
    sys_version = ""
    timeout = 120

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle plus the
        # client's delayed ACK would add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        server = cast(LocalHTTPServer, self.server)
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            reply = server.respond(self.command, self.path, headers, body)
        except Exception:
            server.on_error(traceback.format_exc())
            reply = error_reply(500, message="fake Gmail bug: see FakeGmail.server_errors")
        if reply is None:  # injected drop: close without a status line
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeGmail.stats` instead of access logs."""
