"""Small real documents built in memory for parsing tests: a PDF (fpdf2) and a DOCX
(python-docx), so attachment extraction runs on genuine files rather than stubs."""

from __future__ import annotations

import io

import docx
from fpdf import FPDF


def make_pdf(*lines: str, user_password: str | None = None) -> bytes:
    """A one-page PDF with ``lines`` as real text (fpdf2), optionally password-protected."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    if user_password is not None:
        pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    return bytes(pdf.output())


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    """A DOCX (python-docx) holding ``paragraphs`` and, optionally, one table of ``table`` rows."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
