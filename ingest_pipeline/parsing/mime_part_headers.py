"""What a MIME part's own headers say about it: its content type and its filename.

Both are read leniently: an unreadable or invalid Content-Type is taken as something usable,
and a filename the stdlib cannot parse is read from the raw header text.
"""

from __future__ import annotations

import mimetypes
import re
from email.message import Message

from ingest_pipeline.parsing.mime_charsets import clean_text
from ingest_pipeline.parsing.mime_headers import HEADER_FOLD, decode_raw, raw_values

# ``message/*`` subtypes that hold a whole message, walked like a forwarded mail.
EMBEDDED_MESSAGE_TYPES = ("message/rfc822", "message/global", "message/news")


def content_type(part: Message, defects: list[str]) -> str:
    """The part's ``type/subtype`` in lower case; ``text/plain`` when unreadable."""
    try:
        ctype = part.get_content_type()
    except Exception as exc:
        defects.append(f"Content-Type unreadable ({type(exc).__name__}); taken as text/plain")
        return "text/plain"
    declared = raw_values(part, "Content-Type")
    if declared and "/" not in declared[0].split(";")[0]:
        shown = clean_text(declared[0]).split(";")[0].strip()[:40]
        defects.append(f"Content-Type {shown!r} is invalid; taken as {ctype}")
    return ctype


def _raw_param(part: Message, header: str, param: str) -> str | None:
    """A parameter read from the raw header text, for values the stdlib cannot parse
    (unquoted spaces, encoded words where RFC 2231 belongs)."""
    for raw in raw_values(part, header):
        unfolded = HEADER_FOLD.sub("", raw).replace("\r", "").replace("\n", " ")
        pattern = rf'(?:^|;)\s*{param}\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))'
        match = re.search(pattern, unfolded, re.IGNORECASE)
        if match:
            value = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
            if value:
                return value
    return None


def filename(part: Message, defects: list[str]) -> str | None:
    """The part's filename (RFC 2231 and encoded words decoded, no directories), or None."""
    try:
        name = part.get_filename()
    except Exception as exc:
        defects.append(f"filename unreadable ({type(exc).__name__}); read from the raw header")
        name = None
    raw = _raw_param(part, "Content-Disposition", "filename") or _raw_param(
        part, "Content-Type", "name"
    )
    if raw and (not name or (len(raw) > len(name) and raw.startswith(name))):
        name = raw
    if not name:
        return None
    name = str(name)
    if "=?" in name:
        name = decode_raw(name, defects, "filename")
    name = clean_text(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c >= " ").strip().strip('"')
    return name or None


def generated_filename(index: int, ctype: str) -> str:
    """``part-<index>.<ext>`` for a part without a filename, the extension guessed from its type."""
    maintype, _, subtype = ctype.partition("/")
    ext = mimetypes.guess_extension(ctype)
    if not ext and maintype in ("text", "message"):
        ext = ".eml" if ctype in EMBEDDED_MESSAGE_TYPES else ".txt"
    media = maintype in ("image", "audio", "video")
    if not ext and media and subtype.isalnum() and len(subtype) < 6:
        ext = f".{subtype}"
    return f"part-{index}{ext or '.bin'}"
