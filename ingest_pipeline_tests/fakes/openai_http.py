"""The HTTP plumbing of the fake OpenAI: a threading HTTP/1.1 server on 127.0.0.1:<random port>.

It reads each request, hands ``(method, target, lower-case headers, body)`` to a handler and
writes the `Reply`. It also parses ``multipart/form-data`` bodies (what ``files.create``
sends), reads the ``Authorization: Bearer`` key and builds OpenAI's JSON error envelope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

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


def bearer_key(headers: dict[str, str]) -> str | None:
    """The API key of ``Authorization: Bearer <key>`` (None: missing or another scheme)."""
    scheme, _, key = headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def unauthorized_reply(key: str | None) -> Reply:
    """OpenAI's 401 for a missing API key, or for one it does not know."""
    if key is None:
        message = (
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    else:
        shown = f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"
        message = (
            f"Incorrect API key provided: {shown}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
    return error_reply(401, message, code="invalid_api_key")
