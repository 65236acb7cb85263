"""parse_message on messages built here: fields, bodies, attachments, and tolerated breakage."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import random
from email.message import EmailMessage

import pytest

from ingest_pipeline.domain import Address, ParsedMessage
from ingest_pipeline.parsing import mime_attachments
from ingest_pipeline.parsing.attachment_text import DOCX_TYPE
from ingest_pipeline.parsing.mime_message import FORWARD_MARKER, UnparseableMessage, parse_message
from ingest_pipeline_tests.parsing.documents import make_docx, make_pdf


def build(
    body: str | None = "Hello there.", *, html: str | None = None, **headers: str
) -> EmailMessage:
    """A message with the usual headers (override or add with keyword arguments)."""
    msg = EmailMessage()
    fields = {
        "From": "Ann Example <ann@example.org>",
        "To": "Bob <bob@example.net>, carol@example.com",
        "Subject": "Status update",
        "Date": "Tue, 05 Mar 2024 14:30:00 +0100",
        "Message-ID": "<status-1@example.org>",
    }
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    for name, value in fields.items():
        msg[name] = value
    if body is not None:
        msg.set_content(body)
    if html is not None:
        if body is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    return msg


def parse(msg: EmailMessage | bytes, **kwargs: int) -> ParsedMessage:
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    return parse_message(raw, **kwargs)


# ---------------------------------------------------------------- headers


def test_basic_headers_become_typed_fields() -> None:
    parsed = parse(build(In_Reply_To="  <earlier@example.org> ", Cc="Dan <dan@example.com>"))
    assert parsed.subject == "Status update"
    assert parsed.sender == Address(name="Ann Example", email="ann@example.org")
    assert parsed.to == (
        Address(name="Bob", email="bob@example.net"),
        Address(name="", email="carol@example.com"),
    )
    assert parsed.cc == (Address(name="Dan", email="dan@example.com"),)
    assert parsed.date == dt.datetime(2024, 3, 5, 13, 30, tzinfo=dt.UTC)
    assert parsed.message_id == "<status-1@example.org>"
    assert parsed.in_reply_to == "<earlier@example.org>"
    assert parsed.body_text == "Hello there."
    assert parsed.body_html_present is False
    assert parsed.defects == ()


def test_message_id_is_normalised_and_missing_fields_have_defaults() -> None:
    raw = b"From: a@example.org\r\nMessage-ID:   < odd-id@host >  \r\n\r\nbody\r\n"
    parsed = parse(raw)
    assert parsed.message_id == "<odd-id@host>"
    assert parsed.subject == ""
    assert parsed.date is None and parsed.in_reply_to is None
    assert parse(b"From: a@example.org\r\n\r\nbody\r\n").message_id is None


def test_encoded_word_subject_and_names_are_decoded() -> None:
    raw = (
        b"From: =?utf-8?Q?J=C3=B6rn_St=C3=B8ylen?= <jorn@example.no>\r\n"
        b"Subject: =?utf-8?B?w5xiZXJ3ZWlzdW5n?= =?iso-8859-1?Q?_f=FCr_M=E4rz?=\r\n\r\nx\r\n"
    )
    parsed = parse(raw)
    assert parsed.subject == "Überweisung für März"
    assert parsed.sender == Address(name="Jörn Støylen", email="jorn@example.no")


def test_raw_utf8_headers_are_decoded_not_replaced() -> None:
    raw = "From: Jöhn <john@example.org>\r\nSubject: Säying Hello\r\n\r\nbody\r\n".encode()
    parsed = parse(raw)
    assert parsed.subject == "Säying Hello"
    assert parsed.sender == Address(name="Jöhn", email="john@example.org")


def test_unknown_charset_in_encoded_word_is_read_as_utf8_with_a_defect() -> None:
    raw = b"From: a@example.org\r\nSubject: =?x-bogus?Q?caf=C3=A9?=\r\n\r\nbody\r\n"
    parsed = parse(raw)
    assert parsed.subject == "café"
    assert any(d.startswith("Subject: unknown charset 'x-bogus'") for d in parsed.defects)


def test_garbage_date_is_none_with_a_defect() -> None:
    parsed = parse(build(Date="Wed, 15 Dec 2010    59:10 -0500"))
    assert parsed.date is None
    assert any(d.startswith("Date: unparseable value") for d in parsed.defects)


def test_date_without_zone_is_taken_as_utc() -> None:
    parsed = parse(build(Date="Tue, 05 Mar 2024 14:30:00 -0000"))
    assert parsed.date == dt.datetime(2024, 3, 5, 14, 30, tzinfo=dt.UTC)


def test_group_syntax_in_address_headers_is_flattened() -> None:
    raw = (
        b"From: a@example.org\r\n"
        b"To: Team: Ann <ann@example.org>, bob@example.net;, Carl <carl@example.com>\r\n"
        b"Cc: undisclosed-recipients:;\r\n\r\nbody\r\n"
    )
    parsed = parse(raw)
    assert [a.email for a in parsed.to] == [
        "ann@example.org",
        "bob@example.net",
        "carl@example.com",
    ]
    assert parsed.cc == ()


def test_group_the_stdlib_cannot_read_falls_back_to_getaddresses() -> None:
    # policy=default raises AttributeError ('Group' object has no attribute 'local_part').
    raw = (
        b"From: The Post Office <postmaster@example.net>\r\n"
        b"To: unlisted-recipients:; (no To-header on input)\r\n"
        b"Cc: Ann <ann@example.org>\r\n\r\nbody\r\n"
    )
    parsed = parse(raw)
    assert parsed.to == ()
    assert parsed.cc == (Address(name="Ann", email="ann@example.org"),)
    assert "To: AttributeError parsing addresses; used getaddresses" in parsed.defects


# ---------------------------------------------------------------- bodies


def test_plain_body_is_preferred_over_html_alternative() -> None:
    parsed = parse(build("Plain words.", html="<p>HTML words.</p>"))
    assert parsed.body_text == "Plain words."
    assert parsed.body_html_present is True


def test_html_only_body_is_converted_without_hidden_text() -> None:
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        '<span style="display:none">PREHEADER SPAM</span>'
        "<p>Your invoice\u200b is attached.</p><div hidden>tracking</div>"
        "<p>Thanks</p></body></html>"
    )
    parsed = parse(build(None, html=html))
    assert parsed.body_text == "Your invoice is attached.\n\nThanks"
    assert parsed.body_html_present is True


def test_zero_width_characters_are_stripped_from_plain_bodies() -> None:
    parsed = parse(build("Pay\u200bPal ac\u00adcount\ufeff"))
    assert parsed.body_text == "PayPal account"


def test_several_inline_text_parts_are_joined_with_blank_lines() -> None:
    msg = build("First part.")
    msg.add_attachment(make_pdf("x"), maintype="application", subtype="pdf", filename="a.pdf")
    second = EmailMessage()
    second.set_content("Second part.")
    msg.attach(second)
    assert parse(msg).body_text == "First part.\n\nSecond part."


def test_unknown_body_charset_falls_back_to_utf8_with_a_defect() -> None:
    raw = (
        b"From: a@example.org\r\nContent-Type: text/plain; charset=x-made-up\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nEnvoy\xc3\xa9 par Bell Mobilit\xc3\xa9\r\n"
    )
    parsed = parse(raw)
    assert parsed.body_text == "Envoyé par Bell Mobilité"
    assert "text/plain: unknown charset 'x-made-up'; decoded as utf-8" in parsed.defects


def test_charset_aliases_decode_korean_mail() -> None:
    raw = (
        b"From: a@example.org\r\nContent-Type: text/plain; charset=ks_c_5601-1987\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "한국말 똠방각하".encode("cp949")
    )
    assert parse(raw).body_text == "한국말 똠방각하"


def test_multipart_without_boundary_does_not_raise() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: broken\r\nContent-Type: multipart/mixed\r\n\r\n"
        b"Text of a multipart that never says where its parts start.\r\n"
    )
    parsed = parse(raw)
    assert parsed.body_text == "Text of a multipart that never says where its parts start."
    assert any("without a usable boundary" in d for d in parsed.defects)


def test_unknown_content_type_is_read_as_text_with_a_defect() -> None:
    raw = b"From: a@example.org\r\nContent-Type: signature/plain\r\n\r\n-- \r\nAnn\r\n"
    parsed = parse(raw)
    assert parsed.body_text == "-- \nAnn"
    assert "unknown content type signature/plain; read as text" in parsed.defects


# ---------------------------------------------------------------- attachments


def test_pdf_and_docx_attachments_are_hashed_and_their_text_extracted() -> None:
    pdf = make_pdf("Invoice 4711 total 99.50 EUR")
    docx = make_docx(["Contract draft"], table=[["Party", "ACME GmbH"]])
    msg = build()
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    maintype, subtype = DOCX_TYPE.split("/")
    msg.add_attachment(docx, maintype=maintype, subtype=subtype, filename="contract.docx")
    parsed = parse(msg)
    by_name = {a.filename: a for a in parsed.attachments}
    assert set(by_name) == {"invoice.pdf", "contract.docx"}
    invoice = by_name["invoice.pdf"]
    assert invoice.content_type == "application/pdf"
    assert invoice.size == len(pdf)
    assert invoice.sha256 == hashlib.sha256(pdf).hexdigest()
    assert invoice.text is not None and "Invoice 4711 total 99.50 EUR" in invoice.text
    assert invoice.capped is False and invoice.source == "mime"
    contract = by_name["contract.docx"]
    assert contract.text is not None
    assert "Contract draft" in contract.text and "Party | ACME GmbH" in contract.text
    assert parsed.body_text == "Hello there."


def test_rfc2231_filename_is_decoded() -> None:
    msg = build()
    msg.add_attachment(
        b"data",
        maintype="application",
        subtype="octet-stream",
        filename=("utf-8", "", "Résumé für Zoë 2024.bin"),
    )
    assert [a.filename for a in parse(msg).attachments] == ["Résumé für Zoë 2024.bin"]


def test_unquoted_and_encoded_word_filenames_are_recovered_from_raw_headers() -> None:
    raw = (
        b'From: a@example.org\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        b"--b\r\nContent-Type: text/plain\r\n"
        b"Content-Disposition: attachment; filename=This is a test.txt\r\n\r\nHi there.\r\n"
        b"--b\r\nContent-Type: application/pdf; name==?utf-8?B?VGhpcyBpcyBhIHRlc3QucGRm?=\r\n"
        b"Content-Disposition: attachment; filename==?utf-8?B?VGhpcyBpcyBhIHRlc3QucGRm?=\r\n"
        b"\r\n%PDF-broken\r\n--b--\r\n"
    )
    parsed = parse(raw)
    assert [a.filename for a in parsed.attachments] == ["This is a test.txt", "This is a test.pdf"]
    assert parsed.attachments[0].text == "Hi there."
    assert parsed.attachments[1].text is None and parsed.attachments[1].text_error


def test_part_without_filename_gets_a_generated_one() -> None:
    raw = (
        b'From: a@example.org\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        b"--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"/9j/4AAQ\r\n--b--\r\n"
    )
    (attachment,) = parse(raw).attachments
    assert attachment.filename == "part-2.jpg"
    assert attachment.content_type == "image/jpeg"
    assert attachment.size == 6


def test_attachment_over_the_cap_is_neither_decoded_nor_extracted() -> None:
    pdf = make_pdf("Big document")
    msg = build()
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="big.pdf")
    raw = msg.as_bytes()
    part = next(p for p in email.message_from_bytes(raw).walk() if p.get_filename())
    encoded = str(part.get_payload()).encode("ascii")
    cap = len(pdf) // 2
    (attachment,) = parse(raw, attachment_max_bytes=cap).attachments
    assert attachment.capped is True
    assert attachment.text is None
    assert attachment.text_error == f"attachment larger than the {cap}-byte cap; not extracted"
    assert attachment.size == len(encoded)
    assert attachment.sha256 == hashlib.sha256(encoded).hexdigest()
    assert parse(raw, attachment_max_bytes=len(encoded)).attachments[0].capped is False


def test_forwarded_message_contributes_subject_attachments_and_body() -> None:
    inner = build("The numbers are attached.", Subject="Quarterly numbers", From="cfo@example.com")
    inner.add_attachment(
        make_pdf("Q3 revenue 1.2M"), maintype="application", subtype="pdf", filename="q3.pdf"
    )
    outer = build("FYI, see below.", Subject="Fwd: Quarterly numbers")
    outer.add_attachment(inner)  # message/rfc822
    parsed = parse(outer)
    assert parsed.forwarded_subjects == ("Quarterly numbers",)
    (attachment,) = parsed.attachments
    assert attachment.filename == "q3.pdf" and attachment.source == "rfc822"
    assert attachment.text is not None and "Q3 revenue 1.2M" in attachment.text
    before, marker, after = parsed.body_text.partition(FORWARD_MARKER)
    assert marker and before.strip() == "FYI, see below."
    assert "Subject: Quarterly numbers" in after
    assert after.rstrip().endswith("The numbers are attached.")


def test_one_failing_part_becomes_a_defect_and_the_rest_survives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = mime_attachments.attachment_text

    def flaky(data: bytes, *, content_type: str, filename: str) -> tuple[str | None, str | None]:
        if filename == "bad.txt":
            raise RuntimeError("extractor exploded")
        return real(data, content_type=content_type, filename=filename)

    monkeypatch.setattr(mime_attachments, "attachment_text", flaky)
    msg = build()
    msg.add_attachment(b"one", maintype="text", subtype="plain", filename="bad.txt")
    msg.add_attachment(b"two", maintype="text", subtype="plain", filename="good.txt")
    parsed = parse(msg)
    assert [a.filename for a in parsed.attachments] == ["good.txt"]
    assert any("extractor exploded" in d for d in parsed.defects)
    assert parsed.body_text == "Hello there."


# ---------------------------------------------------------------- unparseable input


def test_empty_bytes_are_unparseable_with_a_reason() -> None:
    with pytest.raises(UnparseableMessage, match=r"^empty message \(0 bytes\)$"):
        parse_message(b"")


def test_whitespace_only_is_unparseable() -> None:
    with pytest.raises(UnparseableMessage, match="only whitespace"):
        parse_message(b"\r\n  \r\n")


def test_bytes_without_headers_are_unparseable_and_quote_the_first_line() -> None:
    with pytest.raises(UnparseableMessage) as info:
        parse_message(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\nbinary stuff")
    assert str(info.value).startswith("no RFC 5322 headers found: first line is '%PDF-1.7'")


def test_non_bytes_input_is_unparseable() -> None:
    with pytest.raises(UnparseableMessage, match="expected the message's bytes"):
        parse_message("From: a@example.org\n\nbody")  # type: ignore[arg-type]


def test_byte_order_mark_and_obsolete_header_spacing_are_repaired() -> None:
    raw = b"\xef\xbb\xbfFrom  : a@example.org\r\nSubject : hi\r\n\r\nbody\r\n"
    parsed = parse(raw)
    assert parsed.sender == Address(name="", email="a@example.org")
    assert parsed.subject == "hi"
    assert "UTF-8 byte-order mark before the headers; removed" in parsed.defects


def nested(depth: int) -> bytes:
    """A message whose text part sits inside ``depth`` nested multipart/mixed parts."""
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    tail = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return b"From: a@example.org\r\n" + head + b"Content-Type: text/plain\r\n\r\ndeep" + tail


def test_nesting_is_followed_to_a_limit_then_skipped_with_a_defect() -> None:
    assert parse_message(nested(10)).body_text == "deep"
    parsed = parse_message(nested(200))
    assert parsed.body_text == ""
    assert any("nesting deeper" in d for d in parsed.defects)


def test_nesting_beyond_the_stdlib_parser_is_unparseable_not_a_crash() -> None:
    with pytest.raises(UnparseableMessage, match="nested too deeply"):
        parse_message(nested(3000))


def test_random_damage_never_raises_anything_but_unparseable() -> None:
    msg = build("Body text.", html="<p>Body <b>html</b></p>")
    msg.add_attachment(make_pdf("x"), maintype="application", subtype="pdf", filename="a.pdf")
    raw = msg.as_bytes()
    rng = random.Random(20240305)
    samples = [raw[: rng.randrange(len(raw))] for _ in range(60)]
    for _ in range(60):
        damaged = bytearray(raw)
        for _ in range(rng.randrange(1, 40)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        samples.append(bytes(damaged))
    samples += [bytes(rng.randrange(256) for _ in range(300)) for _ in range(20)]
    for sample in samples:
        try:
            parse_message(sample)
        except UnparseableMessage as exc:
            assert str(exc)


def test_parsed_message_round_trips_through_json() -> None:
    msg = build()
    msg.add_attachment(b"hello", maintype="text", subtype="plain", filename="a.txt")
    parsed = parse(msg)
    assert ParsedMessage.from_json(parsed.to_json()) == parsed
    assert email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)["Subject"]
