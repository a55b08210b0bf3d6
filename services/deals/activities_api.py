"""gRPC servicer of ActivitiesService (a third service of the deals process): mapping only.
Calls without an actor are the worker's (reminders, alert checks)."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import activities_pb2 as pb
from dealflow.deals.v1 import activities_pb2_grpc as pb_grpc

from services.common.access import Permission
from services.common.errors import FieldProblem, ValidationFailed
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import from_struct, from_timestamp, to_struct, to_timestamp
from services.deals.activities_service import RECORDS, ActivitiesService, NewActivity
from services.deals.alerts_service import AlertsService
from services.deals.domain.activities import Activity
from services.deals.reminder_plans_service import ReminderPlansService
from services.deals.service import DealsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def activity_pb(a: Activity) -> pb.Activity:
    return pb.Activity(
        id=str(a.id),
        kind=a.kind,
        status=a.status,
        deal_id=str(a.deal_id or ""),
        lead_id=str(a.lead_id or ""),
        contact_id=str(a.contact_id or ""),
        assignee_id=str(a.assignee_id),
        due_at=to_timestamp(a.due_at),
        done_at=to_timestamp(a.done_at),
        subject=a.subject,
        outcome=a.outcome,
        notes=a.notes,
        plan_id=str(a.plan_id or ""),
        created_by=str(a.created_by or ""),
        created_at=to_timestamp(a.created_at),
    )


def _record(request: Any) -> tuple[str, int]:
    """The one record a request names (deal_id, lead_id or contact_id)."""
    given = {r: getattr(request, f"{r}_id", "") for r in RECORDS}
    named = [(r, value) for r, value in given.items() if value]
    if len(named) != 1:
        raise ValidationFailed(FieldProblem("deal_id", "name one deal, lead or contact"))
    record, value = named[0]
    return record, parse_id(value, f"{record}_id")


class ActivitiesApi(pb_grpc.ActivitiesServiceServicer):  # type: ignore[misc]
    def __init__(self, deals: DealsService) -> None:
        self._activities = ActivitiesService(deals)
        self._plans = ReminderPlansService(self._activities)
        self._alerts = AlertsService(deals)
        self._access = deals.access

    async def CreateActivity(self, request: pb.CreateActivityRequest, context: Ctx) -> pb.Activity:
        record, record_id = _record(request)
        made = await self._activities.create(
            actor_id=actor_id(context),
            record=record,
            record_id=record_id,
            new=NewActivity(
                kind=request.kind,
                status=request.status or "planned",
                assignee_id=optional_id(request.assignee_id, "assignee_id"),
                due_at=from_timestamp(request.due_at, present=request.HasField("due_at")),
                done_at=from_timestamp(request.done_at, present=request.HasField("done_at")),
                subject=request.subject,
                outcome=request.outcome,
                notes=request.notes,
            ),
            idempotency_key=request.idempotency_key,
        )
        return activity_pb(made)

    async def GetActivity(self, request: pb.GetActivityRequest, context: Ctx) -> pb.Activity:
        found = await self._activities.get(
            actor_id=actor_id(context), activity_id=parse_id(request.id, "id")
        )
        return activity_pb(found)

    async def CompleteActivity(
        self, request: pb.CompleteActivityRequest, context: Ctx
    ) -> pb.Activity:
        done = await self._activities.complete(
            actor_id=actor_id(context),
            activity_id=parse_id(request.id, "id"),
            outcome=request.outcome,
            notes=request.notes,
        )
        return activity_pb(done)

    async def ListActivities(
        self, request: pb.ListActivitiesRequest, context: Ctx
    ) -> pb.ListActivitiesResponse:
        if request.next_of_deals:
            ids = [parse_id(d, "next_of_deals") for d in request.next_of_deals]
            found = await self._activities.next_of_deals(ids)
            return pb.ListActivitiesResponse(activities=[activity_pb(a) for a in found.values()])
        where: dict[str, int] = {}
        if request.assignee_id:
            where["assignee_id"] = parse_id(request.assignee_id, "assignee_id")
        else:
            record, record_id = _record(request)
            where[f"{record}_id"] = record_id
        rows = await self._activities.list_activities(
            actor_id=actor_id(context),
            where=where,
            status=request.status,
            limit=clamp_limit(request.limit),
        )
        return pb.ListActivitiesResponse(activities=[activity_pb(a) for a in rows])

    async def CreatePlan(self, request: pb.CreatePlanRequest, context: Ctx) -> pb.ReminderPlan:
        plan = await self._plans.create(
            actor_id=actor_id(context),
            raw=from_struct(request.plan),
            idempotency_key=request.idempotency_key,
        )
        return pb.ReminderPlan(plan=to_struct(plan))

    async def UpdatePlan(self, request: pb.UpdatePlanRequest, context: Ctx) -> pb.ReminderPlan:
        plan = await self._plans.update(
            actor_id=actor_id(context),
            plan_id=parse_id(request.id, "id"),
            changes=from_struct(request.changes),
        )
        return pb.ReminderPlan(plan=to_struct(plan))

    async def GetPlan(self, request: pb.GetPlanRequest, context: Ctx) -> pb.ReminderPlan:
        plan = await self._plans.get(actor_id=actor_id(context), plan_id=parse_id(request.id, "id"))
        return pb.ReminderPlan(plan=to_struct(plan))

    async def ListPlans(self, request: pb.ListPlansRequest, context: Ctx) -> pb.ListPlansResponse:
        record, record_id = _record(request)
        plans = await self._plans.list_plans(
            actor_id=actor_id(context), where={f"{record}_id": record_id}
        )
        return pb.ListPlansResponse(plans=[to_struct(p) for p in plans])

    async def _internal(self, context: Ctx) -> None:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)

    async def CreateReminder(self, request: pb.CreateReminderRequest, context: Ctx) -> pb.Activity:
        await self._internal(context)
        made = await self._plans.create_reminder(
            plan_id=parse_id(request.plan_id, "plan_id"),
            channel=request.channel,
            due_at=from_timestamp(request.due_at) or _missing("due_at"),
            idempotency_key=request.idempotency_key,
        )
        return activity_pb(made) if made is not None else pb.Activity()

    async def CheckAlerts(self, request: pb.CheckAlertsRequest, context: Ctx) -> pb.Alerts:
        await self._internal(context)
        alerts = await self._alerts.check(
            check=request.check,
            now=from_timestamp(request.now) or _missing("now"),
            stale_days=request.stale_days,
            grace_hours=request.grace_hours,
        )
        return pb.Alerts(alerts=[to_struct(a) for a in alerts])

    async def AlertTimes(
        self, request: pb.AlertTimesRequest, context: Ctx
    ) -> pb.AlertTimesResponse:
        await self._internal(context)
        digest, end_of_day = await self._alerts.times(
            now=from_timestamp(request.now) or _missing("now"), digest_at=request.digest_at
        )
        return pb.AlertTimesResponse(
            digest_at=to_timestamp(digest), end_of_day=to_timestamp(end_of_day)
        )

    async def FirstStage(
        self, request: pb.FirstStageRequest, context: Ctx
    ) -> pb.FirstStageResponse:
        stages = await self._alerts.first_stage(actor_id=actor_id(context))
        return pb.FirstStageResponse(stages=[to_struct(s) for s in stages])


def _missing(name: str) -> Any:
    raise ValidationFailed(FieldProblem(name, "is required"))


def register_activities(server: grpc.aio.Server, deals: DealsService) -> str:
    """Add ActivitiesService next to DealsService; its full name."""
    pb_grpc.add_ActivitiesServiceServicer_to_server(ActivitiesApi(deals), server)
    return str(pb.DESCRIPTOR.services_by_name["ActivitiesService"].full_name)
