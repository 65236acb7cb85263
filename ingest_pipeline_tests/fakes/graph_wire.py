"""Wire shapes shared by the fake Graph modules: replies, Graph's and Entra ID's error JSON,
Graph-style opaque ids and timestamps.

Graph errors are ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}``; Entra ID (AAD) token errors are ``{"error", "error_description":
"AADSTS<n>: ...", "error_codes": [n], "timestamp", "trace_id", "correlation_id",
"error_uri"}``, which msal hands back as the result dict of ``acquire_token_*``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)
AAD_JSON = "application/json; charset=utf-8"
MESSAGE_ID_PREFIX = "AAMkAD"


@dataclass
class Reply:
    """One HTTP answer (a whole response, or one part of a $batch response)."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def json_reply(
    status: int,
    payload: Any,
    headers: list[tuple[str, str]] | None = None,
    *,
    content_type: str = GRAPH_JSON,
) -> Reply:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Reply(status, body, [("Content-Type", content_type), *(headers or [])])


class GraphError(Exception):
    """Raised by route code; becomes Graph's error JSON. ``throttle_reason`` names the limit
    behind a 429/503 for `GraphStats.throttled`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        throttle_reason: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.throttle_reason = throttle_reason
        self.headers = headers or []

    def reply(self, request_id: str, client_request_id: str) -> Reply:
        inner = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": client_request_id,
        }
        headers = list(self.headers)
        if self.retry_after is not None:
            headers.append(("Retry-After", str(self.retry_after)))
        if self.status == 401:
            headers.append(
                (
                    "WWW-Authenticate",
                    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                    'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
                )
            )
        payload = {"error": {"code": self.code, "message": self.message, "innerError": inner}}
        return json_reply(self.status, payload, headers)


def aad_error(status: int, error: str, code: int, description: str) -> Reply:
    """An Entra ID token-endpoint error, worded like ``AADSTS70008: ... Trace ID: ...``."""
    now = dt.datetime.now(dt.UTC)
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
    payload = {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {description} Trace ID: {trace_id} "
            f"Correlation ID: {correlation_id} Timestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return json_reply(status, payload, content_type=AAD_JSON)


def opaque_id(rng: random.Random, *, size: int = 110, prefix: str = MESSAGE_ID_PREFIX) -> str:
    """An Exchange-style id: url-safe base64 with ``-``, ``_`` and ``=`` padding in it, so
    clients that forget to keep ids opaque (or to quote them) trip here and not in production."""
    size -= (size - 2) % 3  # size % 3 == 2: exactly one "=" of padding
    while True:
        text = base64.urlsafe_b64encode(rng.randbytes(size)).decode("ascii")
        if "-" in text and "_" in text:
            return prefix + text


def graph_time(when: dt.datetime) -> str:
    """Graph's DateTimeOffset rendering for mail and contacts: ``2026-11-02T08:15:00Z``."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def change_key(rng: random.Random) -> str:
    return "EQAAABYAAAA" + base64.b64encode(rng.randbytes(18)).decode("ascii")
