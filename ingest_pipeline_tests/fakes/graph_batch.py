"""Graph JSON batching (``POST /v1.0/$batch``): the request envelope and the answer parts.

``{"requests": [{"id", "method", "url": "/users/x/messages/y/$value", "headers"?}]}``, at most
20, answered ``{"responses": [{"id", "status", "headers", "body"}]}`` in no particular order.
A part whose body is JSON carries it as JSON; any other body (``$value``'s MIME, served as
``text/plain``) is a base64 string - what Graph does, as observed in the wild; the JSON
batching page only shows JSON bodies.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from ingest_pipeline_tests.fakes.graph_wire import GraphError, Reply

MAX_BATCH_REQUESTS = 20


@dataclass(frozen=True)
class BatchPart:
    id: str
    method: str
    url: str
    headers: dict[str, str]

    @property
    def target(self) -> str:
        """The part as a path under the server root: ``/v1.0`` + its relative URL."""
        return "/v1.0" + (self.url if self.url.startswith("/") else "/" + self.url)


def parse_batch(body: bytes) -> list[BatchPart]:
    """The parts of a batch envelope, or a 400 for the whole batch."""
    try:
        envelope = json.loads(body or b"null")
    except ValueError:
        raise _invalid("The batch request body is not valid JSON.") from None
    requests = envelope.get("requests") if isinstance(envelope, dict) else None
    if not isinstance(requests, list) or not requests:
        raise _invalid("Invalid batch payload format: a non-empty 'requests' array is required.")
    if len(requests) > MAX_BATCH_REQUESTS:
        raise _invalid(
            f"The number of requests in the batch ({len(requests)}) exceeds the limit of "
            f"{MAX_BATCH_REQUESTS}."
        )
    parts = []
    for item in requests:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key), str) and item.get(key) for key in ("id", "method", "url")
        ):
            raise _invalid("Invalid batch payload format: every request needs id, method, url.")
        headers = item.get("headers") or {}
        if not isinstance(headers, dict):
            raise _invalid("Invalid batch payload format: headers must be an object.")
        parts.append(
            BatchPart(
                id=item["id"],
                method=item["method"].upper(),
                url=item["url"],
                headers={str(k).lower(): str(v) for k, v in headers.items()},
            )
        )
    if len({part.id for part in parts}) != len(parts):
        raise _invalid("Batch request ids must be unique.")
    return parts


def part_answer(part_id: str, reply: Reply) -> dict[str, Any]:
    """One entry of ``responses``: JSON bodies inline, other bodies base64-encoded."""
    headers = {name: value for name, value in reply.headers}
    answer: dict[str, Any] = {"id": part_id, "status": reply.status, "headers": headers}
    if reply.body:
        content_type = (reply.header("Content-Type") or "").lower()
        if content_type.startswith("application/json"):
            answer["body"] = json.loads(reply.body)
        else:
            answer["body"] = base64.b64encode(reply.body).decode("ascii")
    return answer


def _invalid(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)
