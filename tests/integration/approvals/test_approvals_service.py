"""The approvals service over gRPC and PostgreSQL: templates with permissions, the chain's
writes (internal only, idempotent, with events in the outbox), reads within visibility,
and the contract registry's statuses, documents and filters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from dealflow.approvals.v1 import approvals_pb2 as pb
from dealflow.approvals.v1 import approvals_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.approvals.tables import outbox
from services.common.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from services.common.grpc_client import call
from services.common.protoconv import from_struct, to_struct
from tests.integration.approvals.conftest import (
    ADMIN,
    APPROVER,
    HEAD,
    HIDDEN_DEAL,
    MANAGER,
    OUTSIDER,
    STAND_IN,
)

pytestmark = pytest.mark.integration

DEFINITION: dict[str, Any] = {
    "steps": [
        {"code": "head", "name": "Head", "approvers": [{"kind": "head"}]},
        {"code": "ceo", "name": "CEO", "approvers": [{"kind": "user", "user_id": "9"}]},
    ]
}


def template(code: str, definition: dict[str, Any] | None = None) -> pb.PutTemplateRequest:
    return pb.PutTemplateRequest(
        template=pb.Template(
            code=code, name="Contract", definition=to_struct(definition or DEFINITION)
        )
    )


async def test_templates_are_data_edited_by_those_allowed(
    stub: pb_grpc.ApprovalsServiceStub,
) -> None:
    code = f"t_{uuid.uuid4().hex[:8]}"
    with pytest.raises(PermissionDenied):
        await call(stub.PutTemplate, template(code), actor=MANAGER)
    bad = {"steps": [{"code": "head", "name": "", "approvers": []}]}
    with pytest.raises(ValidationFailed) as caught:
        await call(stub.PutTemplate, template(code, bad), actor=ADMIN)
    fields = {p.field for p in caught.value.problems}
    assert {"definition.steps[0].name", "definition.steps[0].approvers"} <= fields
    first = await call(stub.PutTemplate, template(code), actor=ADMIN)
    again = await call(stub.PutTemplate, template(code), actor=ADMIN)
    assert (first.version, again.version) == (1, 2)
    got = await call(stub.GetTemplate, pb.GetTemplateRequest(code=code), actor=MANAGER)
    assert [s["code"] for s in from_struct(got.definition)["steps"]] == ["head", "ceo"]
    listed = await call(stub.ListTemplates, pb.ListTemplatesRequest())
    assert code in [t.code for t in listed.templates]
    with pytest.raises(PermissionDenied):
        await call(stub.DeleteTemplate, pb.DeleteTemplateRequest(code=code), actor=MANAGER)
    await call(stub.DeleteTemplate, pb.DeleteTemplateRequest(code=code), actor=ADMIN)
    with pytest.raises(NotFound):
        await call(stub.GetTemplate, pb.GetTemplateRequest(code=code))


async def events(engine: AsyncEngine, kind: str, request_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(outbox).where(outbox.c.type == kind))).all()
    return [r.data for r in rows if r.data.get("request_id") == request_id]


async def test_a_request_keeps_rounds_and_decisions_once_each(
    stub: pb_grpc.ApprovalsServiceStub, engine: AsyncEngine
) -> None:
    workflow_id = f"deal-77/approval-chain/{uuid.uuid4().hex[:8]}"
    opened = pb.OpenRequestRequest(
        deal_id="77", template_code="contract", workflow_id=workflow_id, initiator_id=str(MANAGER)
    )
    with pytest.raises(PermissionDenied):
        await call(stub.OpenRequest, opened, actor=ADMIN)  # the chain's alone, even for admins
    request = await call(stub.OpenRequest, opened)
    assert (await call(stub.OpenRequest, opened)).id == request.id  # a retried activity
    await call(stub.StartRound, pb.StartRoundRequest(request_id=request.id, round=1))
    await call(
        stub.AssignStep,
        pb.AssignStepRequest(
            request_id=request.id,
            round=1,
            step_code="head",
            step_index=0,
            assignments=[
                pb.Assignment(approver_id=str(APPROVER), stand_in_id=str(STAND_IN), task_id="31")
            ],
        ),
    )
    for who in (APPROVER, STAND_IN):
        mine = await call(
            stub.ListRequests, pb.ListRequestsRequest(assignee_id=str(who)), actor=who
        )
        assert [r.id for r in mine.requests] == [request.id]
        assert mine.requests[0].open_assignments[0].task_id == "31"

    decision = pb.RecordDecisionRequest(
        request_id=request.id,
        round=1,
        step_code="head",
        approver_id=str(APPROVER),
        actor_id=str(STAND_IN),
        outcome="reject",
        comment="limit too high",
        fields_before=to_struct({"credit_limit": "500000"}),
        fields_after=to_struct({}),
        idempotency_key=f"{workflow_id}/decision/31",
        task_id="31",
    )
    first = await call(stub.RecordDecision, decision)
    assert (await call(stub.RecordDecision, decision)).id == first.id
    await call(
        stub.CloseRound,
        pb.CloseRoundRequest(
            request_id=request.id, round=1, round_status="rejected", request_status="returned"
        ),
    )
    recorded = await events(engine, "approvals.decision.recorded", request.id)
    assert len(recorded) == 1
    assert recorded[0]["outcome"] == "reject" and recorded[0]["before"] == {
        "credit_limit": "500000"
    }
    assert len(await events(engine, "approvals.request.rejected", request.id)) == 1

    await call(stub.StartRound, pb.StartRoundRequest(request_id=request.id, round=2))
    await call(
        stub.CloseRound,
        pb.CloseRoundRequest(
            request_id=request.id, round=2, round_status="approved", request_status="approved"
        ),
    )
    assert len(await events(engine, "approvals.request.approved", request.id)) == 1
    nobody_waits = await call(
        stub.ListRequests, pb.ListRequestsRequest(assignee_id=str(APPROVER)), actor=APPROVER
    )
    assert request.id not in [r.id for r in nobody_waits.requests]

    full = await call(stub.GetRequest, pb.GetRequestRequest(id=request.id), actor=HEAD)
    assert full.status == "approved" and [r.status for r in full.rounds] == [
        "rejected",
        "approved",
    ]
    (kept,) = full.rounds[0].decisions
    assert (kept.actor_id, kept.approver_id, kept.comment) == (
        str(STAND_IN),
        str(APPROVER),
        "limit too high",
    )
    assert (await call(stub.GetRequest, pb.GetRequestRequest(id=request.id), actor=STAND_IN)).id
    with pytest.raises(NotFound):
        await call(stub.GetRequest, pb.GetRequestRequest(id=request.id), actor=OUTSIDER)
    of_deal = await call(stub.ListRequests, pb.ListRequestsRequest(deal_id="77"), actor=OUTSIDER)
    assert request.id not in [r.id for r in of_deal.requests]


async def test_the_contract_registry(stub: pb_grpc.ApprovalsServiceStub) -> None:
    code = f"supply_{uuid.uuid4().hex[:6]}"
    with pytest.raises(PermissionDenied):
        await call(stub.PutContractType, pb.ContractType(code=code, name="Supply"), actor=MANAGER)
    await call(
        stub.PutContractType,
        pb.ContractType(code=code, name="Supply", template_code="c"),
        actor=ADMIN,
    )
    body = pb.CreateContractRequest(
        deal_id="77",
        type_code=code,
        counterparty_kind="client",
        counterparty_name=f"Acme {code}",
        amount="1500.50",
        currency="RUB",
        starts_on="2026-12-01",
    )
    with pytest.raises(NotFound):
        await call(
            stub.CreateContract,
            pb.CreateContractRequest(**{**_fields(body), "deal_id": str(HIDDEN_DEAL)}),
            actor=MANAGER,
        )
    with pytest.raises(ValidationFailed) as caught:
        await call(
            stub.CreateContract,
            pb.CreateContractRequest(
                **{**_fields(body), "counterparty_kind": "friend", "amount": "x"}
            ),
            actor=MANAGER,
        )
    assert {p.field for p in caught.value.problems} >= {"counterparty_kind", "amount"}
    contract = await call(stub.CreateContract, body, actor=MANAGER)
    assert (contract.status, contract.manager_id, contract.amount) == (
        "draft",
        str(MANAGER),
        "1500.50",
    )

    with pytest.raises(PermissionDenied):  # the chain's statuses are the chain's
        await call(
            stub.SetContractStatus,
            pb.SetContractStatusRequest(id=contract.id, status="approved"),
            actor=MANAGER,
        )
    with pytest.raises(NotFound):
        await call(stub.GetContract, pb.GetContractRequest(id=contract.id), actor=OUTSIDER)
    with pytest.raises(DomainError):  # a signed scan of a draft: not in this state
        await call(
            stub.AddContractDocument,
            pb.AddContractDocumentRequest(contract_id=contract.id, file_id="5", kind="signed_scan"),
            actor=MANAGER,
        )
    for status in ("in_approval", "approved"):
        await call(
            stub.SetContractStatus, pb.SetContractStatusRequest(id=contract.id, status=status)
        )
    sent = await call(
        stub.SetContractStatus,
        pb.SetContractStatusRequest(id=contract.id, status="sent"),
        actor=HEAD,
    )
    assert sent.status == "sent"
    signed = await call(
        stub.AddContractDocument,
        pb.AddContractDocumentRequest(contract_id=contract.id, file_id="9", kind="signed_scan"),
        actor=MANAGER,
    )
    assert signed.status == "signed" and [d.kind for d in signed.documents] == ["signed_scan"]

    query = pb.ListContractsRequest(type_code=code, status="signed", counterparty="acme")
    for who, expected in ((MANAGER, [contract.id]), (HEAD, [contract.id]), (OUTSIDER, [])):
        found = await call(stub.ListContracts, query, actor=who)
        assert [c.id for c in found.contracts] == expected, who
    drafts = await call(
        stub.ListContracts, pb.ListContractsRequest(type_code=code, status="draft"), actor=ADMIN
    )
    assert list(drafts.contracts) == []


def _fields(message: pb.CreateContractRequest) -> dict[str, Any]:
    return {f.name: v for f, v in message.ListFields()}
