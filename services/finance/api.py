"""gRPC servicer of the finance service: proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any

import grpc
from dealflow.finance.v1 import finance_pb2 as pb
from dealflow.finance.v1 import finance_pb2_grpc as pb_grpc

from services.common.ids import parse_id
from services.finance.service import FinanceService


class FinanceApi(pb_grpc.FinanceServiceServicer):  # type: ignore[misc]
    def __init__(self, service: FinanceService) -> None:
        self._service = service

    async def GetDealMoney(
        self, request: pb.GetDealMoneyRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.DealMoney:
        money = await self._service.deal_money(deal_id=parse_id(request.deal_id, "deal_id"))
        percent = money.profit_percent
        return pb.DealMoney(
            deal_id=str(money.deal_id),
            currency=money.currency,
            revenue=str(money.revenue),
            costs=str(money.costs),
            profit=str(money.profit),
            profit_percent="" if percent is None else str(percent),
        )


def register(server: grpc.aio.Server, service: FinanceService) -> list[str]:
    pb_grpc.add_FinanceServiceServicer_to_server(FinanceApi(service), server)
    return [pb.DESCRIPTOR.services_by_name["FinanceService"].full_name]
