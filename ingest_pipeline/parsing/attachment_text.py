"""Text out of attachment bytes (PDF, DOCX, text, HTML) and files out of winmail.dat.

Every function here reports failure as a value, never as an exception: an attachment that
cannot be read must not cost the rest of its message.
"""

from __future__ import annotations

import io
import logging
import mimetypes
from collections.abc import Iterator
from email.message import Message

from ingest_pipeline.parsing.html_text import html_to_text, strip_zero_width

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
# Types that carry text although their major type is not ``text``.
_TEXTUAL_TYPES = (
    "application/json",
    "application/xml",
    "application/x-sh",
    "application/javascript",
    "application/csv",
    "application/x-csv",
    "application/ics",
    "application/vcard",
    "application/x-vcard",
)
_GENERIC_TYPES = ("", "application/octet-stream", "application/x-download", "binary/octet-stream")

for _noisy in ("pypdf", "tnefparse"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)


def _split_content_type(content_type: str) -> tuple[str, str | None]:
    """``("type/subtype", charset or None)`` from a Content-Type value with parameters."""
    msg = Message()
    msg["Content-Type"] = content_type or "application/octet-stream"
    charset = msg.get_content_charset()
    return msg.get_content_type(), charset


def effective_type(content_type: str, filename: str) -> str:
    """The declared type, or the type the filename suggests when the declared one is generic."""
    declared, _ = _split_content_type(content_type)
    if declared in _GENERIC_TYPES or not content_type:
        guessed, _ = mimetypes.guess_type(filename or "")
        if guessed:
            return guessed
    return declared


def _looks_like_text(data: bytes) -> bool:
    """True for bytes that are plainly text: valid UTF-8, no NULs, almost all printable."""
    sample = data[:65536]
    if b"\x00" in sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # not just a character cut at the sample's end
            return False
        text = sample[: exc.start].decode("utf-8")
    printable = sum(1 for c in text if c.isprintable() or c in "\r\n\t\f")
    return bool(text) and printable >= 0.95 * len(text)


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Bytes to str: the declared charset, else UTF-8, else Windows-1252; never raises."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeError):  # unknown label, non-text codec, invalid bytes
            continue
    return data.decode("cp1252", errors="replace")


def _pdf_text(data: bytes) -> tuple[str | None, str | None]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except Exception as exc:
            return None, f"PDF is encrypted and could not be opened: {exc}"
        if not opened:
            return None, "PDF is encrypted with a password; text not extracted"
    pages: list[str] = []
    failed = 0
    for page in reader.pages:
        try:
            pages.append(page.extract_text() or "")
        except Exception:
            failed += 1
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        reason = f"PDF has no text layer ({len(pages) + failed} pages; scanned images?)"
        if failed:
            reason = f"text extraction failed on {failed} of {len(pages) + failed} PDF pages"
        return None, reason
    return text, None


