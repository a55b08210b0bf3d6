"""Leads, their timeline and the links of deals to contacts, companies and leads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.domain.leads import Lead
from services.deals.domain.pipelines import Semantic
from services.deals.domain.roles import Visible
from services.deals.repository import locked_in_stage, visible_condition
from services.deals.tables import (
    deal_parties,
    file_attachments,
    files,
    lead_timeline,
    leads,
    stages,
)


@dataclass(frozen=True)
class LeadEntry:
    id: int
    lead_id: int
    kind: str
    text: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: datetime


def _values(lead: Lead) -> dict[str, Any]:
    return {
        "pipeline_id": lead.pipeline_id,
        "stage_id": lead.stage_id,
        "title": lead.title,
        "source": lead.source,
        "contact_id": lead.contact_id,
        "company_id": lead.company_id,
        "responsible_id": lead.responsible_id,
        "fields": lead.fields,
        "deal_id": lead.deal_id,
        "version": lead.version,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
        "stage_entered_at": lead.stage_entered_at,
    }


async def insert_lead(conn: AsyncConnection, lead: Lead) -> int:
    query = leads.insert().values(**_values(lead)).returning(leads.c.id)
    return int((await conn.execute(query)).scalar_one())


async def save_lead(conn: AsyncConnection, lead: Lead) -> None:
    await conn.execute(leads.update().where(leads.c.id == lead.id).values(**_values(lead)))


_SELECT = sa.select(leads, stages.c.semantic.label("stage_semantic")).join(
    stages, stages.c.id == leads.c.stage_id
)


async def get_lead(conn: AsyncConnection, lead_id: int, *, for_update: bool = False) -> Lead | None:
    query = (locked_in_stage(leads) if for_update else _SELECT).where(leads.c.id == lead_id)
    row = (await conn.execute(query)).first()
    return _lead(row) if row else None


@dataclass(frozen=True)
class LeadFilter:
    pipeline_id: int | None = None
    stage_id: int | None = None
    contact_id: int | None = None
    q: str = ""
    open_only: bool = False
    visible: Visible | None = None


async def list_leads(
    conn: AsyncConnection, where: LeadFilter, *, before_id: int | None, limit: int
) -> list[Lead]:
    query = _SELECT.order_by(leads.c.id.desc()).limit(limit)
    for column, value in (
        (leads.c.pipeline_id, where.pipeline_id),
        (leads.c.stage_id, where.stage_id),
        (leads.c.contact_id, where.contact_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.open_only:
        query = query.where(stages.c.semantic == Semantic.IN_PROGRESS.value)
    if where.visible is not None:
        query = query.where(visible_condition(where.visible, leads))
    if where.q.strip():
        escaped = where.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            sa.or_(
                leads.c.title.ilike(pattern, escape="\\"),
                leads.c.source.ilike(pattern, escape="\\"),
            )
        )
    if before_id is not None:
        query = query.where(leads.c.id < before_id)
    return [_lead(r) for r in (await conn.execute(query)).all()]


def _lead(row: sa.Row[Any]) -> Lead:
    return Lead(
        id=row.id,
        pipeline_id=row.pipeline_id,
        stage_id=row.stage_id,
        title=row.title,
        source=row.source,
        contact_id=row.contact_id,
        company_id=row.company_id,
        responsible_id=row.responsible_id,
        fields=dict(row.fields),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        stage_entered_at=row.stage_entered_at,
        deal_id=row.deal_id,
        stage_semantic=Semantic(row.stage_semantic),
        waiting_runs=row.waiting_runs,
    )


async def move_contact_refs(conn: AsyncConnection, *, from_id: int, to_id: int) -> None:
    """Every lead and deal of contact `from_id` now belongs to `to_id` (a merge)."""
    await conn.execute(leads.update().where(leads.c.contact_id == from_id).values(contact_id=to_id))
    moved = sa.select(deal_parties.c.deal_id).where(
        deal_parties.c.kind == "contact", deal_parties.c.target_id == from_id
    )
    deal_ids = [r.deal_id for r in (await conn.execute(moved)).all()]
    if deal_ids:
        await conn.execute(
            insert(deal_parties)
            .values([{"deal_id": d, "kind": "contact", "target_id": to_id} for d in deal_ids])
            .on_conflict_do_nothing()
        )
        await conn.execute(
            deal_parties.delete().where(
                deal_parties.c.kind == "contact", deal_parties.c.target_id == from_id
            )
        )


async def move_lead_files(conn: AsyncConnection, *, lead_id: int, deal_id: int) -> None:
    """A converted lead's files become the deal's (and are listed with it)."""
    moved = files.update().where(files.c.lead_id == lead_id).values(deal_id=deal_id)
    ids = [r.id for r in (await conn.execute(moved.returning(files.c.id))).all()]
    if ids:
        rows = [{"file_id": i, "kind": "deal", "target_id": str(deal_id)} for i in ids]
        await conn.execute(insert(file_attachments).values(rows).on_conflict_do_nothing())


# ---- timeline ----
async def add_entry(
    conn: AsyncConnection,
    *,
    lead_id: int,
    kind: str,
    text: str,
    actor_id: int | None,
    data: dict[str, Any],
    at: datetime,
) -> None:
    await conn.execute(
        lead_timeline.insert().values(
            lead_id=lead_id, kind=kind, text=text, actor_id=actor_id, data=data, created_at=at
        )
    )


async def list_entries(
    conn: AsyncConnection, lead_id: int, *, before_id: int | None, limit: int
) -> list[LeadEntry]:
    query = (
        sa.select(lead_timeline)
        .where(lead_timeline.c.lead_id == lead_id)
        .order_by(lead_timeline.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(lead_timeline.c.id < before_id)
    return [
        LeadEntry(r.id, r.lead_id, r.kind, r.text, r.actor_id, dict(r.data), r.created_at)
        for r in (await conn.execute(query)).all()
    ]


# ---- deal links ----
async def link_deal(conn: AsyncConnection, deal_id: int, kind: str, target_id: int) -> None:
    """One contact, company or lead of a deal; a company replaces the one before."""
    if kind == "company":
        await conn.execute(
            deal_parties.delete().where(
                deal_parties.c.deal_id == deal_id, deal_parties.c.kind == kind
            )
        )
    await conn.execute(
        insert(deal_parties)
        .values(deal_id=deal_id, kind=kind, target_id=target_id)
        .on_conflict_do_nothing()
    )


async def deal_parties_of(conn: AsyncConnection, deal_id: int) -> dict[str, list[int]]:
    query = (
        sa.select(deal_parties)
        .where(deal_parties.c.deal_id == deal_id)
        .order_by(deal_parties.c.kind, deal_parties.c.target_id)
    )
    found: dict[str, list[int]] = {"contact": [], "company": [], "lead": []}
    for row in (await conn.execute(query)).all():
        found.setdefault(row.kind, []).append(row.target_id)
    return found
