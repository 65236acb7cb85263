"""What a message's headers say about who (or what) sent it and which thread it is in.

``automation_markers`` lists the headers that mark mail no person wrote or that went to a
list: ``Auto-Submitted`` other than ``no`` (RFC 3834), ``List-Id``/``List-Unsubscribe``
(RFC 2919/2369), ``Precedence: bulk|list|junk``, ``X-Autoreply``/``X-Autorespond``, and a
delivery report (``multipart/report``, a bounce). ``references`` lists the msg-ids of the
References header, oldest first, so the first is the thread's root.
"""

from __future__ import annotations

import re
from email.message import Message

from ingest_pipeline.parsing.mime_headers import HEADER_FOLD, first_message_id, raw_values

_MSG_IDS = re.compile(r"<[^<>]*>")
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")


def _first(msg: Message, name: str) -> str:
    values = raw_values(msg, name)
    return HEADER_FOLD.sub("", values[0]).strip() if values else ""


def automation_markers(msg: Message) -> tuple[str, ...]:
    """The headers marking ``msg`` as automated, bulk or list mail, or a bounce, as
    ``Name: value`` strings (empty when a person wrote it to people)."""
    found = []
    auto_submitted = _first(msg, "Auto-Submitted")
    if auto_submitted and auto_submitted.split(";", 1)[0].strip().lower() != "no":
        found.append(f"Auto-Submitted: {auto_submitted}")
    for name in ("List-Id", "List-Unsubscribe"):
        value = _first(msg, name)
        if value:
            found.append(f"{name}: {value[:200]}")
    precedence = _first(msg, "Precedence")
    if precedence.lower() in _BULK_PRECEDENCE:
        found.append(f"Precedence: {precedence}")
    for name in _AUTOREPLY_HEADERS[:2]:
        value = _first(msg, name)
        if value:
            found.append(f"{name}: {value[:200]}")
    if msg.get_content_type() == "multipart/report":
        report = msg.get_param("report-type") or "report"
        found.append(f"Content-Type: multipart/report; report-type={report}")
    return tuple(found)


def references(msg: Message) -> tuple[str, ...]:
    """The msg-ids of the References header as ``<id>``, oldest first."""
    text = HEADER_FOLD.sub("", " ".join(raw_values(msg, "References")))
    ids = [first_message_id(m) for m in _MSG_IDS.findall(text)]
    return tuple(dict.fromkeys(i for i in ids if i))
