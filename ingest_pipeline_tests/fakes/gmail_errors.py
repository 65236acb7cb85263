"""Gmail API v1 error bodies and replies, shaped like Google's JSON error envelope.

Google answers every failed API call with ``{"error": {"code", "message", "errors": [{"message",
"domain", "reason"}], "status"}}``; ``googleapiclient.errors.HttpError`` takes ``reason`` from
``error.message`` and ``error_details`` from ``error.errors``, and its retry logic reads
``errors[0].reason`` (``rateLimitExceeded``/``userRateLimitExceeded`` make a 403 retryable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

JSON_TYPE = "application/json; charset=UTF-8"

# status -> (google.rpc status, errors[0].reason, message), as Gmail words them.
_DEFAULTS: dict[int, tuple[str, str, str]] = {
    400: ("INVALID_ARGUMENT", "badRequest", "Bad Request"),
    401: (
        "UNAUTHENTICATED",
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    ),
    403: ("PERMISSION_DENIED", "forbidden", "The caller does not have permission"),
    404: ("NOT_FOUND", "notFound", "Requested entity was not found."),
    405: ("INVALID_ARGUMENT", "badRequest", "Method not allowed."),
    409: ("ABORTED", "conflict", "Conflict"),
    412: ("FAILED_PRECONDITION", "failedPrecondition", "Precondition check failed."),
    429: ("RESOURCE_EXHAUSTED", "rateLimitExceeded", "Too many concurrent requests for user."),
    500: ("INTERNAL", "backendError", "Backend Error"),
    502: ("UNAVAILABLE", "backendError", "Bad Gateway"),
    503: ("UNAVAILABLE", "backendError", "The service is currently unavailable."),
    504: ("DEADLINE_EXCEEDED", "backendError", "Deadline exceeded."),
}

_RATE_MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
}


@dataclass
class Reply:
    """One HTTP answer (for a plain request, or one part of a batch response)."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def phrase(self) -> str:
        return status_phrase(self.status)


def status_phrase(status: int) -> str:
    """The HTTP reason phrase (``OK``, ``Too Many Requests``...)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def json_reply(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    """A JSON reply with Google's content type."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Reply(status, body, [("Content-Type", JSON_TYPE), *(headers or [])])


def error_body(
    status: int, *, reason: str | None = None, message: str | None = None, domain: str = "global"
) -> dict[str, Any]:
    """Google's error envelope for ``status`` (defaults per status, overridable)."""
    rpc_status, default_reason, default_message = _DEFAULTS.get(
        status, ("UNKNOWN", "unknown", status_phrase(status))
    )
    reason = reason or default_reason
    message = message or _RATE_MESSAGES.get(reason) or default_message
    item: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
    if status == 401:
        item.update(message="Invalid Credentials", location="Authorization")
        item["locationType"] = "header"
    return {"error": {"code": status, "message": message, "errors": [item], "status": rpc_status}}


def error_reply(
    status: int,
    *,
    reason: str | None = None,
    message: str | None = None,
    domain: str = "global",
    retry_after: int | None = None,
) -> Reply:
    """An error reply; 429s carry ``Retry-After``, 401s ``WWW-Authenticate`` like Google's."""
    headers: list[tuple[str, str]] = []
    if status == 429:
        headers.append(("Retry-After", str(retry_after if retry_after is not None else 1)))
    if status == 401:
        headers.append(
            (
                "WWW-Authenticate",
                'Bearer realm="https://accounts.google.com/", error="invalid_token"',
            )
        )
    body = error_body(status, reason=reason, message=message, domain=domain)
    return json_reply(status, body, headers)


def fault_reply(kind: str) -> Reply:
    """The reply for an injected fault kind: ``"429"``, ``"403-rateLimitExceeded"``, ``"503"``...

    ``"<status>-<reason>"`` picks the reason; rate-limit reasons use Gmail's ``usageLimits``
    domain. A 429 always carries ``Retry-After: 1``.
    """
    code_text, _, reason = kind.partition("-")
    try:
        status = int(code_text)
    except ValueError:
        raise ValueError(f"fault kind {kind!r} is not '<status>' or '<status>-<reason>'") from None
    if status == 429 and not reason:
        reason = "rateLimitExceeded"
    domain = "usageLimits" if "RateLimit" in reason or "rateLimit" in reason else "global"
    return error_reply(status, reason=reason or None, domain=domain, retry_after=1)


class ApiError(Exception):
    """Raised by endpoint code; becomes Gmail's error JSON for ``status``."""

    def __init__(self, status: int, message: str | None = None, reason: str | None = None):
        super().__init__(message or str(status))
        self.status = status
        self.message = message
        self.reason = reason

    def reply(self) -> Reply:
        return error_reply(self.status, reason=self.reason, message=self.message)
