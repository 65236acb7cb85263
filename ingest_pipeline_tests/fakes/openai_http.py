"""The HTTP plumbing of the fake OpenAI: a threading HTTP/1.1 server on 127.0.0.1:<random port>.

It reads each request, hands ``(method, target, lower-case headers, body)`` to a handler and
writes the `Reply`. It also parses ``multipart/form-data`` bodies (what ``files.create``
sends) and builds OpenAI's JSON error envelope.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

JSON_TYPE = "application/json"


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_reply(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    """A JSON answer, as OpenAI sends every non-file response."""
    body = json.dumps(payload).encode()
    return Reply(status, body, [("Content-Type", JSON_TYPE), *(headers or [])])


def error_body(
    message: str, type_: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_reply(
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    *,
    param: str | None = None,
    code: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Reply:
    """An OpenAI error answer (``openai`` maps the status to its exception class)."""
    return json_reply(status, error_body(message, type_, param=param, code=code), headers)


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """``multipart/form-data`` -> ``{field name: (filename or None, raw bytes)}``."""
    boundary = ""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise ValueError("multipart body without a boundary")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        name = filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                for param in line.split(";")[1:]:
                    key, _, value = param.strip().partition("=")
                    if key == "name":
                        name = value.strip('"')
                    elif key == "filename":
                        filename = value.strip('"')
        if name is not None:
            fields[name] = (filename, data)
    return fields


Handler = Callable[[str, str, dict[str, str], bytes], Reply]


class LocalHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections so `stop` can cut keep-alives."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, handle: Handler, on_error: Callable[[str], None]) -> None:
        self.handle = handle
        self.on_error = on_error
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(("127.0.0.1", 0), _RequestHandler)

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
            name=f"fake-openai-{self.port}",
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


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive (httpx pools connections), every answer sized."""

    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"  # what api.openai.com's front end calls itself
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
            reply = server.handle(self.command, self.path, headers, body)
        except Exception:
            server.on_error(traceback.format_exc())
            reply = error_reply(
                500, "fake OpenAI bug: see FakeOpenAI.server_errors", "server_error"
            )
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
        """Quiet: tests read `FakeOpenAI.stats` instead of access logs."""