def _docx_blocks(container: object) -> Iterator[str]:
    """Paragraph texts and table rows (cells joined by `` | ``) in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in container.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table):
            for row in block.rows:
                seen: set[int] = set()
                cells: list[str] = []
                for cell in row.cells:
                    if id(cell._tc) in seen:  # merged cells repeat the same element
                        continue
                    seen.add(id(cell._tc))
                    cells.append("\n".join(_docx_blocks(cell)).strip())
                yield " | ".join(c for c in cells if c)


def _docx_text(data: bytes) -> tuple[str | None, str | None]:
    import docx

    document = docx.Document(io.BytesIO(data))
    text = "\n".join(b for b in _docx_blocks(document) if b.strip()).strip()
    if not text:
        return None, "DOCX has no text"
    return text, None


def attachment_text(
    data: bytes, *, content_type: str, filename: str
) -> tuple[str | None, str | None]:
    """``(text, None)`` with the attachment's text, or ``(None, reason)`` saying why there is none.

    PDF goes through pypdf, DOCX through python-docx (paragraphs and table cells), ``text/*``
    is decoded with its charset, HTML goes through ``html_to_text``. ``content_type`` may hold
    parameters (``text/plain; charset=koi8-r``); a generic type such as
    ``application/octet-stream`` is replaced by the type the filename's extension suggests.
    """
    kind = "attachment"
    try:
        ctype = effective_type(content_type, filename)
        _, charset = _split_content_type(content_type)
        lowered = (filename or "").lower()
        if not data:
            return None, "attachment is empty (0 bytes)"
        if ctype == "application/pdf" or lowered.endswith(".pdf") or data[:5] == b"%PDF-":
            kind = "PDF"
            return _pdf_text(data)
        if ctype == DOCX_TYPE or lowered.endswith(".docx"):
            kind = "DOCX"
            return _docx_text(data)
        if ctype in ("text/html", "application/xhtml+xml"):
            kind = "HTML"
            text = html_to_text(decode_text(data, charset))
        elif (
            ctype.startswith("text/")
            or ctype in _TEXTUAL_TYPES
            or (ctype.startswith("message/") and ctype != "message/rfc822")
        ):
            kind = "text"
            text = strip_zero_width(decode_text(data, charset)).replace("\r\n", "\n").strip()
        elif ctype in _GENERIC_TYPES and _looks_like_text(data):
            kind = "text"  # e.g. README or AUTHORS sent as application/octet-stream
            text = strip_zero_width(decode_text(data)).replace("\r\n", "\n").strip()
        else:
            return None, f"no text extractor for {ctype}"
        return (text, None) if text else (None, f"{kind} attachment has no text")
    except Exception as exc:
        return None, f"{kind} could not be read: {type(exc).__name__}: {exc}"


def _tnef_body(tnef: object) -> str | None:
    """The plain body of a parsed TNEF object, else its HTML body as text, else None."""
    codepage = getattr(tnef, "codepage", None) or "cp1252"
    body = getattr(tnef, "body", None)
    if isinstance(body, bytes):
        body = decode_text(body.rstrip(b"\x00"), codepage)
    if isinstance(body, str) and body.strip("\x00 \r\n\t"):
        return strip_zero_width(body.rstrip("\x00")).replace("\r\n", "\n").strip()
    html = getattr(tnef, "htmlbody", None)
    if isinstance(html, bytes):
        html = decode_text(html.rstrip(b"\x00"), codepage)
    if isinstance(html, str) and html.strip("\x00 \r\n\t"):
        return html_to_text(html.rstrip("\x00")) or None
    return None


def unpack_tnef(data: bytes) -> tuple[str | None, list[tuple[str, bytes]], str | None]:
    """``(body_text, [(filename, bytes)], error)`` for a winmail.dat (MS-TNEF) blob.

    ``body_text`` is the plain or HTML body carried inside the TNEF (None when it has only an
    RTF body or none). Files without a name get ``tnef-attachment-N.bin``. On a blob that is
    not TNEF or cannot be decoded, returns ``(None, [], reason)``.
    """
    from tnefparse.tnef import TNEF

    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:
        return None, [], f"winmail.dat could not be unpacked: {type(exc).__name__}: {exc}"
    files: list[tuple[str, bytes]] = []
    errors: list[str] = []
    for index, attachment in enumerate(tnef.attachments, start=1):
        try:
            name = attachment.long_filename() or attachment.name
        except Exception:
            name = ""
        if isinstance(name, bytes):
            name = decode_text(name)
        name = str(name).strip("\x00 ").replace("/", "_").replace("\\", "_")
        payload = attachment.data
        if not isinstance(payload, bytes):
            errors.append(f"TNEF attachment {index} has no byte content")
            continue
        files.append((name or f"tnef-attachment-{index}.bin", payload))
    try:
        body = _tnef_body(tnef)
    except Exception as exc:
        body = None
        errors.append(f"TNEF body could not be read: {type(exc).__name__}: {exc}")
    return body, files, "; ".join(errors) or None
