"""The HTTP plumbing the fake providers share: a threading HTTP/1.1 server on
127.0.0.1:<random port> with keep-alive, plain or (given an ``ssl_context``) over TLS.

It reads each request, hands ``(method, target, lower-case headers, body)`` to a responder
and writes its reply (status, headers, body), or closes the connection without answering
when the responder returns None (an injected drop).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import traceback
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self, cast


class HttpReply(Protocol):
    """What a responder answers: both fakes' `Reply` dataclasses fit."""

    status: int
    body: bytes
    headers: Sequence[tuple[str, str]]


Responder = Callable[[str, str, dict[str, str], bytes], HttpReply | None]

_HANDSHAKE_SECONDS = 10.0


class LocalHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections so `stop` can cut keep-alives.

    ``server_version`` is what the real provider's front end calls itself; ``bug_reply``
    answers when the responder itself raises (the traceback goes to ``on_error``). With an
    ``ssl_context`` every connection is TLS; the handshake runs in the connection's own thread,
    and a client that rejects the certificate just loses its connection.
    """

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        respond: Responder,
        on_error: Callable[[str], None],
        *,
        name: str,
        server_version: str,
        bug_reply: Callable[[], HttpReply],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.respond = respond
        self.on_error = on_error
        self.name = name
        self.server_version = server_version
        self.bug_reply = bug_reply
        self.ssl_context = ssl_context
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
            name=f"{self.name}-{self.port}",
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

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.ssl_context is not None:
            # No handshake here: this is the accepting thread, one slow client would stall all.
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            try:
                request.settimeout(_HANDSHAKE_SECONDS)
                request.do_handshake()
            except (OSError, ValueError):  # untrusted CA, plain HTTP, or a client that left
                return
        super().finish_request(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive (httplib2 and httpx reuse connections), every answer sized."""

    protocol_version = "HTTP/1.1"
    sys_version = ""
    timeout = 120

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle plus the
        # client's delayed ACK would add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self) -> str:
        return cast(LocalHTTPServer, self.server).server_version

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
            reply = server.bug_reply()
        if reply is None:  # injected drop: close without a status line
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:  # the client gave up (a timeout): nobody to answer
            self.close_connection = True

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
        """Quiet: tests read the fakes' stats instead of access logs."""


class ServedFake:
    """Start/stop and ``with`` support for a fake provider served by ``self._http``."""

    _http: LocalHTTPServer

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Serve in a daemon thread (the socket is bound already, so URLs are known early)."""
        self._http.start()

    def stop(self) -> None:
        """Stop serving, cut kept-alive connections and close the socket."""
        self._http.stop()
