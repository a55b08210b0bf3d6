"""MIME parsing of received mail: sender, subject, text, thread references, attachments;
what is refused (no From, broken parts, a multipart without its boundary)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

import pytest

from services.intake.mime import MalformedMail, parse


def message(**headers: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = headers.pop("From", "Вера Петрова <Vera@Client.Example>")
    m["To"] = "leads@dealflow.example"
    m["Subject"] = headers.pop("Subject", "Ручки 500 шт")
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content("Здравствуйте! Нужно 500 ручек.")
    return m


def test_sender_subject_text_and_attachments_are_read() -> None:
    m = message(Message_ID="<a1@client.example>")
    m.add_attachment(b"%PDF-1.4 spec", maintype="application", subtype="pdf", filename="ТЗ.pdf")
    parsed = parse(m.as_bytes(policy=policy.SMTP))
    assert (parsed.sender, parsed.sender_name) == ("vera@client.example", "Вера Петрова")
    assert (parsed.subject, parsed.message_id) == ("Ручки 500 шт", "<a1@client.example>")
    assert parsed.text == "Здравствуйте! Нужно 500 ручек."
    (part,) = parsed.attachments
    assert (part.name, part.content_type, part.data) == (
        "ТЗ.pdf",
        "application/pdf",
        b"%PDF-1.4 spec",
    )


def test_replies_name_their_thread_nearest_first() -> None:
    m = message(In_Reply_To="<c@x>", References="<a@x> <b@x> <c@x>")
    assert parse(m.as_bytes()).references == ("<c@x>", "<b@x>", "<a@x>")


def test_a_message_without_message_id_is_identified_by_its_content() -> None:
    raw = message().as_bytes()
    first, again = parse(raw), parse(raw)
    assert first.message_id == again.message_id and first.message_id.endswith("@intake.dealflow>")
    assert parse(raw + b"\n").message_id != first.message_id


def test_html_only_text_loses_its_tags() -> None:
    m = EmailMessage()
    m["From"] = "a@b.example"
    m.set_content("<p>Hello <b>there</b></p>", subtype="html")
    assert parse(m.as_bytes()).text.split() == ["Hello", "there"]


def test_no_from_is_refused() -> None:
    m = message()
    del m["From"]
    with pytest.raises(MalformedMail, match="no From"):
        parse(m.as_bytes())
    with pytest.raises(MalformedMail, match="not an address"):
        parse(message(From="nobody").as_bytes())


def test_a_broken_base64_part_is_refused() -> None:
    m = message()
    m.add_attachment(b"%PDF-1.4 spec", maintype="application", subtype="pdf", filename="x.pdf")
    raw = m.as_bytes().replace(b"JVBERi0", b"JV*#!BE", 1)
    with pytest.raises(MalformedMail, match="part"):
        parse(raw)


def test_a_multipart_without_its_boundary_is_refused() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: x\r\n"
        b'Content-Type: multipart/mixed; boundary="zzz"\r\n\r\nno parts here\r\n'
    )
    with pytest.raises(MalformedMail):
        parse(raw)


def test_text_in_a_charset_it_is_not_is_refused() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n\xff\xfe broken\r\n"
    )
    with pytest.raises(MalformedMail, match="utf-8"):
        parse(raw)
