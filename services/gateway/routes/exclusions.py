"""The exclusion list (e-mails, phones, domains nothing comes in from) and the mail intake:
what was received and what became of it, and where new mail goes."""

from __future__ import annotations

from typing import Annotated, Literal

from dealflow.deals.v1 import crm_pb2
from fastapi import APIRouter, Query

from services.gateway.deps import AdminUser, Crm, CurrentUser
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, cursor_or_none
from services.gateway.schemas.crm import (
    ExclusionIn,
    ExclusionOut,
    IntakeMessageOut,
    IntakeSettingsIn,
    IntakeSettingsOut,
)

router = APIRouter(prefix=API_PREFIX, tags=["leads"], responses=COMMON_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("/exclusions", status_code=201, responses=responses(403))
async def create_exclusion(body: ExclusionIn, _: CurrentUser, crm: Crm) -> ExclusionOut:
    """Exclude an address (kept normalised; adding it again answers the first entry)."""
    request = crm_pb2.CreateExclusionRequest(
        kind=body.kind, value=body.value, reason=body.reason or ""
    )
    return ExclusionOut.of(await crm.CreateExclusion(request))


@router.get("/exclusions")
async def list_exclusions(
    _: CurrentUser,
    crm: Crm,
    kind: Literal["email", "phone", "domain"] | None = None,
    q: Annotated[str, Query(max_length=254)] = "",
    cursor: str = "",
    limit: Limit = 50,
) -> Page[ExclusionOut]:
    reply = await crm.ListExclusions(
        crm_pb2.ListExclusionsRequest(kind=kind or "", q=q, cursor=cursor, limit=limit)
    )
    return Page(
        items=[ExclusionOut.of(e) for e in reply.exclusions],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.delete("/exclusions/{exclusion_id}", responses=responses(403, 404))
async def delete_exclusion(exclusion_id: int, _: CurrentUser, crm: Crm) -> ExclusionOut:
    return ExclusionOut.of(
        await crm.DeleteExclusion(crm_pb2.DeleteExclusionRequest(id=str(exclusion_id)))
    )


@router.get("/intake", responses=responses(403))
async def list_intake(
    _: AdminUser, crm: Crm, cursor: str = "", limit: Limit = 50
) -> Page[IntakeMessageOut]:
    """Received mail, newest first, with what became of each message."""
    reply = await crm.ListIntake(crm_pb2.ListIntakeRequest(cursor=cursor, limit=limit))
    return Page(
        items=[IntakeMessageOut.of(m) for m in reply.messages],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.get("/intake/settings", responses=responses(403))
async def get_intake_settings(_: AdminUser, crm: Crm) -> IntakeSettingsOut:
    return IntakeSettingsOut.of(await crm.GetIntakeSettings(crm_pb2.GetIntakeSettingsRequest()))


@router.put("/intake/settings", responses=responses(403))
async def put_intake_settings(body: IntakeSettingsIn, _: AdminUser, crm: Crm) -> IntakeSettingsOut:
    """The lead funnel new mail goes to (its first stage) and who is responsible."""
    request = crm_pb2.IntakeSettings(
        pipeline_id=str(body.pipeline_id or ""), responsible_id=str(body.responsible_id or "")
    )
    return IntakeSettingsOut.of(await crm.PutIntakeSettings(request))
