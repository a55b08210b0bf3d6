"""gRPC methods of the contract registry (mixed into ApprovalsApi)."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.approvals.v1 import approvals_pb2 as pb

from services.approvals.api_mappers import contract_pb
from services.approvals.contracts_service import ContractsService
from services.approvals.domain.contracts import ContractFilter
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import from_timestamp

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class ContractsApi:
    _contracts: ContractsService

    async def PutContractType(self, request: pb.ContractType, context: Ctx) -> pb.ContractType:
        saved = await self._contracts.put_type(
            actor_id=actor_id(context),
            code=request.code,
            name=request.name,
            template_code=request.template_code,
        )
        return pb.ContractType(**saved)

    async def ListContractTypes(
        self, request: pb.ListContractTypesRequest, context: Ctx
    ) -> pb.ListContractTypesResponse:
        types = await self._contracts.list_types()
        return pb.ListContractTypesResponse(types=[pb.ContractType(**t) for t in types])

    async def CreateContract(self, request: pb.CreateContractRequest, context: Ctx) -> pb.Contract:
        values: dict[str, Any] = {
            "type_code": request.type_code,
            "counterparty_kind": request.counterparty_kind,
            "counterparty_name": request.counterparty_name,
            "manager_id": optional_id(request.manager_id, "manager_id"),
        }
        for name in ("number", "amount", "currency", "starts_on", "ends_on", "title"):
            if getattr(request, name):
                values[name] = getattr(request, name)
        contract = await self._contracts.create(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            values=values,
            idempotency_key=request.idempotency_key,
        )
        return contract_pb(contract)

    async def GetContract(self, request: pb.GetContractRequest, context: Ctx) -> pb.Contract:
        contract = await self._contracts.get(
            actor_id=actor_id(context), contract_id=parse_id(request.id, "id")
        )
        return contract_pb(contract)

    async def ListContracts(
        self, request: pb.ListContractsRequest, context: Ctx
    ) -> pb.ListContractsResponse:
        where = ContractFilter(
            type_code=request.type_code,
            counterparty_kind=request.counterparty_kind,
            counterparty=request.counterparty,
            status=request.status,
            manager_id=optional_id(request.manager_id, "manager_id"),
            deal_id=optional_id(request.deal_id, "deal_id"),
            created_from=from_timestamp(
                request.created_from, present=request.HasField("created_from")
            ),
            created_to=from_timestamp(request.created_to, present=request.HasField("created_to")),
        )
        page = await self._contracts.list(
            actor_id=actor_id(context),
            where=where,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListContractsResponse(
            contracts=[contract_pb(c) for c in page.items], next_cursor=page.next_cursor
        )

    async def UpdateContract(self, request: pb.UpdateContractRequest, context: Ctx) -> pb.Contract:
        changes = {name: getattr(request, name) for name in dict.fromkeys(request.set_fields)}
        contract = await self._contracts.update(
            actor_id=actor_id(context), contract_id=parse_id(request.id, "id"), changes=changes
        )
        return contract_pb(contract)

    async def SetContractStatus(
        self, request: pb.SetContractStatusRequest, context: Ctx
    ) -> pb.Contract:
        contract = await self._contracts.set_status(
            actor_id=actor_id(context),
            contract_id=parse_id(request.id, "id"),
            status=request.status,
            request_id=optional_id(request.request_id, "request_id"),
        )
        return contract_pb(contract)

    async def AddContractDocument(
        self, request: pb.AddContractDocumentRequest, context: Ctx
    ) -> pb.Contract:
        contract = await self._contracts.add_document(
            actor_id=actor_id(context),
            contract_id=parse_id(request.contract_id, "contract_id"),
            file_id=parse_id(request.file_id, "file_id"),
            kind=request.kind,
        )
        return contract_pb(contract)
