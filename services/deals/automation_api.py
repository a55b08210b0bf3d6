"""gRPC servicer of AutomationService (a second service of the deals process): mapping
only. Calls without an actor are the worker's; the calendar and dry runs are for admins."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import automation_pb2 as pb
from dealflow.deals.v1 import automation_pb2_grpc as pb_grpc

from services.common.access import Permission
from services.common.errors import FieldProblem, ValidationFailed
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import from_struct, to_struct, to_timestamp
from services.deals.access_service import AccessService
from services.deals.automation_service import AutomationService, PlanAsk
from services.deals.service import DealsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class AutomationApi(pb_grpc.AutomationServiceServicer):  # type: ignore[misc]
    def __init__(self, service: AutomationService, access: AccessService) -> None:
        self._service = service
        self._access = access

    async def _admin(self, context: Ctx) -> None:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)

    async def ListRuleVersions(
        self, request: pb.ListRuleVersionsRequest, context: Ctx
    ) -> pb.ListRuleVersionsResponse:
        await self._admin(context)
        rows = await self._service.versions(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            rule_id=parse_id(request.rule_id, "rule_id"),
        )
        return pb.ListRuleVersionsResponse(
            versions=[
                pb.RuleVersion(
                    rule_id=str(r.rule_id),
                    version=r.version,
                    definition=to_struct(r.definition),
                    actor_id=str(r.actor_id or ""),
                    created_at=to_timestamp(r.created_at),
                )
                for r in rows
            ]
        )

    async def PlanRun(self, request: pb.PlanRunRequest, context: Ctx) -> pb.RunPlan:
        await self._admin(context)
        plan = await self._service.plan_run(
            workflow_id=request.workflow_id,
            deal_id=None if request.lead_id else parse_id(request.deal_id, "deal_id"),
            lead_id=optional_id(request.lead_id, "lead_id"),
            rule_id=parse_id(request.rule_id, "rule_id"),
            rule_version=request.rule_version,
            event_id=request.event_id,
            trigger=request.trigger,
        )
        return pb.RunPlan(plan=to_struct(plan))

    async def PlanRuns(self, request: pb.PlanRunsRequest, context: Ctx) -> pb.RunPlans:
        await self._admin(context)
        if not request.runs:
            return pb.RunPlans()
        first = request.runs[0]
        if any((r.deal_id, r.lead_id) != (first.deal_id, first.lead_id) for r in request.runs):
            raise ValidationFailed(FieldProblem("runs", "must all be of one deal or lead"))
        plans = await self._service.plan_runs(
            deal_id=None if first.lead_id else parse_id(first.deal_id, "runs[0].deal_id"),
            lead_id=optional_id(first.lead_id, "runs[0].lead_id"),
            asks=[
                PlanAsk(
                    workflow_id=r.workflow_id,
                    rule_id=parse_id(r.rule_id, f"runs[{i}].rule_id"),
                    rule_version=r.rule_version,
                    event_id=r.event_id,
                    trigger=r.trigger,
                )
                for i, r in enumerate(request.runs)
            ],
        )
        return pb.RunPlans(plans=[pb.RunPlan(plan=to_struct(p)) for p in plans])

    async def ReplanRun(self, request: pb.ReplanRunRequest, context: Ctx) -> pb.RunPlan:
        await self._admin(context)
        return pb.RunPlan(
            plan=to_struct(await self._service.replan_run(workflow_id=request.workflow_id))
        )

    async def RecordStep(self, request: pb.RecordStepRequest, context: Ctx) -> pb.AutomationRun:
        await self._admin(context)
        run = await self._service.record_step(
            workflow_id=request.workflow_id,
            index=request.index,
            status=request.status,
            detail=request.detail,
            run_status=request.run_status,
            data=from_struct(request.data),
        )
        return pb.AutomationRun(run=to_struct(run))

    async def ListRuns(self, request: pb.ListRunsRequest, context: Ctx) -> pb.ListRunsResponse:
        runs = await self._service.list_runs(
            actor_id=actor_id(context),
            deal_id=None if request.lead_id else parse_id(request.deal_id, "deal_id"),
            lead_id=optional_id(request.lead_id, "lead_id"),
            limit=clamp_limit(request.limit),
            waiting_only=request.waiting_only,
        )
        return pb.ListRunsResponse(runs=[to_struct(r) for r in runs])

    async def DryRun(self, request: pb.DryRunRequest, context: Ctx) -> pb.DryRunResponse:
        await self._admin(context)
        rules = await self._service.dry_run(
            actor_id=actor_id(context),
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            deal_id=None if request.lead_id else parse_id(request.deal_id, "deal_id"),
            lead_id=optional_id(request.lead_id, "lead_id"),
            trigger=from_struct(request.trigger),
        )
        return pb.DryRunResponse(rules=[to_struct(r) for r in rules])

    async def GetCalendar(self, request: pb.GetCalendarRequest, context: Ctx) -> pb.Calendar:
        view, updated_at = await self._service.get_calendar()
        return pb.Calendar(calendar=to_struct(view), updated_at=to_timestamp(updated_at))

    async def PutCalendar(self, request: pb.PutCalendarRequest, context: Ctx) -> pb.Calendar:
        await self._admin(context)
        view, updated_at = await self._service.put_calendar(
            raw=from_struct(request.calendar), actor_id=actor_id(context)
        )
        return pb.Calendar(calendar=to_struct(view), updated_at=to_timestamp(updated_at))

    async def CreateLinkedDeal(
        self, request: pb.CreateLinkedDealRequest, context: Ctx
    ) -> pb.LinkedDeal:
        await self._admin(context)
        deal_id, created = await self._service.create_linked_deal(
            idempotency_key=request.idempotency_key,
            source_deal_id=parse_id(request.source_deal_id, "source_deal_id"),
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            stage_id=optional_id(request.stage_id, "stage_id"),
            title=request.title,
            mapping={k: str(v) for k, v in from_struct(request.fields).items()},
        )
        return pb.LinkedDeal(deal_id=str(deal_id), created=created)


def register_automation(server: grpc.aio.Server, deals: DealsService) -> str:
    """Add AutomationService next to DealsService; its full name."""
    pb_grpc.add_AutomationServiceServicer_to_server(
        AutomationApi(deals.automation, deals.access), server
    )
    return str(pb.DESCRIPTOR.services_by_name["AutomationService"].full_name)
