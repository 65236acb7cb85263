"""Google's batch wire format (``POST /batch/gmail/v1``, multipart/mixed of application/http).

A request holds parts like this (``googleapiclient.http.BatchHttpRequest`` writes ``\\n`` line
ends; Google accepts ``\\r\\n`` too)::

    --===============123==
    Content-Type: application/http
    Content-Transfer-Encoding: binary
    Content-ID: <8d3c...-uuid + 1>

    GET /gmail/v1/users/me/messages/18c2...?format=raw&alt=json HTTP/1.1
    Content-Type: application/json
    authorization: Bearer ya29...

and the response answers each part with ``Content-ID: <response-8d3c...-uuid + 1>`` holding an
``HTTP/1.1 200 OK`` status line, headers, a blank line (``\\r\\n\\r\\n``: the client splits the
sub-response on exactly that) and the JSON body. The outer request's headers other than
``Content-*`` apply to every part unless the part sets them (Google's documented rule).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from urllib.parse import urlsplit, urlunsplit

from ingest_pipeline_tests.fakes.gmail_errors import Reply

MAX_BATCH_PARTS = 100
_HEAD_END = re.compile(r"\r?\n\r?\n")
_NOT_INHERITED = ("content-", "host")


class BatchFormatError(ValueError):
    """The batch body is not a multipart/mixed of application/http parts."""


@dataclass
class SubRequest:
    """One embedded HTTP request of a batch."""

    content_id: str | None
    method: str
    target: str  # path with query, e.g. "/gmail/v1/users/me/profile?alt=json"
    headers: dict[str, str]  # lower-case names
    body: bytes


def parse_batch(content_type: str, body: bytes, outer: dict[str, str]) -> list[SubRequest]:
    """Split a batch body into sub-requests; ``outer`` holds the envelope's lower-case headers."""
    if not content_type.lower().startswith("multipart/"):
        raise BatchFormatError("batch requests must be multipart/mixed")
    message = BytesParser(policy=compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise BatchFormatError("batch body has no parts (missing or wrong boundary?)")
    inherited = {k: v for k, v in outer.items() if not k.startswith(_NOT_INHERITED)}
    requests = []
    for part in message.get_payload():
        payload = part.get_payload() if isinstance(part, Message) else None
        if not isinstance(part, Message) or not isinstance(payload, str):
            raise BatchFormatError("a batch part must hold one application/http request")
        requests.append(_parse_part(part.get("Content-ID"), payload, inherited))
    return requests


def _parse_part(content_id: str | None, text: str, inherited: dict[str, str]) -> SubRequest:
    raw = text.encode("utf-8", "surrogateescape")
    decoded = raw.decode("latin-1")
    match = _HEAD_END.search(decoded)
    head, body = (decoded[: match.start()], decoded[match.end() :]) if match else (decoded, "")
    lines = head.lstrip("\r\n").splitlines()
    if not lines:
        raise BatchFormatError("empty batch part")
    request_line = lines[0].split()
    if len(request_line) < 2:
        raise BatchFormatError(f"bad request line in batch part: {lines[0]!r}")
    method, target = request_line[0].upper(), request_line[1]
    if "://" in target:  # absolute URI: keep path and query only
        split = urlsplit(target)
        target = urlunsplit(("", "", split.path, split.query, ""))
    headers = dict(inherited)
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return SubRequest(content_id, method, target, headers, body.encode("latin-1"))


def render_batch(answers: list[tuple[str | None, Reply]]) -> tuple[str, bytes]:
    """The multipart/mixed response: ``(content type, body)``."""
    boundary = "batch_" + secrets.token_urlsafe(12).replace("-", "A").replace("_", "B")
    chunks: list[bytes] = []
    for index, (content_id, reply) in enumerate(answers, start=1):
        inner = (content_id or f"<{index}>").strip().removeprefix("<").removesuffix(">")
        lines = [
            f"--{boundary}",
            "Content-Type: application/http",
            f"Content-ID: <response-{inner}>",
            "",
            f"HTTP/1.1 {reply.status} {reply.phrase}",
            *(f"{name}: {value}" for name, value in reply.headers),
            f"Content-Length: {len(reply.body)}",
            "",
            "",
        ]
        chunks.append("\r\n".join(lines).encode("latin-1") + reply.body + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)
