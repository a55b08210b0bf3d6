"""The approval activities against the real deals and approvals services (in-process gRPC,
real PostgreSQL): who a step's rules name (head, role in a department, list look-up, a
substitute while absent), the deal's layout and moves, files, and the request's record."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from dealflow.approvals.v1 import approvals_pb2 as apb
from dealflow.approvals.v1 import approvals_pb2_grpc
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc, files_pb2, files_pb2_grpc
from google.protobuf import struct_pb2
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from process_rules.approval_templates import ApproverRule
from services.approvals.contracts_service import ContractsService
from services.approvals.main import deal_checker
from services.approvals.main import start_server as start_approvals
from services.approvals.service import ApprovalsService
from services.common.access_client import deals_resolver
from services.common.db import create_engine
from services.common.grpc_client import call, channel
from services.common.protoconv import to_struct
from services.deals.main import start_server as start_deals
from services.deals.service import DealsService
from workflows.activities.approval_types import (
    AttachFilesInput,
    CheckFilesInput,
    DealRefInput,
    GetTemplateInput,
    MoveDealInput,
    OpenRequestInput,
    RecordDecisionInput,
    ResolveApproversInput,
    RoundInput,
)
from workflows.activities.approvals import ApprovalActivities

pytestmark = pytest.mark.integration


@dataclass
class Services:
    activities: ApprovalActivities
    deals: deals_pb2_grpc.DealsServiceStub
    files: files_pb2_grpc.FilesServiceStub
    approvals: approvals_pb2_grpc.ApprovalsServiceStub


@pytest.fixture(scope="module")
async def services(database_url: str) -> AsyncIterator[Services]:
    engine = create_engine(database_url, pool_size=4)
    deals_server, deals_port = await start_deals(DealsService(engine))
    deals_chan = channel(f"127.0.0.1:{deals_port}")
    deals = deals_pb2_grpc.DealsServiceStub(deals_chan)
    resolver = deals_resolver(deals)
    approvals_server, approvals_port = await start_approvals(
        ApprovalsService(engine, access=resolver),
        ContractsService(engine, access=resolver, check_deal=deal_checker(deals)),
    )
    approvals_chan = channel(f"127.0.0.1:{approvals_port}")
    approvals = approvals_pb2_grpc.ApprovalsServiceStub(approvals_chan)
    files = files_pb2_grpc.FilesServiceStub(deals_chan)
    yield Services(ApprovalActivities(approvals, deals, files), deals, files, approvals)
    await approvals_chan.close()
    await deals_chan.close()
    await approvals_server.stop(None)
    await deals_server.stop(None)
    await engine.dispose()


async def run(fn: Any, arg: Any) -> Any:
    return await ActivityEnvironment().run(fn, arg)


async def user(deals: deals_pb2_grpc.DealsServiceStub, role: str, department: str = "") -> str:
    email = f"{role}-{uuid.uuid4().hex[:6]}@act.test"
    request = pb.CreateUserRequest(
        email=email, name=email, password="long enough", roles=[role], department_id=department
    )
    return str((await call(deals.CreateUser, request)).id)


async def test_a_steps_rules_name_people_and_their_substitutes(services: Services) -> None:
    deals = services.deals
    tag = uuid.uuid4().hex[:6]
    accounting = (await call(deals.CreateDepartment, pb.CreateDepartmentRequest(name=tag))).id
    head = await user(deals, "head_of_sales")
    sales = await call(
        deals.CreateDepartment, pb.CreateDepartmentRequest(name=f"S{tag}", head_id=head)
    )
    manager = await user(deals, "manager", sales.id)
    deputies = [await user(deals, "deputy_chief_accountant", accounting) for _ in range(2)]
    await user(deals, "deputy_chief_accountant")  # elsewhere: not in the step
    operator, substitute = await user(deals, "operator"), await user(deals, "operator")
    await call(
        deals.UpdateUser,
        pb.UpdateUserRequest(
            id=operator,
            set_fields=["absent", "substitute_id"],
            absent=True,
            substitute_id=substitute,
        ),
    )
    code = f"dir_{tag}"
    await call(
        deals.CreateList,
        pb.CreateListRequest(
            code=code,
            name="Directions",
            columns=[
                pb.ListColumn(code="direction", name="Direction", type="string"),
                pb.ListColumn(code="operator", name="Operator", type="user"),
            ],
        ),
    )
    values = struct_pb2.Struct()
    values.update({"direction": "North", "operator": int(operator)})
    await call(deals.CreateListItem, pb.CreateListItemRequest(code=code, values=values))

    def rules(*items: ApproverRule) -> ResolveApproversInput:
        return ResolveApproversInput("0", manager, list(items), {"shipping_direction": "North"})

    found = await run(services.activities.resolve_approvers, rules(ApproverRule(kind="head")))
    assert [a.user_id for a in found] == [head]
    found = await run(
        services.activities.resolve_approvers,
        rules(ApproverRule(kind="role", role="deputy_chief_accountant", department_id=accounting)),
    )
    assert sorted(a.user_id for a in found) == sorted(deputies)
    lookup = ApproverRule(
        kind="list",
        list_code=code,
        key_field="shipping_direction",
        key_column="direction",
        user_column="operator",
    )
    (found_operator,) = await run(services.activities.resolve_approvers, rules(lookup))
    assert (found_operator.user_id, found_operator.stand_in_id) == (operator, substitute)
    both = await run(
        services.activities.resolve_approvers,
        rules(lookup, ApproverRule(kind="user", user_id=operator)),
    )
    assert len(both) == 1, "one person named twice decides once"
    nobody = ResolveApproversInput("0", manager, [lookup], {"shipping_direction": "South"})
    with pytest.raises(ApplicationError) as caught:
        await run(services.activities.resolve_approvers, nobody)
    assert caught.value.type == "NoApprover"


async def test_the_deal_its_files_and_the_request_record(services: Services) -> None:
    deals, acts = services.deals, services.activities
    manager = await user(deals, "manager")
    pipeline = await call(
        deals.CreatePipeline,
        pb.CreatePipelineRequest(
            name="Onboarding",
            stages=[
                pb.StageInput(name="New", semantic="in_progress"),
                pb.StageInput(name="Terms approval", semantic="in_progress"),
                pb.StageInput(name="Lost", semantic="lost"),
            ],
        ),
    )
    await call(
        deals.CreateField,
        pb.CreateFieldRequest(pipeline_id=pipeline.id, code="credit_limit", name="L", type="money"),
    )
    new, terms, _ = (s.id for s in pipeline.stages)
    deal = await call(
        deals.CreateDeal,
        pb.CreateDealRequest(pipeline_id=pipeline.id, title="Drills"),
        actor=manager,
    )
    layout = await run(acts.get_pipeline_layout, DealRefInput(deal.id))
    assert [f.code for f in layout.fields] == ["credit_limit"] and layout.lost_stage()
    assert await run(acts.previous_stage, DealRefInput(deal.id)) == ""
    for _ in range(2):  # a retried move changes nothing the second time
        await run(acts.move_deal, MoveDealInput(deal.id, terms, "to approval"))
    assert await run(acts.previous_stage, DealRefInput(deal.id)) == new

    other = await call(
        deals.CreateDeal,
        pb.CreateDealRequest(pipeline_id=pipeline.id, title="Other"),
        actor=manager,
    )
    ids = []
    for owner in (deal.id, other.id):
        created = await call(
            services.files.CreateFile,
            files_pb2.CreateFileRequest(
                deal_id=owner,
                name="c.pdf",
                content_type="application/pdf",
                size=1,
                sha256=hashlib.sha256(owner.encode()).hexdigest(),
                storage_key=f"k/{uuid.uuid4().hex}",
            ),
        )
        ids.append(created.id)
    await run(acts.check_files, CheckFilesInput(deal.id, [ids[0]]))
    with pytest.raises(ApplicationError):
        await run(acts.check_files, CheckFilesInput(deal.id, ids))

    code = f"t_{uuid.uuid4().hex[:6]}"
    definition = {"steps": [{"code": "head", "name": "Head", "approvers": [{"kind": "head"}]}]}
    await call(
        services.approvals.PutTemplate,
        apb.PutTemplateRequest(
            template=apb.Template(code=code, name="T", definition=to_struct(definition))
        ),
    )
    template = await run(acts.get_approval_template, GetTemplateInput(code))
    assert template.steps[0].approvers[0].kind == "head"
    opened = OpenRequestInput(deal.id, code, f"wf-{uuid.uuid4().hex}", manager)
    request = await run(acts.open_request, opened)
    assert (await run(acts.open_request, opened)).id == request.id
    await run(acts.start_round, RoundInput(request.id, 1))
    decision = RecordDecisionInput(
        idempotency_key=f"{opened.workflow_id}/decision/1",
        request_id=request.id,
        round=1,
        step_code="head",
        approver_id=manager,
        actor_id=manager,
        outcome="approve",
        file_ids=[ids[0]],
    )
    recorded = await run(acts.record_decision, decision)
    assert (await run(acts.record_decision, decision)).id == recorded.id
    for _ in range(2):
        await run(acts.attach_files, AttachFilesInput(deal.id, [ids[0]], "decision", recorded.id))
    attached = await call(
        services.files.ListFiles,
        files_pb2.ListFilesRequest(
            deal_id=deal.id, attached_to=files_pb2.Attachment(kind="decision", id=recorded.id)
        ),
    )
    assert [f.id for f in attached.files] == [ids[0]]
