"""gRPC servicer of the approvals service: proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any

import grpc
from dealflow.approvals.v1 import approvals_pb2 as pb
from dealflow.approvals.v1 import approvals_pb2_grpc as pb_grpc

from services.approvals.service import ApprovalsService
from services.common.ids import optional_id
from services.common.pagination import clamp_limit


class ApprovalsApi(pb_grpc.ApprovalsServiceServicer):  # type: ignore[misc]
    def __init__(self, service: ApprovalsService) -> None:
        self._service = service

    async def ListRequests(
        self, request: pb.ListRequestsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListRequestsResponse:
        page = await self._service.list_requests(
            deal_id=optional_id(request.deal_id, "deal_id"),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListRequestsResponse(
            requests=[
                pb.ApprovalRequest(
                    id=str(r.id),
                    deal_id=str(r.deal_id),
                    template_code=r.template_code,
                    status=r.status,
                )
                for r in page.items
            ],
            next_cursor=page.next_cursor,
        )


def register(server: grpc.aio.Server, service: ApprovalsService) -> list[str]:
    pb_grpc.add_ApprovalsServiceServicer_to_server(ApprovalsApi(service), server)
    return [pb.DESCRIPTOR.services_by_name["ApprovalsService"].full_name]
