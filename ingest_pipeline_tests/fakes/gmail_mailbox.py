"""One user's mailbox in the fake Gmail: messages, threads, labels, history, and the read-only
endpoints over it (each method mimics the Gmail API v1 method named in its docstring).

Endpoint methods take the query parameters as ``parse_qs`` gives them and return the JSON
body, or raise `ApiError` (rendered as Gmail's error JSON).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from ingest_pipeline_tests.fakes.gmail_errors import ApiError
from ingest_pipeline_tests.fakes.gmail_message import StoredMessage, b64url
from ingest_pipeline_tests.fakes.gmail_query import normalize_label, parse_query
from ingest_pipeline_tests.fakes.gmail_quota import QuotaWindow

Params = dict[str, list[str]]
SYSTEM_LABELS = (
    "INBOX",
    "SPAM",
    "TRASH",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "SENT",
    "DRAFT",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
)
FORMATS = ("minimal", "full", "raw", "metadata")
_MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
_HEX_ID = re.compile(r"[0-9a-fA-F]{1,32}")


@dataclass
class HistoryRecord:
    """A ``messageAdded`` history record (the only kind the fake writes)."""

    id: int
    message: StoredMessage


def _first(params: Params, name: str, default: str = "") -> str:
    values = params.get(name)
    return values[0] if values else default


def _many(params: Params, name: str) -> list[str]:
    return [item for value in params.get(name, []) for item in value.split(",") if item]


def _max_results(params: Params) -> int:
    text = _first(params, "maxResults", "100")
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"Invalid value for maxResults: {text!r}", "invalidArgument") from None
    return min(max(value, 1), 500)


def _token(payload: Any) -> str:
    return b64url(json.dumps(payload).encode()).rstrip("=")


def _untoken(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise ApiError(400, "Invalid pageToken", "invalidArgument") from None


class Mailbox:
    """A Gmail user's messages and history; callers hold the server lock."""

    def __init__(self, email: str, history_id: int) -> None:
        self.email = email
        self.history_id = history_id
        self.history_floor = history_id  # startHistoryId below this answers 404
        self.messages: dict[str, StoredMessage] = {}
        self.history: list[HistoryRecord] = []
        self.user_labels: dict[str, str] = {}  # id ("Label_1") -> name
        self.thread_of: dict[str, str] = {}  # RFC 822 Message-ID -> threadId
        self.quota = QuotaWindow()

    # -- writing -----------------------------------------------------------------------------

    def label_id(self, name: str) -> str:
        """System labels are their own ids; user labels get ``Label_<n>`` ids like Gmail's."""
        if name.upper() in SYSTEM_LABELS:
            return name.upper()
        for label_id, label_name in self.user_labels.items():
            if name in (label_id, label_name):
                return label_id
        label_id = f"Label_{len(self.user_labels) + 1}"
        self.user_labels[label_id] = name
        return label_id

    def add(
        self, message_id: str, raw: bytes, internal_ms: int, labels: list[str], step: int
    ) -> StoredMessage:
        """Store a message, thread it by In-Reply-To/References, record ``messageAdded``."""
        self.history_id += step
        message = StoredMessage.parse(
            raw,
            id=message_id,
            thread_id=message_id,
            internal_ms=internal_ms,
            label_ids=list(dict.fromkeys(self.label_id(label) for label in labels)),
            history_id=self.history_id,
        )
        references = " ".join([message.header("In-Reply-To"), message.header("References")])
        for parent in _MESSAGE_IDS.findall(references):
            if parent in self.thread_of:
                message.thread_id = self.thread_of[parent]
                break
        for own in _MESSAGE_IDS.findall(message.header("Message-ID"))[:1]:
            self.thread_of.setdefault(own, message.thread_id)
        self.messages[message_id] = message
        self.history.append(HistoryRecord(self.history_id, message))
        return message

    def label_keys(self, message: StoredMessage) -> set[str]:
        """Normalized ids and names of the message's labels (what ``label:`` matches)."""
        names = [self.user_labels.get(label_id, label_id) for label_id in message.label_ids]
        return {normalize_label(label) for label in [*message.label_ids, *names]}

    # -- endpoints ---------------------------------------------------------------------------

    def get_profile(self) -> dict[str, Any]:
        """``users.getProfile``: address, totals and the current historyId (a string)."""
        return {
            "emailAddress": self.email,
            "messagesTotal": len(self.messages),
            "threadsTotal": len({m.thread_id for m in self.messages.values()}),
            "historyId": str(self.history_id),
        }

    def list_messages(self, params: Params, now: float) -> dict[str, Any]:
        """``users.messages.list``: ids newest first (internalDate, then id), filtered by ``q``,
        ``labelIds`` (all must match) and ``includeSpamTrash``; key-based page tokens."""
        limit = _max_results(params)
        label_ids = _many(params, "labelIds")
        query = parse_query(_first(params, "q"), now)
        spam_trash = (
            _first(params, "includeSpamTrash").lower() == "true"
            or query.wants_spam_trash
            or bool({"SPAM", "TRASH"} & set(label_ids))
        )
        found = [
            message
            for message in sorted(self.messages.values(), key=_sort_key, reverse=True)
            if (spam_trash or not {"SPAM", "TRASH"} & set(message.label_ids))
            and all(label_id in message.label_ids for label_id in label_ids)
            and query.matches(message, self.label_keys(message))
        ]
        start = 0
        if token := _first(params, "pageToken"):
            after = _untoken(token)
            if not (
                isinstance(after, list)
                and len(after) == 2
                and isinstance(after[0], int)
                and isinstance(after[1], str)
            ):
                raise ApiError(400, "Invalid pageToken", "invalidArgument")
            while start < len(found) and _sort_key(found[start]) >= tuple(after):
                start += 1
        page = found[start : start + limit]
        body: dict[str, Any] = {}
        if page:
            body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if start + limit < len(found):
            body["nextPageToken"] = _token(list(_sort_key(page[-1])))
        body["resultSizeEstimate"] = len(found)
        return body

    def get_message(self, message_id: str, params: Params) -> dict[str, Any]:
        """``users.messages.get`` in ``format`` full (default), minimal, metadata or raw."""
        fmt = _first(params, "format", "full").lower()
        if fmt not in FORMATS:
            raise ApiError(400, f"Invalid value at 'format' ({fmt})", "invalidArgument")
        return self._message(message_id).resource(fmt, _many(params, "metadataHeaders"))

    def get_attachment(self, message_id: str, attachment_id: str) -> dict[str, Any]:
        """``users.messages.attachments.get``: the part's bytes as base64url ``data``."""
        data = self._message(message_id).attachment(attachment_id)
        if data is None:
            raise ApiError(400, "Invalid attachment token", "invalidArgument")
        return {"attachmentId": attachment_id, "size": len(data), "data": b64url(data)}

    def list_history(self, params: Params) -> dict[str, Any]:
        """``users.history.list``: ``messageAdded`` records with id > ``startHistoryId``.

        404 when ``startHistoryId`` is older than the retained history (before the mailbox
        existed, or before `FakeGmail.expire_history`), as Gmail answers for stale ids.
        """
        text = _first(params, "startHistoryId")
        if not text.isdigit():
            raise ApiError(400, "Invalid startHistoryId", "invalidArgument")
        start = int(text)
        if start < self.history_floor:
            raise ApiError(404, "Requested entity was not found.", "notFound")
        limit = _max_results(params)
        if token := _first(params, "pageToken"):
            after = _untoken(token)
            if not isinstance(after, int):
                raise ApiError(400, "Invalid pageToken", "invalidArgument")
            start = max(start, after)
        types = _many(params, "historyTypes")
        label = _first(params, "labelId")
        records = [
            record
            for record in self.history
            if record.id > start
            and (not types or "messageAdded" in types)
            and (not label or label in record.message.label_ids)
        ]
        page = records[:limit]
        body: dict[str, Any] = {}
        if page:
            body["history"] = [_history_json(record) for record in page]
        if len(records) > limit:
            body["nextPageToken"] = _token(page[-1].id)
        body["historyId"] = str(self.history_id)
        return body

    def list_labels(self) -> dict[str, Any]:
        """``users.labels.list``: system labels plus the user labels messages were given."""
        labels = [{"id": name, "name": name, "type": "system"} for name in SYSTEM_LABELS]
        labels += [
            {"id": label_id, "name": name, "type": "user"}
            for label_id, name in self.user_labels.items()
        ]
        return {"labels": labels}

    def _message(self, message_id: str) -> StoredMessage:
        if not _HEX_ID.fullmatch(message_id):
            raise ApiError(400, "Invalid id value", "invalidArgument")
        message = self.messages.get(message_id)
        if message is None:
            raise ApiError(404, "Requested entity was not found.", "notFound")
        return message


def _sort_key(message: StoredMessage) -> tuple[int, str]:
    """Listing order, newest first: descending (internalDate, id)."""
    return (message.internal_ms, message.id)


def _history_json(record: HistoryRecord) -> dict[str, Any]:
    message = record.message
    ref = {"id": message.id, "threadId": message.thread_id}
    return {
        "id": str(record.id),
        "messages": [ref],
        "messagesAdded": [{"message": {**ref, "labelIds": list(message.label_ids)}}],
    }
