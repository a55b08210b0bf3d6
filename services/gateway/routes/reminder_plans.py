"""Reminder plans (SN-3): per client (a contact) or per deal, the needs list and how often
to write, call and meet; the plan's workflow creates each next activity when it is due,
until the plan is stopped (`PATCH {"status": "stopped"}`)."""

from __future__ import annotations

from dealflow.deals.v1 import activities_pb2 as pb
from fastapi import APIRouter

from services.common.protoconv import to_struct
from services.gateway.deps import Activities, CurrentUser
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.activities import PlanIn, PlanOut, PlanPatch
from services.gateway.schemas.common import RecordId

router = APIRouter(
    prefix=API_PREFIX + "/reminder-plans", tags=["reminder plans"], responses=COMMON_RESPONSES
)


@router.post("", status_code=201, responses=responses(403, 404))
async def create_plan(
    body: PlanIn, _: CurrentUser, activities: Activities, key: CreationKey
) -> PlanOut:
    reply = await activities.CreatePlan(
        pb.CreatePlanRequest(
            plan=to_struct(body.model_dump(exclude_none=True)), idempotency_key=key
        )
    )
    return PlanOut.of(reply.plan)


@router.get("", responses=responses(404))
async def list_plans(
    _: CurrentUser,
    activities: Activities,
    deal_id: RecordId | None = None,
    contact_id: RecordId | None = None,
) -> list[PlanOut]:
    """The plans of one deal or one contact (name one)."""
    reply = await activities.ListPlans(
        pb.ListPlansRequest(deal_id=str(deal_id or ""), contact_id=str(contact_id or ""))
    )
    return [PlanOut.of(p) for p in reply.plans]


@router.get("/{plan_id}", responses=responses(404))
async def get_plan(plan_id: RecordId, _: CurrentUser, activities: Activities) -> PlanOut:
    return PlanOut.of((await activities.GetPlan(pb.GetPlanRequest(id=str(plan_id)))).plan)


@router.patch("/{plan_id}", responses=responses(403, 404))
async def update_plan(
    plan_id: RecordId, body: PlanPatch, _: CurrentUser, activities: Activities
) -> PlanOut:
    """Change the needs or the frequencies (the next due dates are recomputed at once), the
    responsible, or stop the plan."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    reply = await activities.UpdatePlan(
        pb.UpdatePlanRequest(id=str(plan_id), changes=to_struct(changes))
    )
    return PlanOut.of(reply.plan)
