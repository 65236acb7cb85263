"""A stored message of the fake Gmail, and its Gmail ``Message`` resource in each format.

Parsing is lenient (``compat32``, errors replaced) so any corpus message can be stored: what is
kept is the raw RFC 822 bytes, returned untouched by ``format=raw``.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
SNIPPET_CHARS = 200


def b64url(data: bytes) -> str:
    """Base64url with padding, as Gmail writes ``raw`` and body ``data``."""
    return base64.urlsafe_b64encode(data).decode("ascii")


def clean_text(value: object) -> str:
    """A header/text value as a proper str (decoded RFC 2047, stray bytes replaced)."""
    try:
        text = str(make_header(decode_header(str(value))))
    except Exception:
        text = str(value)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("latin-1")


def _filename(part: Message) -> str:
    try:
        return clean_text(part.get_filename() or "")
    except Exception:
        return ""


@dataclass
class StoredMessage:
    """One message in a user's mailbox (``labels`` hold label ids)."""

    id: str
    thread_id: str
    raw: bytes
    internal_ms: int
    label_ids: list[str]
    history_id: int
    parsed: Message = field(repr=False)
    headers: list[tuple[str, str]] = field(default_factory=list, repr=False)
    subject_lc: str = ""
    text_lc: str = ""
    snippet: str = ""
    has_attachment: bool = False

    @property
    def size(self) -> int:
        return len(self.raw)

    @classmethod
    def parse(cls, raw: bytes, **fields: Any) -> StoredMessage:
        """Parse ``raw`` once for headers, searchable text, snippet and attachments."""
        parsed = BytesParser(policy=compat32).parsebytes(raw)
        headers = [(name, clean_text(value)) for name, value in parsed.items()]
        plain: list[str] = []
        markup: list[str] = []
        has_attachment = False
        for part in parsed.walk():
            if part.is_multipart():
                continue
            disposition = str(part.get("Content-Disposition") or "").lower()
            if _filename(part) or disposition.startswith("attachment"):
                has_attachment = True
                continue
            if part.get_content_type() == "text/plain":
                plain.append(_part_text(part))
            elif part.get_content_type() == "text/html":
                markup.append(html.unescape(_TAG.sub(" ", _part_text(part))))
        text = _SPACE.sub(" ", " ".join(plain or markup)).strip()
        subject = next((value for name, value in headers if name.lower() == "subject"), "")
        return cls(
            raw=raw,
            parsed=parsed,
            headers=headers,
            subject_lc=subject.lower(),
            text_lc=" ".join([*plain, *markup]).lower(),
            snippet=html.escape(text[:SNIPPET_CHARS]).replace("&#x27;", "&#39;"),
            has_attachment=has_attachment,
            **fields,
        )

    def header(self, name: str) -> str:
        """The first header called ``name`` (decoded), or ''."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), "")

    def header_lc(self, name: str) -> str:
        return " ".join(v for k, v in self.headers if k.lower() == name).lower()

    def resource(self, fmt: str, metadata_headers: list[str]) -> dict[str, Any]:
        """Gmail's ``Message`` resource for ``format`` = minimal, metadata, full or raw."""
        body: dict[str, Any] = {
            "id": self.id,
            "threadId": self.thread_id,
            "labelIds": list(self.label_ids),
            "snippet": self.snippet,
            "sizeEstimate": self.size,
            "historyId": str(self.history_id),
            "internalDate": str(self.internal_ms),
        }
        if fmt == "raw":
            body["raw"] = b64url(self.raw)
        elif fmt == "metadata":
            wanted = {h.lower() for h in metadata_headers}
            body["payload"] = {
                "partId": "",
                "mimeType": self.parsed.get_content_type(),
                "filename": "",
                "headers": [
                    {"name": k, "value": v}
                    for k, v in self.headers
                    if not wanted or k.lower() in wanted
                ],
                "body": {"size": 0},
            }
        elif fmt == "full":
            body["payload"] = self._payload(self.parsed, "")
        return body

    def _payload(self, part: Message, part_id: str) -> dict[str, Any]:
        """Gmail's ``MessagePart`` tree: partId "" for the root, then "0", "0.1"..."""
        headers = [{"name": k, "value": clean_text(v)} for k, v in part.items()]
        filename = _filename(part)
        node: dict[str, Any] = {
            "partId": part_id,
            "mimeType": part.get_content_type(),
            "filename": filename,
            "headers": headers,
        }
        if part.is_multipart():
            node["body"] = {"size": 0}
            node["parts"] = [
                self._payload(child, f"{part_id}.{index}" if part_id else str(index))
                for index, child in enumerate(part.get_payload())
            ]
            return node
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        if filename:
            node["body"] = {"attachmentId": self.attachment_id(part_id), "size": len(data)}
        else:
            node["body"] = {"size": len(data), **({"data": b64url(data)} if data else {})}
        return node

    def attachment_id(self, part_id: str) -> str:
        return "ANGjdJ" + b64url(f"{self.id}:{part_id}".encode()).rstrip("=")

    def attachment(self, attachment_id: str) -> bytes | None:
        """The decoded bytes of the part an ``attachmentId`` names, or None."""
        for part_id, part in self._leaves(self.parsed, ""):
            if self.attachment_id(part_id) == attachment_id:
                data = part.get_payload(decode=True)
                return data if isinstance(data, bytes) else b""
        return None

    def _leaves(self, part: Message, part_id: str) -> list[tuple[str, Message]]:
        if not part.is_multipart():
            return [(part_id, part)]
        found: list[tuple[str, Message]] = []
        for index, child in enumerate(part.get_payload()):
            found += self._leaves(child, f"{part_id}.{index}" if part_id else str(index))
        return found
