"""The contract registry: contract types, contracts created from deals, their statuses and
document versions, and the registry list (filtered, within what the caller may see)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from dealflow.approvals.v1 import approvals_pb2 as apb
from dealflow.deals.v1 import files_pb2
from fastapi import APIRouter, Query

from services.common.errors import FieldProblem
from services.gateway.deps import Approvals, CurrentUser, Files
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import IsoDate, Page, RecordId, cursor_or_none
from services.gateway.schemas.contracts import (
    ContractDocumentIn,
    ContractIn,
    ContractOut,
    ContractPatch,
    ContractStatusIn,
    ContractTypeIn,
    ContractTypeOut,
)

router = APIRouter(prefix=API_PREFIX, tags=["contracts"], responses=COMMON_RESPONSES)


@router.get("/contract-types")
async def list_contract_types(_: CurrentUser, approvals: Approvals) -> Page[ContractTypeOut]:
    reply = await approvals.ListContractTypes(apb.ListContractTypesRequest())
    return Page(
        items=[
            ContractTypeOut(code=t.code, name=t.name, template_code=t.template_code)
            for t in reply.types
        ]
    )


@router.put("/contract-types/{code}", responses=responses(403))
async def put_contract_type(
    code: str, body: ContractTypeIn, _: CurrentUser, approvals: Approvals
) -> ContractTypeOut:
    t = await approvals.PutContractType(
        apb.ContractType(code=code, name=body.name, template_code=body.template_code)
    )
    return ContractTypeOut(code=t.code, name=t.name, template_code=t.template_code)


@router.post("/contracts", status_code=201, responses=responses(403, 404))
async def create_contract(
    body: ContractIn, _: CurrentUser, approvals: Approvals, key: CreationKey
) -> ContractOut:
    """A draft contract of a deal you see; approval starts with the `contract_approval`
    process of the deal (`POST /deals/{id}/processes`)."""
    created = await approvals.CreateContract(
        apb.CreateContractRequest(
            deal_id=str(body.deal_id),
            type_code=body.type_code,
            counterparty_kind=body.counterparty_kind,
            counterparty_name=body.counterparty_name,
            title=body.title,
            number=body.number,
            amount=body.amount or "",
            currency=body.currency,
            starts_on=body.starts_on.isoformat() if body.starts_on else "",
            ends_on=body.ends_on.isoformat() if body.ends_on else "",
            manager_id=str(body.manager_id or ""),
            idempotency_key=key,
        )
    )
    return ContractOut.of(created)


@router.get("/contracts")
async def list_contracts(
    _: CurrentUser,
    approvals: Approvals,
    type_code: str = "",
    counterparty_kind: Literal["client", "supplier", ""] = "",
    counterparty: Annotated[str, Query(description="counterparty name contains")] = "",
    status: str = "",
    manager_id: RecordId | None = None,
    deal_id: RecordId | None = None,
    created_from: IsoDate | None = None,
    created_to: Annotated[IsoDate | None, Query(description="inclusive")] = None,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ContractOut]:
    """The registry, newest first: by type, counterparty, status, manager and period."""
    request = apb.ListContractsRequest(
        type_code=type_code,
        counterparty_kind=counterparty_kind,
        counterparty=counterparty,
        status=status,
        manager_id=str(manager_id or ""),
        deal_id=str(deal_id or ""),
        cursor=cursor,
        limit=limit,
    )
    if created_from is not None:
        request.created_from.FromDatetime(_midnight(created_from))
    if created_to is not None:
        request.created_to.FromDatetime(_midnight(created_to, next_day=True))
    reply = await approvals.ListContracts(request)
    return Page(
        items=[ContractOut.of(c) for c in reply.contracts],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


def _midnight(day: date, *, next_day: bool = False) -> datetime:
    """UTC midnight of the day (of the next day: the period's end is inclusive)."""
    return datetime.combine(day + timedelta(days=1 if next_day else 0), time.min, tzinfo=UTC)


@router.get("/contracts/{contract_id}", responses=responses(404))
async def get_contract(contract_id: int, _: CurrentUser, approvals: Approvals) -> ContractOut:
    return ContractOut.of(await approvals.GetContract(apb.GetContractRequest(id=str(contract_id))))


@router.patch("/contracts/{contract_id}", responses=responses(403, 404, 409))
async def patch_contract(
    contract_id: int, body: ContractPatch, _: CurrentUser, approvals: Approvals
) -> ContractOut:
    changes = body.model_dump(exclude_unset=True)
    request = apb.UpdateContractRequest(id=str(contract_id), set_fields=sorted(changes))
    for name, value in changes.items():
        setattr(request, name, "" if value is None else str(value))
    return ContractOut.of(await approvals.UpdateContract(request))


@router.post("/contracts/{contract_id}/status", responses=responses(403, 404, 409))
async def set_contract_status(
    contract_id: int, body: ContractStatusIn, _: CurrentUser, approvals: Approvals
) -> ContractOut:
    """Mark an approved contract sent (approval statuses belong to the chain)."""
    reply = await approvals.SetContractStatus(
        apb.SetContractStatusRequest(id=str(contract_id), status=body.status)
    )
    return ContractOut.of(reply)


@router.post(
    "/contracts/{contract_id}/documents", status_code=201, responses=responses(403, 404, 409)
)
async def add_contract_document(
    contract_id: int, body: ContractDocumentIn, _: CurrentUser, approvals: Approvals, files: Files
) -> ContractOut:
    """A new document version (a file of the contract's deal, uploaded first); the scan
    signed by both sides makes the contract signed."""
    contract = await approvals.GetContract(apb.GetContractRequest(id=str(contract_id)))
    file = await files.GetFile(files_pb2.GetFileRequest(id=str(body.file_id)))
    if file.deal_id != contract.deal_id:
        problem = FieldProblem("file_id", "must be a file of the contract's deal")
        raise Problem(422, problem.message, errors=[problem])
    reply = await approvals.AddContractDocument(
        apb.AddContractDocumentRequest(
            contract_id=str(contract_id), file_id=str(body.file_id), kind=body.kind
        )
    )
    attachment = files_pb2.Attachment(kind="contract", id=str(contract_id))
    await files.AttachFile(files_pb2.AttachFileRequest(id=file.id, attachment=attachment))
    return ContractOut.of(reply)
