"""attachment_text and unpack_tnef: text or a reason, never an exception."""

from __future__ import annotations

import pytest

from ingest_pipeline.parsing.attachment_text import DOCX_TYPE, attachment_text, unpack_tnef
from ingest_pipeline_tests.parsing.documents import make_docx, make_pdf


def test_pdf_text_is_extracted() -> None:
    data = make_pdf("Invoice 4711", "Total due: 99.50 EUR")
    text, error = attachment_text(data, content_type="application/pdf", filename="invoice.pdf")
    assert error is None
    assert text is not None
    assert "Invoice 4711" in text and "Total due: 99.50 EUR" in text


def test_pdf_is_recognised_by_extension_when_sent_as_octet_stream() -> None:
    data = make_pdf("Quarterly report")
    text, _ = attachment_text(data, content_type="application/octet-stream", filename="q3.PDF")
    assert text is not None and "Quarterly report" in text


def test_password_protected_pdf_gives_a_reason() -> None:
    data = make_pdf("Top secret", user_password="hunter2")
    text, error = attachment_text(data, content_type="application/pdf", filename="secret.pdf")
    assert text is None
    assert error is not None and "encrypted" in error


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n%garbage that is not a pdf", b"not a pdf at all", make_pdf("cut")[:200]],
)
def test_broken_pdf_gives_a_reason_and_does_not_raise(data: bytes) -> None:
    text, error = attachment_text(data, content_type="application/pdf", filename="broken.pdf")
    assert text is None
    assert error


def test_docx_paragraphs_and_table_cells_are_extracted() -> None:
    data = make_docx(
        ["Dear customer,", "your order has shipped."],
        table=[["Item", "Qty"], ["Widget", "3"]],
    )
    text, error = attachment_text(data, content_type=DOCX_TYPE, filename="letter.docx")
    assert error is None
    assert text is not None
    assert "Dear customer," in text and "your order has shipped." in text
    assert "Item | Qty" in text and "Widget | 3" in text


def test_broken_docx_gives_a_reason() -> None:
    text, error = attachment_text(b"PK\x03\x04 junk", content_type=DOCX_TYPE, filename="x.docx")
    assert text is None
    assert error is not None and "DOCX" in error


def test_text_is_decoded_with_the_declared_charset() -> None:
    data = "Привет, мир".encode("koi8-r")
    text, error = attachment_text(
        data, content_type='text/plain; charset="koi8-r"', filename="note.txt"
    )
    assert (text, error) == ("Привет, мир", None)


def test_text_without_charset_is_utf8_or_windows_1252() -> None:
    utf8, _ = attachment_text("naïve café".encode(), content_type="text/plain", filename="a.txt")
    cp1252, _ = attachment_text(
        "naïve café €5".encode("cp1252"), content_type="text/plain", filename="b.txt"
    )
    assert utf8 == "naïve café"
    assert cp1252 == "naïve café €5"


def test_octet_stream_with_a_text_extension_is_read_as_text() -> None:
    text, _ = attachment_text(
        b"id,amount\n1,20\n", content_type="application/octet-stream", filename="data.csv"
    )
    assert text == "id,amount\n1,20"


def test_generic_binary_is_sniffed_for_text() -> None:
    readme, _ = attachment_text(b"Read me first.\n", content_type="", filename="README")
    blob, error = attachment_text(
        bytes(range(256)), content_type="application/octet-stream", filename="blob"
    )
    assert readme == "Read me first."
    assert blob is None and error == "no text extractor for application/octet-stream"


def test_html_attachment_goes_through_html_to_text() -> None:
    html = b"<html><body><p>Visible</p><span style='display:none'>HIDDEN</span></body></html>"
    text, error = attachment_text(html, content_type="text/html", filename="page.html")
    assert (text, error) == ("Visible", None)


def test_types_without_extractor_say_so() -> None:
    text, error = attachment_text(b"\x89PNG\r\n", content_type="image/png", filename="logo.png")
    assert text is None
    assert error == "no text extractor for image/png"


def test_empty_attachment_says_so() -> None:
    assert attachment_text(b"", content_type="text/plain", filename="e.txt") == (
        None,
        "attachment is empty (0 bytes)",
    )


def test_unpack_tnef_rejects_non_tnef_bytes_with_a_reason() -> None:
    body, files, error = unpack_tnef(b"this is not a TNEF stream")
    assert body is None and files == []
    assert error is not None and "winmail.dat" in error
