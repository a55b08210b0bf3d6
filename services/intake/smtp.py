"""The SMTP side of the mail intake: a message is parsed, its attachments put in the blob
store and the whole of it recorded by the deals service before the sender hears 250. A
deals service that does not answer gets 451 (the sender retries later, nothing is lost);
a message that cannot be read whole gets 554, and nothing of it is kept."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from dealflow.deals.v1 import crm_pb2

from services.common.blobs import BlobStore, StoredBlob
from services.common.errors import DomainError, ValidationFailed
from services.common.grpc_client import ServiceUnavailable, call
from services.intake.mime import MalformedMail, parse

log = logging.getLogger(__name__)

OK = "250 2.0.0 OK: received"
RETRY = "451 4.3.0 The CRM is not answering; try again later"


async def _once(data: bytes) -> AsyncIterator[bytes]:
    stream = io.BytesIO(data)
    while chunk := stream.read(256 * 1024):
        yield chunk


class IntakeHandler:
    """aiosmtpd handler: every recipient is accepted, DATA does the work."""

    def __init__(self, crm: Any, blobs: BlobStore, *, max_bytes: int, timeout: float) -> None:
        self._crm = crm
        self._blobs = blobs
        self._max_bytes = max_bytes
        self._timeout = timeout

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > self._max_bytes:  # aiosmtpd's own limit answers 552 first; belt and braces
            return "552 5.3.4 Message too big"
        try:
            mail = parse(raw)
        except MalformedMail as exc:
            log.warning("mail refused: %s", exc, extra={"peer": str(session.peer)})
            return f"554 5.6.0 Malformed message: {exc}"
        stored: list[tuple[Any, StoredBlob]] = []
        try:
            for part in mail.attachments:
                blob = await self._blobs.put(_once(part.data), max_bytes=self._max_bytes)
                stored.append((part, blob))
            request = crm_pb2.IngestEmailRequest(
                message_id=mail.message_id,
                sender=mail.sender,
                sender_name=mail.sender_name,
                subject=mail.subject,
                text=mail.text,
                in_reply_to=list(mail.references),
                size=len(raw),
                attachments=[
                    crm_pb2.MailAttachment(
                        name=part.name,
                        content_type=part.content_type,
                        size=blob.size,
                        sha256=blob.sha256,
                        storage_key=blob.key,
                    )
                    for part, blob in stored
                ],
            )
            record = await call(self._crm.IngestEmail, request, timeout=self._timeout)
        except ServiceUnavailable as exc:
            # The record may have committed with its answer lost: its files would point at
            # these copies, so they stay (the retry's own copies go as a duplicate's do).
            log.warning("mail deferred: %s", exc, extra={"message_id": mail.message_id})
            return RETRY
        except ValidationFailed as exc:
            await self._forget(stored)
            if {p.field for p in exc.problems} & {"pipeline_id", "responsible_id"}:
                # the CRM is not set up for mail yet: keep it at the sender's until it is
                log.error("mail deferred: %s", exc.message, extra={"message_id": mail.message_id})
                return f"451 4.3.5 The CRM is not ready for mail: {exc.message}"[:500]
            log.warning("mail refused: %s", exc.message, extra={"message_id": mail.message_id})
            return f"550 5.7.1 Not accepted: {exc.message}"[:500]
        except DomainError as exc:
            await self._forget(stored)
            log.warning("mail refused: %s", exc.message, extra={"message_id": mail.message_id})
            return f"550 5.7.1 Not accepted: {exc.message}"[:500]
        except BaseException:
            await self._forget(stored)
            raise
        if record.duplicate or record.outcome == "excluded":
            await self._forget(stored)  # nothing refers to these copies
        log.info(
            "mail %s: %s",
            record.outcome if not record.duplicate else "duplicate",
            record.reason,
            extra={"message_id": mail.message_id, "lead_id": record.lead_id},
        )
        return OK

    async def _forget(self, stored: list[tuple[Any, StoredBlob]]) -> None:
        for _, blob in stored:
            try:
                await self._blobs.delete(blob.key)
            except OSError:
                log.warning("could not delete blob %s", blob.key, exc_info=True)
