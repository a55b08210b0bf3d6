"""Mail intake: each received message, once per Message-ID, becomes a lead with a new
contact, or a timeline entry (and files) of the lead or deal it belongs to, or nothing at
all when its sender is excluded. Everything of one message commits together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.errors import FieldProblem, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.deals import contacts_repository, history_repository, leads_repository, repository
from services.deals import intake_repository as repo
from services.deals.domain.contacts import normalize_email
from services.deals.domain.exclusions import keys_of
from services.deals.domain.leads import Lead
from services.deals.domain.pipelines import Kind, Pipeline, Semantic
from services.deals.intake_repository import IntakeRecord
from services.deals.leads_repository import LeadFilter
from services.deals.leads_service import LeadsService
from services.deals.pipeline_service import pipeline_of
from services.deals.service import require_active_user
from services.deals.tables import (
    deal_parties,
    deals,
    file_attachments,
    files,
    outbox,
    stages,
    users,
)

log = logging.getLogger(__name__)
MAX_TEXT = 10_000


@dataclass(frozen=True)
class MailFile:
    name: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


@dataclass(frozen=True)
class Mail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    in_reply_to: tuple[str, ...]
    size: int
    attachments: tuple[MailFile, ...]


class IntakeService:
    def __init__(self, leads: LeadsService) -> None:
        self._leads = leads
        self._engine = leads._engine
        self._now = leads._now

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def ingest(self, mail: Mail) -> IntakeRecord:
        """Store one message and what became of it (a repeat answers the first record)."""
        sender = normalize_email(mail.sender)
        if not sender:
            raise ValidationFailed(FieldProblem("sender", "is not an e-mail address"))
        if not mail.message_id.strip() or len(mail.message_id) > 900:
            raise ValidationFailed(FieldProblem("message_id", "is required (up to 900 chars)"))
        now = self._now()
        async with self._uow() as uow:
            claimed = await repo.claim_message(
                uow.conn,
                {
                    "message_id": mail.message_id.strip(),
                    "sender": sender,
                    "subject": mail.subject[:1000],
                    "size": mail.size,
                    "outcome": "pending",
                    "file_ids": [],
                    "received_at": now,
                },
            )
            if claimed is None:
                first = await repo.message_by_id(uow.conn, mail.message_id.strip())
                assert first is not None
                return IntakeRecord(**{**first.__dict__, "duplicate": True})
            excluded = await repo.matching(uow.conn, keys_of(emails=(sender,)))
            if excluded is not None:
                reason = f"sender excluded ({excluded.kind} {excluded.value})"
                log.info("mail dropped: %s", reason, extra={"message_id": mail.message_id})
                return await repo.save_outcome(
                    uow.conn, claimed.id, {"outcome": "excluded", "reason": reason}
                )
            outcome = await self._place(uow, mail, sender)
            file_ids = [
                await _insert_file(
                    uow.conn,
                    f,
                    lead_id=outcome.get("lead_id"),
                    deal_id=outcome.get("deal_id"),
                    now=now,
                )
                for f in mail.attachments
            ]
            await self._note(uow.conn, mail, sender, outcome, file_ids, now)
            outcome["file_ids"] = file_ids
            return await repo.save_outcome(uow.conn, claimed.id, outcome)

    async def _place(self, uow: UnitOfWork, mail: Mail, sender: str) -> dict[str, Any]:
        """Where the message goes: its thread, the sender's open lead or deal, or a new lead."""
        conn = uow.conn
        thread = await repo.thread_of(conn, list(mail.in_reply_to))
        if thread is not None:
            lead = await leads_repository.get_lead(conn, thread.lead_id) if thread.lead_id else None
            if lead is not None and lead.deal_id is not None:
                return _attached_deal(
                    lead.deal_id, thread.contact_id, "a reply in a converted lead's thread"
                )
            if lead is not None:
                return _attached_lead(lead, "a reply in its thread")
            if thread.deal_id is not None:
                return _attached_deal(thread.deal_id, thread.contact_id, "a reply in its thread")
        known = await contacts_repository.contacts_with(conn, emails=(sender,), phones=())
        if known:
            contact = known[0]
            open_leads = await leads_repository.list_leads(
                conn, LeadFilter(contact_id=contact.id, open_only=True), before_id=None, limit=1
            )
            if open_leads:
                return _attached_lead(open_leads[0], "the sender's open lead")
            deal_id = await _open_deal_of(conn, contact.id)
            if deal_id is not None:
                return _attached_deal(deal_id, contact.id, "the sender's open deal")
        funnel, responsible = await self._destination(conn)
        if known:
            contact = known[0]
        else:
            values: dict[str, Any] = {
                "name": (mail.sender_name.strip() or sender)[:200],
                "emails": (sender,),
                "phones": (),
                "company_id": None,
                "position": "",
                "fields": {},
            }
            contact = await self._leads.contacts.insert_contact(uow, values, responsible, None)
        lead = await self._leads.insert_lead(
            uow,
            funnel,
            title=(mail.subject.strip() or f"E-mail from {sender}")[:200],
            source="email",
            contact_id=contact.id,
            company_id=contact.company_id,
            responsible_id=responsible,
            fields={},
            stage_id=None,
            actor_id=None,
        )
        return {
            "outcome": "lead_created",
            "lead_id": lead.id,
            "contact_id": contact.id,
            "reason": "",
        }

    async def _destination(self, conn: AsyncConnection) -> tuple[Pipeline, int]:
        pipeline_id, responsible_id = await repo.get_settings(conn)
        funnel = await intake_funnel(conn, pipeline_id)
        if responsible_id is None:
            query = (
                sa.select(users.c.id)
                .where(users.c.active, sa.literal("admin") == sa.any_(users.c.roles))
                .order_by(users.c.id)
                .limit(1)
            )
            responsible_id = (await conn.execute(query)).scalar()
        if responsible_id is None:
            raise ValidationFailed(FieldProblem("responsible_id", "no one to hand mail to yet"))
        return funnel, int(responsible_id)

    async def _note(
        self,
        conn: AsyncConnection,
        mail: Mail,
        sender: str,
        outcome: dict[str, Any],
        file_ids: list[int],
        now: Any,
    ) -> None:
        data = {
            "message_id": mail.message_id,
            "from": sender,
            "subject": mail.subject,
            "file_ids": [str(f) for f in file_ids],
        }
        text = f"{mail.subject}\n\n{mail.text}"[:MAX_TEXT]
        if outcome.get("lead_id") is not None:
            await leads_repository.add_entry(
                conn,
                lead_id=outcome["lead_id"],
                kind="email",
                text=text,
                actor_id=None,
                data=data,
                at=now,
            )
        else:
            await history_repository.add_entry(
                conn,
                deal_id=outcome["deal_id"],
                kind="email",
                text=text,
                actor_id=None,
                data=data,
                at=now,
            )

    async def list_messages(
        self, *, actor_id: int | None, cursor: str, limit: int
    ) -> Page[IntakeRecord]:
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            await self._require_admin(conn, actor_id)
            rows = await repo.list_messages(conn, before_id=before, limit=limit + 1)
        return Page.of(rows, limit, key=lambda r: r.id)

    async def settings(self, *, actor_id: int | None) -> tuple[int | None, int | None]:
        async with self._engine.connect() as conn:
            await self._require_admin(conn, actor_id)
            return await repo.get_settings(conn)

    async def put_settings(
        self, *, actor_id: int | None, pipeline_id: int | None, responsible_id: int | None
    ) -> tuple[int | None, int | None]:
        async with self._uow() as uow:
            await self._require_admin(uow.conn, actor_id)
            if pipeline_id is not None:
                await intake_funnel(uow.conn, pipeline_id)
            if responsible_id is not None:
                await require_active_user(uow.conn, responsible_id)
            await repo.put_settings(
                uow.conn, pipeline_id=pipeline_id, responsible_id=responsible_id, at=self._now()
            )
            return pipeline_id, responsible_id

    async def _require_admin(self, conn: AsyncConnection, actor_id: int | None) -> None:
        guard = await self._leads.contacts.guard(conn, actor_id)
        if guard is not None:
            guard.access.require(Permission.ORG_ADMIN, "only an admin sees the mail intake")


