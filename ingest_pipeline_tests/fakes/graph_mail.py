"""One mailbox's mail: folders (well-known names and opaque ids) and messages rendered as
Graph ``message`` resources from their MIME, with tombstones for delta.

A message's JSON is derived once from its raw bytes (subject, from/to/cc, internetMessageId,
body as HTML when there is an HTML part, bodyPreview, hasAttachments); ``$value`` serves the
bytes unchanged. Every add or delete takes the mailbox's next change sequence number, which
is what delta tokens remember.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import html
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from ingest_pipeline_tests.fakes.graph_wire import GraphError, change_key, graph_time, opaque_id

WELL_KNOWN_FOLDERS = {
    "inbox": "Inbox",
    "drafts": "Drafts",
    "sentitems": "Sent Items",
    "deleteditems": "Deleted Items",
    "archive": "Archive",
    "junkemail": "Junk Email",
}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class MailFolder:
    id: str
    display_name: str
    well_known: str

    def resource(self, total: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "parentFolderId": None,
            "childFolderCount": 0,
            "unreadItemCount": total,
            "totalItemCount": total,
            "isHidden": False,
        }


@dataclass
class StoredMessage:
    id: str
    folder_id: str
    raw: bytes
    received: dt.datetime
    sequence: int
    change_key: str
    fields: dict[str, Any]
    search_text: str
    deleted: bool = False

    def resource(self) -> dict[str, Any]:
        return {
            "@odata.etag": f'W/"{self.change_key}"',
            "id": self.id,
            **self.fields,
            "receivedDateTime": graph_time(self.received),
            "parentFolderId": self.folder_id,
            "changeKey": self.change_key,
        }


@dataclass
class MailStore:
    """Folders and messages of one mailbox (callers hold the server lock)."""

    rng: random.Random
    next_sequence: Callable[[], int]
    folders: dict[str, MailFolder] = field(default_factory=dict)
    messages: dict[str, StoredMessage] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, display in WELL_KNOWN_FOLDERS.items():
            folder = MailFolder(opaque_id(self.rng, size=68, prefix="AQMkAD"), display, name)
            self.folders[folder.id] = folder

    def folder(self, ref: str) -> MailFolder:
        """A folder by id or well-known name (case-insensitive, as Graph takes them)."""
        if ref in self.folders:
            return self.folders[ref]
        for folder in self.folders.values():
            if folder.well_known == ref.lower():
                return folder
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    def add(self, raw: bytes, received: dt.datetime, folder_ref: str) -> str:
        folder = self.folder(folder_ref)
        message_id = opaque_id(self.rng)
        fields, search_text = describe(raw, received, folder.well_known == "drafts")
        self.messages[message_id] = StoredMessage(
            id=message_id,
            folder_id=folder.id,
            raw=raw,
            received=received,
            sequence=self.next_sequence(),
            change_key=change_key(self.rng),
            fields=fields,
            search_text=search_text,
        )
        return message_id

    def delete(self, message_id: str) -> None:
        message = self.live(message_id)
        message.deleted = True
        message.sequence = self.next_sequence()

    def live(self, message_id: str) -> StoredMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return message

    def in_folder(
        self, folder_id: str | None, *, with_deleted: bool = False
    ) -> list[StoredMessage]:
        return [
            m
            for m in self.messages.values()
            if (folder_id is None or m.folder_id == folder_id) and (with_deleted or not m.deleted)
        ]


def describe(raw: bytes, received: dt.datetime, is_draft: bool) -> tuple[dict[str, Any], str]:
    """Graph ``message`` properties from MIME, and the text ``$search`` looks in."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    subject = str(parsed.get("Subject") or "")
    plain, rich = _body_text(parsed, "plain"), _body_text(parsed, "html")
    rich_text = html.unescape(_TAG.sub(" ", rich))
    preview_source = plain or rich_text
    preview = _SPACE.sub(" ", preview_source).strip()[:255]
    sender, to = _recipients(parsed, "From"), _recipients(parsed, "To")
    sent = _header_datetime(parsed) or received
    message_id = str(parsed.get("Message-ID") or "").strip()
    root = str(parsed.get("References") or "").split()[:1] or [message_id or subject]
    conversation = hashlib.sha256(root[0].encode()).hexdigest()[:48]
    fields = {
        "createdDateTime": graph_time(received),
        "lastModifiedDateTime": graph_time(received),
        "categories": [],
        "sentDateTime": graph_time(sent),
        "hasAttachments": any(part.is_attachment() for part in parsed.walk()),
        "internetMessageId": message_id,
        "subject": subject,
        "bodyPreview": preview,
        "importance": "normal",
        "conversationId": "AAQkAD" + conversation,
        "isRead": False,
        "isDraft": is_draft,
        "body": {"contentType": "html", "content": rich}
        if rich
        else {"contentType": "text", "content": plain},
        "sender": sender[0] if sender else None,
        "from": sender[0] if sender else None,
        "toRecipients": to,
        "ccRecipients": _recipients(parsed, "Cc"),
        "bccRecipients": _recipients(parsed, "Bcc"),
        "replyTo": _recipients(parsed, "Reply-To"),
        "flag": {"flagStatus": "notFlagged"},
    }
    people = " ".join(
        f"{r['emailAddress']['name']} {r['emailAddress']['address']}" for r in sender + to
    )
    search_text = "\n".join([subject, people, plain, rich_text])
    return fields, search_text


def _body_text(message: EmailMessage, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}" and not part.is_attachment():
            try:
                return str(part.get_content())
            except (LookupError, ValueError):  # an unknown or lying charset
                payload = part.get_payload(decode=True)
                return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return ""


def _recipients(message: EmailMessage, header: str) -> list[dict[str, Any]]:
    value = message.get(header)
    addresses = getattr(value, "addresses", ()) if value is not None else ()
    return [
        {"emailAddress": {"name": a.display_name or a.addr_spec, "address": a.addr_spec}}
        for a in addresses
    ]


def _header_datetime(message: EmailMessage) -> dt.datetime | None:
    try:
        value = message.get("Date")
        when = getattr(value, "datetime", None)
    except (TypeError, ValueError):
        return None
    if not isinstance(when, dt.datetime):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
