"""SN-7: mail sent with smtplib to the stack's SMTP port becomes leads. A new sender → a lead
and a contact; a reply → the same lead's timeline; an attachment → a file; the same
Message-ID twice → one lead; a spammer marked as spam → nothing from them again; no From, a
broken MIME part and a 30 MB message refused with nothing stored; the deals service down →
451, and the retry is taken in."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.local.stack import Stack

PDF = b"%PDF-1.4\n% the client's spec\n" + bytes(range(256)) * 8


def mail(sender: str, subject: str, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "leads@dealflow.example"
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("message_id", f"<{uuid.uuid4()}@client.example>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


async def send(
    stack: Stack, message: EmailMessage | bytes, sender: str = "x@client.example"
) -> None:
    """Deliver over SMTP (in a thread: smtplib blocks); an SMTP refusal raises."""

    def deliver() -> None:
        with smtplib.SMTP("127.0.0.1", stack.ports.smtp_intake, timeout=60) as smtp:
            if isinstance(message, bytes):
                smtp.sendmail(sender, ["leads@dealflow.example"], message)
            else:
                smtp.send_message(message)

    await asyncio.to_thread(deliver)


async def refused(stack: Stack, message: EmailMessage | bytes) -> int:
    with pytest.raises(smtplib.SMTPResponseException) as error:
        await send(stack, message)
    return int(error.value.smtp_code)


async def undeclared(stack: Stack, raw: bytes) -> int:
    """DATA without announcing its SIZE first: the server answers when the data ends."""

    def deliver() -> int:
        with smtplib.SMTP("127.0.0.1", stack.ports.smtp_intake, timeout=120) as smtp:
            smtp.ehlo()
            smtp.mail("big@client.example")
            smtp.rcpt("leads@dealflow.example")
            code, _ = smtp.data(raw)
            return int(code)

    try:
        return await asyncio.to_thread(deliver)
    except smtplib.SMTPResponseException as exc:
        return int(exc.smtp_code)


async def lead_funnel(admin: httpx.AsyncClient) -> dict[str, Any]:
    resp = await admin.post(
        "/pipelines",
        json={
            "name": f"Mail leads {uuid.uuid4().hex[:6]}",
            "kind": "lead",
            "stages": [
                {"name": "New"},
                {"name": "Converted", "semantic": "won"},
                {"name": "Other", "semantic": "lost"},
                {"name": "Spam", "semantic": "spam"},
            ],
        },
    )
    assert resp.status_code == 201, resp.text
    funnel = dict(resp.json())
    assert funnel["kind"] == "lead"
    resp = await admin.put("/intake/settings", json={"pipeline_id": funnel["id"]})
    assert resp.status_code == 200, resp.text
    return funnel


async def leads_of(admin: httpx.AsyncClient, funnel: dict[str, Any]) -> list[dict[str, Any]]:
    resp = await admin.get("/leads", params={"pipeline_id": funnel["id"]})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


async def intake(admin: httpx.AsyncClient) -> list[dict[str, Any]]:
    resp = await admin.get("/intake", params={"limit": 200})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


def blobs(stack: Stack) -> int:
    root = Path(stack.data_dir / "files")
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


async def test_sn_7_email_intake(stack: Stack, admin: httpx.AsyncClient) -> None:
    funnel = await lead_funnel(admin)
    spam_stage = funnel["stages"][3]["id"]
    client = f"vera-{uuid.uuid4().hex[:6]}@client.example"

    # A new sender: a lead in the funnel's first stage and a contact, before the 250.
    first = mail(f"Vera Petrova <{client}>", "500 branded pens", "Please quote 500 pens.")
    first.add_attachment(PDF, maintype="application", subtype="pdf", filename="spec.pdf")
    await send(stack, first)
    (lead,) = await leads_of(admin, funnel)
    assert (lead["title"], lead["source"], lead["stage_id"]) == (
        "500 branded pens",
        "email",
        funnel["stages"][0]["id"],
    )
    contacts = (await admin.get("/contacts", params={"q": client.upper()})).json()["items"]
    assert [(c["name"], c["emails"]) for c in contacts] == [("Vera Petrova", [client])]
    assert lead["contact_id"] == contacts[0]["id"]

    # The attachment is a file of the lead, the bytes as sent.
    (record,) = [m for m in await intake(admin) if m["message_id"] == first["Message-ID"]]
    assert (record["outcome"], record["lead_id"]) == ("lead_created", lead["id"])
    (file_id,) = record["file_ids"]
    meta = (await admin.get(f"/files/{file_id}")).json()
    assert (meta["name"], meta["lead_id"], meta["deal_id"]) == ("spec.pdf", lead["id"], None)
    assert (await admin.get(f"/files/{file_id}/content")).content == PDF

    # The same Message-ID again (a sender's retry): still one lead, one record.
    await send(stack, first)
    assert len(await leads_of(admin, funnel)) == 1
    assert [m["message_id"] for m in await intake(admin)].count(first["Message-ID"]) == 1

    # A reply from a colleague, threaded by In-Reply-To: the same lead's timeline.
    reply = mail(
        "boss@client.example",
        "Re: 500 branded pens",
        "And 200 mugs.",
        In_Reply_To=first["Message-ID"],
        References=first["Message-ID"],
    )
    await send(stack, reply)
    assert len(await leads_of(admin, funnel)) == 1
    timeline = (await admin.get(f"/leads/{lead['id']}/timeline")).json()["items"]
    emails = [e for e in timeline if e["kind"] == "email"]
    assert [e["data"]["subject"] for e in emails] == ["Re: 500 branded pens", "500 branded pens"]
    assert "And 200 mugs." in emails[0]["text"]

    # A spammer: their first mail is a lead; marked as spam, their next mail creates nothing.
    spammer = f"promo-{uuid.uuid4().hex[:6]}@bulk.example"
    await send(stack, mail(spammer, "Cheap followers", "Buy now"))
    spam_lead = next(x for x in await leads_of(admin, funnel) if x["title"] == "Cheap followers")
    moved = await admin.post(f"/leads/{spam_lead['id']}/move", json={"stage_id": spam_stage})
    assert moved.status_code == 200, moved.text
    excluded = (await admin.get("/exclusions", params={"q": spammer})).json()["items"]
    assert [(e["kind"], e["value"]) for e in excluded] == [("email", spammer)]
    again = mail(spammer, "Cheap followers again", "Buy now!!")
    await send(stack, again)
    assert len(await leads_of(admin, funnel)) == 2
    (dropped,) = [m for m in await intake(admin) if m["message_id"] == again["Message-ID"]]
    assert dropped["outcome"] == "excluded" and dropped["lead_id"] is None
    assert spammer in dropped["reason"]

    # Refused, and nothing of them stored: no From, a broken part, 30 MB.
    before = (len(await intake(admin)), blobs(stack))
    no_from = mail("x@client.example", "who am I", "no sender")
    del no_from["From"]
    assert await refused(stack, no_from) == 554
    broken = mail(f"other-{uuid.uuid4().hex[:4]}@client.example", "broken", "see attachment")
    broken.add_attachment(PDF, maintype="application", subtype="pdf", filename="x.pdf")
    raw = broken.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire
    body_at = raw.index(b"Content-Disposition: attachment")
    raw = raw[:body_at] + raw[body_at:].replace(b"JVBERi0", b"JV*#!BE", 1)
    assert await refused(stack, raw) == 554
    huge = mail(f"big-{uuid.uuid4().hex[:4]}@client.example", "big", "a big file")
    huge.add_attachment(b"\0" * (30 * 1024 * 1024), maintype="application", subtype="zip")
    assert await refused(stack, huge) == 552  # SIZE announced: refused at MAIL FROM
    assert await undeclared(stack, huge.as_bytes(policy=policy.SMTP)) == 552
    assert (len(await intake(admin)), blobs(stack)) == before
    assert len(await leads_of(admin, funnel)) == 2


async def test_mail_waits_while_the_deals_service_is_down(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    """451 while the CRM does not answer (the sender keeps the mail and retries); the
    retry after the service is back becomes the lead."""
    funnel = await lead_funnel(admin)
    message = mail(f"late-{uuid.uuid4().hex[:6]}@client.example", "Quote please", "Hello")
    stack.kill("deals")
    try:
        assert await refused(stack, message) == 451
    finally:
        stack.start_again("deals")
    deadline = asyncio.get_running_loop().time() + 60
    while True:  # the sender's retry, until the service answers
        try:
            await send(stack, message)
            break
        except smtplib.SMTPDataError as exc:
            assert exc.smtp_code == 451
            assert asyncio.get_running_loop().time() < deadline, "deals did not come back"
            await asyncio.sleep(0.5)
    assert [x["title"] for x in await leads_of(admin, funnel)] == ["Quote please"]
