"""Error replies of the People API and the Calendar API, which differ from Gmail's and each other.

The People API answers like newer Google APIs, a ``google.rpc.Status`` as JSON with typed
``details`` and no ``errors`` list::

    {"error": {"code": 400, "message": "...", "status": "FAILED_PRECONDITION",
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "EXPIRED_SYNC_TOKEN", "domain": "people.googleapis.com",
                            "metadata": {...}}]}}

The Calendar API keeps the older envelope, with ``errors`` and no ``status``::

    {"error": {"errors": [{"domain": "global", "reason": "fullSyncRequired",
                           "message": "..."}], "code": 410, "message": "..."}}

``googleapiclient.errors.HttpError.error_details`` is ``details`` when present, else ``errors``.
"""

from __future__ import annotations

from typing import Any

from ingest_pipeline_tests.fakes.gmail_errors import ApiError, Reply, json_reply

PEOPLE_SERVICE = "people.googleapis.com"
CALENDAR_SERVICE = "calendar-json.googleapis.com"
LIST_CONNECTIONS = "google.people.v1.PeopleService.ListConnections"
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
EXPIRED_SYNC_TOKEN_MESSAGE = (
    "Sync token is expired. Clear local cache and retry call without the sync token."
)
FULL_SYNC_REQUIRED_MESSAGE = "Sync token is no longer valid, a full sync is required."


class ReplyError(ApiError):
    """An `ApiError` that carries its finished reply (for bodies not shaped like Gmail's)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self._reply = reply

    def reply(self) -> Reply:
        return self._reply


def error_info(
    reason: str, *, domain: str = PEOPLE_SERVICE, metadata: dict[str, str] | None = None
) -> dict[str, Any]:
    """A ``google.rpc.ErrorInfo`` detail."""
    default = {"service": PEOPLE_SERVICE, "method": LIST_CONNECTIONS}
    return {
        "@type": ERROR_INFO_TYPE,
        "reason": reason,
        "domain": domain,
        "metadata": metadata if metadata is not None else default,
    }


def rpc_error_reply(
    status: int,
    rpc_status: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    retry_after: int | None = None,
) -> Reply:
    """A People API error: ``{"error": {"code", "message", "status", "details"?}}``."""
    error: dict[str, Any] = {"code": status, "message": message, "status": rpc_status}
    if details:
        error["details"] = details
    headers = [("Retry-After", str(retry_after or 1))] if status == 429 else []
    return json_reply(status, {"error": error}, headers)


def calendar_error_reply(
    status: int,
    reason: str,
    message: str,
    *,
    domain: str = "global",
    location: str | None = None,
    retry_after: int | None = None,
) -> Reply:
    """A Calendar API error: ``{"error": {"errors": [...], "code", "message"}}``."""
    item: dict[str, Any] = {"domain": domain, "reason": reason, "message": message}
    if location is not None:
        item.update(locationType="parameter", location=location)
    headers = [("Retry-After", str(retry_after or 1))] if status == 429 else []
    body = {"error": {"errors": [item], "code": status, "message": message}}
    return json_reply(status, body, headers)


def people_error(status: int, rpc_status: str, message: str) -> ReplyError:
    return ReplyError(rpc_error_reply(status, rpc_status, message))


def calendar_error(
    status: int, reason: str, message: str, *, location: str | None = None
) -> ReplyError:
    return ReplyError(calendar_error_reply(status, reason, message, location=location))


def expired_sync_token() -> ReplyError:
    """People's answer to an expired (or unknown) ``syncToken``: 400 with ErrorInfo."""
    details = [error_info("EXPIRED_SYNC_TOKEN")]
    reply = rpc_error_reply(400, "FAILED_PRECONDITION", EXPIRED_SYNC_TOKEN_MESSAGE, details=details)
    return ReplyError(reply)


def full_sync_required() -> ReplyError:
    """Calendar's answer to an expired (or unknown) ``syncToken``: 410 fullSyncRequired."""
    return calendar_error(410, "fullSyncRequired", FULL_SYNC_REQUIRED_MESSAGE)


def people_rate_limited(wait: int, limit: int) -> Reply:
    """People's per-user quota refusal: 429 RESOURCE_EXHAUSTED with a RATE_LIMIT_EXCEEDED info."""
    message = (
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
        f"per user' of service '{PEOPLE_SERVICE}' for consumer 'project_number:0'."
    )
    metadata = {
        "service": PEOPLE_SERVICE,
        "quota_metric": f"{PEOPLE_SERVICE}/read_requests",
        "quota_limit": "ReadRequestsPerMinutePerUser",
        "quota_limit_value": str(limit),
        "consumer": "projects/0",
    }
    details = [error_info("RATE_LIMIT_EXCEEDED", domain="googleapis.com", metadata=metadata)]
    return rpc_error_reply(429, "RESOURCE_EXHAUSTED", message, details=details, retry_after=wait)


def calendar_rate_limited(status: int, wait: int) -> Reply:
    """Calendar's per-user quota refusal: 403 or 429 ``usageLimits``/``rateLimitExceeded``."""
    message = (
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of "
        f"service '{CALENDAR_SERVICE}' for consumer 'project_number:0'."
    )
    return calendar_error_reply(
        status, "rateLimitExceeded", message, domain="usageLimits", retry_after=wait
    )
