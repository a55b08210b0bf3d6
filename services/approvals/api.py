"""gRPC servicer of the approvals service: proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.approvals.v1 import approvals_pb2 as pb
from dealflow.approvals.v1 import approvals_pb2_grpc as pb_grpc

from services.approvals.api_contracts import ContractsApi
from services.approvals.api_mappers import decision_pb, request_pb, template_pb
from services.approvals.contracts_service import ContractsService
from services.approvals.domain.requests import Assignment, Decision
from services.approvals.service import ApprovalsService
from services.common.db import utcnow
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import from_struct, from_timestamp

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class ApprovalsApi(ContractsApi, pb_grpc.ApprovalsServiceServicer):  # type: ignore[misc]
    def __init__(self, service: ApprovalsService, contracts: ContractsService) -> None:
        self._service = service
        self._contracts = contracts

    # ---- templates ----
    async def PutTemplate(self, request: pb.PutTemplateRequest, context: Ctx) -> pb.Template:
        template = await self._service.templates.put_template(
            actor_id=actor_id(context),
            code=request.template.code,
            name=request.template.name,
            definition=from_struct(request.template.definition),
        )
        return template_pb(template)

    async def GetTemplate(self, request: pb.GetTemplateRequest, context: Ctx) -> pb.Template:
        return template_pb(await self._service.templates.get_template(code=request.code))

    async def ListTemplates(
        self, request: pb.ListTemplatesRequest, context: Ctx
    ) -> pb.ListTemplatesResponse:
        templates = await self._service.templates.list_templates()
        return pb.ListTemplatesResponse(templates=[template_pb(t) for t in templates])

    async def DeleteTemplate(
        self, request: pb.DeleteTemplateRequest, context: Ctx
    ) -> pb.DeleteTemplateResponse:
        await self._service.templates.delete_template(actor_id=actor_id(context), code=request.code)
        return pb.DeleteTemplateResponse()

    # ---- requests: the chain's writes ----
    async def OpenRequest(self, request: pb.OpenRequestRequest, context: Ctx) -> pb.ApprovalRequest:
        opened = await self._service.open_request(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            template_code=request.template_code,
            workflow_id=request.workflow_id,
            initiator_id=optional_id(request.initiator_id, "initiator_id"),
            title=request.title,
            contract_id=optional_id(request.contract_id, "contract_id"),
        )
        return request_pb(opened)

    async def StartRound(self, request: pb.StartRoundRequest, context: Ctx) -> pb.ApprovalRequest:
        request_id = parse_id(request.request_id, "request_id")
        await self._service.start_round(
            actor_id=actor_id(context), request_id=request_id, number=request.round
        )
        return request_pb(await self._service.get_request(actor_id=None, request_id=request_id))

    async def AssignStep(self, request: pb.AssignStepRequest, context: Ctx) -> pb.ApprovalRequest:
        request_id = parse_id(request.request_id, "request_id")
        items = [
            Assignment(
                round=request.round,
                step_code=request.step_code,
                step_index=request.step_index,
                approver_id=parse_id(a.approver_id, f"assignments[{i}].approver_id"),
                stand_in_id=optional_id(a.stand_in_id, f"assignments[{i}].stand_in_id"),
                task_id=a.task_id,
                status=a.status or "open",
                due_at=from_timestamp(a.due_at, present=a.HasField("due_at")),
            )
            for i, a in enumerate(request.assignments)
        ]
        await self._service.assign_step(
            actor_id=actor_id(context), request_id=request_id, items=items
        )
        return request_pb(await self._service.get_request(actor_id=None, request_id=request_id))

    async def RecordDecision(self, request: pb.RecordDecisionRequest, context: Ctx) -> pb.Decision:
        decision = Decision(
            id=0,
            request_id=parse_id(request.request_id, "request_id"),
            deal_id=0,
            round=request.round,
            step_code=request.step_code,
            approver_id=optional_id(request.approver_id, "approver_id"),
            actor_id=optional_id(request.actor_id, "actor_id"),
            outcome=request.outcome,
            comment=request.comment,
            fields_before=from_struct(request.fields_before),
            fields_after=from_struct(request.fields_after),
            file_ids=list(request.file_ids),
            decided_at=utcnow(),
        )
        recorded = await self._service.record_decision(
            actor_id=actor_id(context),
            decision=decision,
            task_id=request.task_id,
            idempotency_key=request.idempotency_key,
        )
        return decision_pb(recorded)

    async def CloseRound(self, request: pb.CloseRoundRequest, context: Ctx) -> pb.ApprovalRequest:
        request_id = parse_id(request.request_id, "request_id")
        await self._service.close_round(
            actor_id=actor_id(context),
            request_id=request_id,
            number=request.round,
            round_status=request.round_status,
            request_status=request.request_status,
        )
        return request_pb(await self._service.get_request(actor_id=None, request_id=request_id))

    # ---- requests: reads ----
    async def GetRequest(self, request: pb.GetRequestRequest, context: Ctx) -> pb.ApprovalRequest:
        found = await self._service.get_request(
            actor_id=actor_id(context), request_id=parse_id(request.id, "id")
        )
        return request_pb(found)

    async def ListRequests(
        self, request: pb.ListRequestsRequest, context: Ctx
    ) -> pb.ListRequestsResponse:
        page = await self._service.list_requests(
            actor_id=actor_id(context),
            deal_id=optional_id(request.deal_id, "deal_id"),
            assignee_id=optional_id(request.assignee_id, "assignee_id"),
            status=request.status,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListRequestsResponse(
            requests=[request_pb(r) for r in page.items], next_cursor=page.next_cursor
        )


def register(
    server: grpc.aio.Server, service: ApprovalsService, contracts: ContractsService
) -> list[str]:
    pb_grpc.add_ApprovalsServiceServicer_to_server(ApprovalsApi(service, contracts), server)
    return [pb.DESCRIPTOR.services_by_name["ApprovalsService"].full_name]
