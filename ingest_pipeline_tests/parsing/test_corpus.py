"""parse_message over the real-world corpus in ../shared/corpus (see its README.md).

Every message must be accounted for: parsed, or refused with UnparseableMessage and a reason.
Specific tests pin facts that hold for particular messages (TNEF, PDF, forwards, groups).
"""

from __future__ import annotations

import hashlib
import json
import mailbox
from email.message import EmailMessage
from functools import cache
from pathlib import Path

import pytest

from ingest_pipeline.domain import ParsedMessage
from ingest_pipeline.parsing.attachment_text import unpack_tnef
from ingest_pipeline.parsing.mime_message import FORWARD_MARKER, UnparseableMessage, parse_message

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
MIKEL = CORPUS / "mikel-mail" / "spec" / "fixtures" / "emails"
MIMEKIT = CORPUS / "mimekit" / "UnitTests" / "TestData"
EXPECTED_MESSAGES = 191  # 104 mikel-mail files, 48 mimekit files, 39 messages in 4 mbox files
# The only messages without a usable message in them, and the start of the reason given.
EXPECTED_UNPARSEABLE = {
    # A zero-byte fixture.
    "mikel-mail/spec/fixtures/emails/sample_output_multipart": "empty message (0 bytes)",
    # mailbox.mbox splits at the unmunged "From Russia with love" body line: a headerless tail.
    "mimekit/UnitTests/TestData/mbox/unmunged.mbox.txt#0": "no RFC 5322 headers found",
}

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"real-mail corpus not found at {CORPUS} (sibling of the project)"
)


@cache
def corpus_messages() -> dict[str, bytes]:
    """Every corpus message by id: a path relative to the corpus, ``#n`` for mbox members.

    mikel-mail: every fixture file. mimekit: ``*.eml``/``*.msg``/``*.txt`` files, except raw
    TNEF blobs and their extracted files under ``tnef/`` (only its ``.eml`` files are mail)
    and the ``mbox/`` files, whose members are read with ``mailbox.mbox``.
    """
    found: dict[str, bytes] = {}
    if not CORPUS.is_dir():
        return found
    for path in sorted(p for p in MIKEL.rglob("*") if p.is_file()):
        if not path.name.startswith("."):
            found[path.relative_to(CORPUS).as_posix()] = path.read_bytes()
    for path in sorted(p for p in MIMEKIT.rglob("*") if p.is_file()):
        key = path.relative_to(CORPUS).as_posix()
        area = path.relative_to(MIMEKIT).parts[0]
        if area == "mbox":
            box = mailbox.mbox(path, create=False)
            for index, member in enumerate(box.keys()):
                found[f"{key}#{index}"] = box.get_bytes(member)
        elif area == "tnef":
            if path.suffix == ".eml":
                found[key] = path.read_bytes()
        elif path.suffix in (".eml", ".msg", ".txt"):
            found[key] = path.read_bytes()
    return found


def parsed(key: str) -> ParsedMessage:
    return parse_message(corpus_messages()[key])


@pytest.mark.parametrize("key", sorted(corpus_messages()))
def test_message_parses_or_gives_a_reason(key: str) -> None:
    try:
        result = parse_message(corpus_messages()[key])
    except UnparseableMessage as exc:
        assert str(exc).strip(), "UnparseableMessage without a reason"
        return
    # Everything is valid Unicode (no lone surrogates) and survives the JSON round trip.
    encoded = json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8")
    assert ParsedMessage.from_json(json.loads(encoded)) == result


def test_every_corpus_message_is_accounted_for() -> None:
    messages = corpus_messages()
    assert len(messages) == EXPECTED_MESSAGES
    refused: dict[str, str] = {}
    for key, raw in messages.items():
        try:
            parse_message(raw)
        except UnparseableMessage as exc:
            refused[key] = str(exc)
    assert set(refused) == set(EXPECTED_UNPARSEABLE)
    for key, start in EXPECTED_UNPARSEABLE.items():
        assert refused[key].startswith(start)


# ---------------------------------------------------------------- TNEF


def test_winmail_dat_in_outlook_mail_is_unpacked_into_attachments() -> None:
    result = parsed("mimekit/UnitTests/TestData/tnef/rich-text.eml")
    mime = [a for a in result.attachments if a.source == "mime"]
    tnef = [a for a in result.attachments if a.source == "tnef"]
    assert [a.filename for a in mime] == ["winmail.dat"]
    assert mime[0].content_type == "application/ms-tnef"
    assert len(tnef) == 3
    kitten = next(a for a in tnef if a.filename == "kitten-playing-with-a-christmas-tree.jpg")
    expected = (MIMEKIT / "tnef" / "christmas" / kitten.filename).read_bytes()
    assert kitten.content_type == "image/jpeg"
    assert (kitten.size, kitten.sha256) == (len(expected), hashlib.sha256(expected).hexdigest())
    assert "What a Christmas to remember" in result.body_text


def test_winmail_dat_without_files_keeps_the_mime_body() -> None:
    result = parsed("mimekit/UnitTests/TestData/tnef/ukr.eml")
    assert [(a.filename, a.source) for a in result.attachments] == [("winmail.dat", "mime")]
    assert result.attachments[0].text_error == (
        "TNEF container: 0 file(s) unpacked as separate attachments"
    )
    assert result.body_text.startswith("шостий")  # koi8-r text/plain part


