"""Leads in lead funnels: create, list, read, change, move (a spam stage excludes the
contact), convert into a deal, and the lead's timeline."""

from __future__ import annotations

from typing import Annotated

from dealflow.deals.v1 import crm_pb2
from fastapi import APIRouter, Header, Query

from services.common.protoconv import to_struct
from services.gateway.deps import Crm, CurrentUser
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.routes.deals import expected_version
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.crm import (
    Converted,
    LeadConvert,
    LeadEntryOut,
    LeadIn,
    LeadMove,
    LeadOut,
    LeadPatch,
)

router = APIRouter(prefix=API_PREFIX + "/leads", tags=["leads"], responses=COMMON_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=200)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="the lead version")]


@router.post("", status_code=201, responses=responses(403, 404))
async def create_lead(body: LeadIn, _: CurrentUser, crm: Crm) -> LeadOut:
    request = crm_pb2.CreateLeadRequest(
        pipeline_id=str(body.pipeline_id),
        title=body.title,
        contact_id=str(body.contact_id or ""),
        company_id=str(body.company_id or ""),
        source=body.source or "",
        responsible_id=str(body.responsible_id or ""),
        fields=to_struct(body.fields),
        stage_id=str(body.stage_id or ""),
    )
    return LeadOut.of(await crm.CreateLead(request))


@router.get("")
async def list_leads(
    _: CurrentUser,
    crm: Crm,
    pipeline_id: RecordId | None = None,
    stage_id: RecordId | None = None,
    contact_id: RecordId | None = None,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: str = "",
    limit: Limit = 50,
) -> Page[LeadOut]:
    reply = await crm.ListLeads(
        crm_pb2.ListLeadsRequest(
            pipeline_id=str(pipeline_id or ""),
            stage_id=str(stage_id or ""),
            contact_id=str(contact_id or ""),
            q=q,
            cursor=cursor,
            limit=limit,
        )
    )
    return Page(
        items=[LeadOut.of(lead) for lead in reply.leads],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.get("/{lead_id}", responses=responses(404))
async def get_lead(lead_id: int, _: CurrentUser, crm: Crm) -> LeadOut:
    return LeadOut.of(await crm.GetLead(crm_pb2.GetLeadRequest(id=str(lead_id))))


@router.patch("/{lead_id}", responses=responses(403, 404, 409))
async def update_lead(
    lead_id: int, body: LeadPatch, _: CurrentUser, crm: Crm, if_match: IfMatch = None
) -> LeadOut:
    """Change a lead; with `If-Match`, a stale version is refused (409)."""
    present = body.model_fields_set - {"fields"}
    request = crm_pb2.UpdateLeadRequest(
        id=str(lead_id),
        expected_version=expected_version(if_match),
        set_fields=sorted(present),
        title=body.title or "",
        source=body.source or "",
        contact_id=str(body.contact_id or ""),
        company_id=str(body.company_id or ""),
        responsible_id=str(body.responsible_id or ""),
        fields=to_struct(body.fields or {}),
    )
    return LeadOut.of(await crm.UpdateLead(request))


@router.post("/{lead_id}/move", responses=responses(403, 404, 409))
async def move_lead(
    lead_id: int, body: LeadMove, _: CurrentUser, crm: Crm, if_match: IfMatch = None
) -> LeadOut:
    """Move a lead within its funnel; a 422 names every field the stage requires that is
    empty. Into a `spam` stage, the contact's e-mails and phones are excluded."""
    request = crm_pb2.MoveLeadRequest(
        id=str(lead_id),
        stage_id=str(body.stage_id),
        expected_version=expected_version(if_match),
        comment=body.comment or "",
    )
    return LeadOut.of(await crm.MoveLead(request))


@router.post("/{lead_id}/convert", status_code=201, responses=responses(403, 404, 409))
async def convert_lead(
    lead_id: int, _: CurrentUser, crm: Crm, body: LeadConvert | None = None
) -> Converted:
    """Create the deal (title, contact, company and the fields its pipeline has by code),
    link lead and deal both ways and close the lead in its funnel's first `won` stage."""
    body = body or LeadConvert()
    reply = await crm.ConvertLead(
        crm_pb2.ConvertLeadRequest(
            id=str(lead_id),
            pipeline_id=str(body.pipeline_id or ""),
            stage_id=str(body.stage_id or ""),
            responsible_id=str(body.responsible_id or ""),
        )
    )
    return Converted(deal_id=int(reply.deal_id), lead=LeadOut.of(reply.lead))


@router.get("/{lead_id}/timeline", responses=responses(404))
async def lead_timeline(
    lead_id: int, _: CurrentUser, crm: Crm, cursor: str = "", limit: Limit = 50
) -> Page[LeadEntryOut]:
    reply = await crm.GetLeadTimeline(
        crm_pb2.GetLeadTimelineRequest(lead_id=str(lead_id), cursor=cursor, limit=limit)
    )
    return Page(
        items=[LeadEntryOut.of(e) for e in reply.entries],
        next_cursor=cursor_or_none(reply.next_cursor),
    )