def _attached_lead(lead: Lead, why: str) -> dict[str, Any]:
    return {
        "outcome": "attached_to_lead",
        "lead_id": lead.id,
        "contact_id": lead.contact_id,
        "reason": why,
    }


def _attached_deal(deal_id: int, contact_id: int | None, why: str) -> dict[str, Any]:
    return {
        "outcome": "attached_to_deal",
        "deal_id": deal_id,
        "contact_id": contact_id,
        "reason": why,
    }


async def intake_funnel(conn: AsyncConnection, pipeline_id: int | None) -> Pipeline:
    """The funnel mail goes to: the one set, else the first lead funnel."""
    if pipeline_id is not None:
        funnel = await pipeline_of(conn, pipeline_id)
        if funnel.kind is not Kind.LEAD:
            raise ValidationFailed(FieldProblem("pipeline_id", "is not a lead funnel"))
        return funnel
    for pipeline in await repository.load_pipelines(conn):
        if pipeline.kind is Kind.LEAD:
            return pipeline
    raise ValidationFailed(FieldProblem("pipeline_id", "there is no lead funnel for mail yet"))


async def _open_deal_of(conn: AsyncConnection, contact_id: int) -> int | None:
    query = (
        sa.select(deals.c.id)
        .join(
            deal_parties,
            sa.and_(deal_parties.c.deal_id == deals.c.id, deal_parties.c.kind == "contact"),
        )
        .join(stages, stages.c.id == deals.c.stage_id)
        .where(
            deal_parties.c.target_id == contact_id, stages.c.semantic == Semantic.IN_PROGRESS.value
        )
        .order_by(deals.c.id.desc())
        .limit(1)
    )
    found = (await conn.execute(query)).scalar()
    return None if found is None else int(found)


async def _insert_file(
    conn: AsyncConnection, f: MailFile, *, lead_id: int | None, deal_id: int | None, now: Any
) -> int:
    file_id = int(
        (
            await conn.execute(
                files.insert()
                .values(
                    deal_id=deal_id,
                    lead_id=lead_id,
                    name=f.name,
                    content_type=f.content_type,
                    size=f.size,
                    sha256=f.sha256,
                    storage_key=f.storage_key,
                    uploaded_by=None,
                    created_at=now,
                )
                .returning(files.c.id)
            )
        ).scalar_one()
    )
    if deal_id is not None:
        await conn.execute(
            file_attachments.insert().values(file_id=file_id, kind="deal", target_id=str(deal_id))
        )
    return file_id