def _with_winmail(tnef_name: str, body: str | None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Outlook User <user@example.com>"
    msg["Subject"] = "TNEF test"
    if body is not None:
        msg.set_content(body)
    data = (MIMEKIT / "tnef" / tnef_name).read_bytes()
    msg.add_attachment(data, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return msg.as_bytes()


def test_files_inside_winmail_dat_match_the_expected_extraction() -> None:
    result = parse_message(_with_winmail("two-files.tnef", "See attached."))
    tnef = {a.filename: a for a in result.attachments if a.source == "tnef"}
    assert set(tnef) == {"AUTHORS", "README"}
    for name, attachment in tnef.items():
        expected = (MIMEKIT / "tnef" / "two-files" / name).read_bytes()
        assert attachment.sha256 == hashlib.sha256(expected).hexdigest()
        assert attachment.text is not None
        assert attachment.text.split()[:3] == expected.decode().split()[:3]
    assert result.body_text == "See attached."


def test_tnef_body_fills_an_empty_mime_body() -> None:
    body, files, error = unpack_tnef((MIMEKIT / "tnef" / "triples.tnef").read_bytes())
    assert body is not None and body.startswith("Sample description")
    assert files == [] and error is None
    result = parse_message(_with_winmail("triples.tnef", None))
    assert result.body_text.startswith("Sample description")


# ---------------------------------------------------------------- attachments and forwards


def test_pdf_attachment_is_recorded_even_when_it_is_broken() -> None:
    result = parsed("mikel-mail/spec/fixtures/emails/attachment_emails/attachment_pdf.eml")
    (pdf,) = result.attachments
    assert (pdf.filename, pdf.content_type, pdf.source) == ("broken.pdf", "application/pdf", "mime")
    assert pdf.size > 0 and len(pdf.sha256) == 64
    assert pdf.text is None
    assert pdf.text_error is not None and pdf.text_error.startswith("PDF could not be read")
    assert result.subject == "Another PDF with 🎉 Unicode chars in it 🍿"


def test_forwarded_rfc822_message_is_walked() -> None:
    key = "mikel-mail/spec/fixtures/emails/attachment_emails/attachment_message_rfc822.eml"
    result = parsed(key)
    assert result.forwarded_subjects == ("Another PDF",)
    assert [(a.filename, a.content_type, a.source) for a in result.attachments] == [
        ("broken.pdf", "application/pdf", "rfc822")
    ]
    own, marker, forwarded = result.body_text.partition(FORWARD_MARKER)
    assert own.strip() == "This is the first part."
    assert marker
    assert "Just attaching another PDF" in forwarded


@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("attachment_with_unquoted_name.eml", "This is a test.txt"),
        ("attachment_with_base64_encoded_name.eml", "This is a test.pdf"),
        ("attachment_nonascii_filename.eml", "ciële.txt"),
        ("attachment_with_quoted_filename.eml", "Eelanalüüsi päring.jpg"),
    ],
)
def test_awkward_filenames_are_decoded(name: str, filename: str) -> None:
    result = parsed(f"mikel-mail/spec/fixtures/emails/attachment_emails/{name}")
    assert [a.filename for a in result.attachments] == [filename]


# ---------------------------------------------------------------- headers and charsets


def test_group_syntax_in_to_is_flattened() -> None:
    result = parsed("mikel-mail/spec/fixtures/emails/rfc2822/example04.eml")
    assert [a.email for a in result.to] == ["c@a.test", "joe@where.test", "jdoe@one.test"]
    assert result.cc == ()


def test_group_syntax_the_stdlib_cannot_read_does_not_fail_the_message() -> None:
    result = parsed("mimekit/UnitTests/TestData/messages/delivery-status.txt")
    assert result.to == ()
    assert "To: AttributeError parsing addresses; used getaddresses" in result.defects
    assert result.subject == "email delivery error"
    assert result.forwarded_subjects == ("unsubscribe",)


def test_raw_utf8_headers_are_decoded() -> None:
    result = parsed("mikel-mail/spec/fixtures/emails/rfc6532/utf8_headers.eml")
    assert result.subject == "Säying Hello"
    assert result.sender is not None and result.sender.name == "Jöhn Doe"


def test_unknown_and_legacy_charsets_are_decoded() -> None:
    unknown = parsed("mikel-mail/spec/fixtures/emails/plain_emails/raw_email10.eml")
    assert "Envoyé par le service de messagerie texte de Bell Mobilité." in unknown.body_text
    iso2022 = parsed("mikel-mail/spec/fixtures/emails/multi_charset/japanese_iso_2022.eml")
    assert iso2022.subject == "まみむめも"
    korean = parsed("mikel-mail/spec/fixtures/emails/multi_charset/ks_c_5601-1987.eml")
    assert korean.body_text and all("\uac00" <= c <= "\ud7a3" for c in korean.body_text)


def test_garbage_date_is_left_empty_with_a_defect() -> None:
    result = parsed("mikel-mail/spec/fixtures/emails/error_emails/bad_date_header.eml")
    assert result.date is None
    assert "Date: unparseable value '<HR>'; date left empty" in result.defects


def test_multipart_with_missing_start_boundary_keeps_its_text() -> None:
    result = parsed("mimekit/UnitTests/TestData/messages/empty-multipart.txt")
    assert result.body_text == (
        "This part should be on the same level as the multipart/alternative and not a child."
    )
    assert "StartBoundaryNotFoundDefect" in result.defects


def test_html_only_message_body_is_text() -> None:
    result = parsed("mimekit/UnitTests/TestData/messages/body.2.txt")
    assert result.body_text == "This is an html body."
    assert result.body_html_present is True
