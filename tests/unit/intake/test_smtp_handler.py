"""The SMTP handler's answers with a fake CRM stub and a blob store on a temporary disk:
what each outcome answers, and that nothing of a refused or deferred message is kept."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dealflow.deals.v1 import crm_pb2

from services.common.blobs import LocalBlobStore
from services.common.errors import FieldProblem, ValidationFailed
from services.common.grpc_client import ServiceUnavailable
from services.intake.smtp import IntakeHandler


class FakeCrm:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[crm_pb2.IngestEmailRequest] = []

    async def IngestEmail(self, request: Any, *, metadata: Any = (), timeout: float = 0) -> Any:
        self.requests.append(request)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


def envelope(with_attachment: bool = True, **headers: str) -> Any:
    m = EmailMessage()
    m["From"] = headers.get("From", "vera@client.example")
    m["Subject"] = "pens"
    m["Message-ID"] = "<m1@client.example>"
    m.set_content("hello")
    if with_attachment:
        m.add_attachment(b"%PDF spec", maintype="application", subtype="pdf", filename="s.pdf")
    return SimpleNamespace(original_content=m.as_bytes(policy=policy.SMTP))


def files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def answer(tmp_path: Path, reply: Any, mail: Any = None) -> tuple[str, FakeCrm]:
    crm = FakeCrm(reply)
    handler = IntakeHandler(crm, LocalBlobStore(tmp_path), max_bytes=1 << 20, timeout=1)
    session = SimpleNamespace(peer=("127.0.0.1", 1))
    return await handler.handle_DATA(None, session, mail or envelope()), crm  # type: ignore[arg-type]


async def test_a_stored_message_is_answered_250_and_its_attachment_kept(tmp_path: Path) -> None:
    made = crm_pb2.IntakeMessage(outcome="lead_created", lead_id="5")
    text, crm = await answer(tmp_path, made)
    assert text.startswith("250")
    (request,) = crm.requests
    (attachment,) = request.attachments
    assert (attachment.name, attachment.size) == ("s.pdf", 9)
    assert len(files(tmp_path)) == 1


async def test_a_repeat_or_an_excluded_sender_keeps_no_copy(tmp_path: Path) -> None:
    for reply in (
        crm_pb2.IntakeMessage(outcome="lead_created", duplicate=True),
        crm_pb2.IntakeMessage(outcome="excluded"),
    ):
        text, _ = await answer(tmp_path, reply)
        assert text.startswith("250")
        assert files(tmp_path) == []


async def test_a_crm_not_set_up_for_mail_defers_with_451_and_keeps_nothing(
    tmp_path: Path,
) -> None:
    no_funnel = ValidationFailed(FieldProblem("pipeline_id", "there is no lead funnel yet"))
    text, _ = await answer(tmp_path, no_funnel)
    assert text.startswith("451"), text
    assert files(tmp_path) == []


async def test_a_crm_that_does_not_answer_defers_with_451_and_keeps_the_copies(
    tmp_path: Path,
) -> None:
    """The record may have committed with its answer lost: its files point at these."""
    text, _ = await answer(tmp_path, ServiceUnavailable("deadline exceeded"))
    assert text.startswith("451"), text
    assert len(files(tmp_path)) == 1


async def test_a_refused_sender_is_550_and_malformed_mail_554_before_anything_is_stored(
    tmp_path: Path,
) -> None:
    text, _ = await answer(tmp_path, ValidationFailed(FieldProblem("sender", "no")))
    assert text.startswith("550") and files(tmp_path) == []
    no_from = envelope()
    no_from.original_content = no_from.original_content.replace(b"From: ", b"X-Old-From: ")
    text, crm = await answer(tmp_path, crm_pb2.IntakeMessage(), no_from)
    assert text.startswith("554") and "no From" in text
    assert crm.requests == [] and files(tmp_path) == []
