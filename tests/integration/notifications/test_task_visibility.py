"""Who sees a task and who answers it, decided by the notifications service for the actor
of the call, with the deals service (in process, real) telling who sees whom and who stands
in for an absent user. A task nobody lets you see does not exist for you."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from dealflow.deals.v1 import deals_pb2 as dpb
from dealflow.deals.v1 import deals_pb2_grpc
from dealflow.notifications.v1 import notifications_pb2 as pb
from dealflow.notifications.v1 import notifications_pb2_grpc as pb_grpc

from services.common.errors import NotFound, PermissionDenied
from services.common.grpc_client import call

pytestmark = pytest.mark.integration

Stub = pb_grpc.NotificationsServiceStub
Deals = deals_pb2_grpc.DealsServiceStub


@dataclass(frozen=True)
class Org:
    manager: str  # the assignee, in Sales, owns the deal
    colleague: str  # another manager of Sales: sees only their own records
    head: str  # head of Sales: sees the department's records
    watcher: str  # a manager of Purchasing who watches the task
    substitute: str  # acts for the manager while they are away
    outsider: str  # sees nothing of it
    ceo: str  # sees everyone's
    deal: str  # the manager's deal


async def _user(deals: Deals, role: str, department: str = "") -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@vis.test"
    request = dpb.CreateUserRequest(
        email=email, name=email, password="long enough", roles=[role], department_id=department
    )
    return str((await call(deals.CreateUser, request)).id)


async def _department(deals: Deals, name: str) -> str:
    return str((await call(deals.CreateDepartment, dpb.CreateDepartmentRequest(name=name))).id)


@pytest.fixture(scope="module")
async def org(deals: Deals) -> Org:
    sales, purchasing = await _department(deals, "Sales"), await _department(deals, "Purchasing")
    manager = await _user(deals, "manager", sales)
    pipeline = await call(
        deals.CreatePipeline,
        dpb.CreatePipelineRequest(
            name=f"Sales {uuid.uuid4().hex[:6]}",
            stages=[dpb.StageInput(name="New", semantic="in_progress")],
        ),
    )
    deal = await call(
        deals.CreateDeal,
        dpb.CreateDealRequest(pipeline_id=pipeline.id, title="Layout for Alfa"),
        actor=manager,
    )
    return Org(
        manager=manager,
        colleague=await _user(deals, "manager", sales),
        head=await _user(deals, "head_of_sales", sales),
        watcher=await _user(deals, "manager", purchasing),
        substitute=await _user(deals, "manager", purchasing),
        outsider=await _user(deals, "manager", purchasing),
        ceo=await _user(deals, "ceo"),
        deal=str(deal.id),
    )


async def create(stub: Stub, org: Org, **fields: object) -> pb.Task:
    values: dict[str, object] = {
        "assignee_id": org.manager,
        "watcher_ids": [org.watcher],
        "title": "Agree the layout",
        "deal_id": org.deal,
        "outcomes": ["approved", "changes"],
        **fields,
    }
    return await call(stub.CreateTask, pb.CreateTaskRequest(**values))  # type: ignore[arg-type]


async def get(stub: Stub, task: pb.Task, actor: str | None) -> pb.Task:
    return await call(stub.GetTask, pb.GetTaskRequest(id=task.id), actor=actor)


async def answerer(stub: Stub, task: pb.Task, actor: str) -> tuple[bool, str]:
    check = await call(stub.CheckAnswerer, pb.CheckAnswererRequest(id=task.id), actor=actor)
    assert check.task.id == task.id
    return check.allowed, check.stands_in_for


async def away(deals: Deals, user: str, substitute: str, *, absent: bool) -> None:
    request = dpb.UpdateUserRequest(
        id=user, set_fields=["absent", "substitute_id"], absent=absent, substitute_id=substitute
    )
    await call(deals.UpdateUser, request)


async def test_who_sees_a_task(stub: Stub, org: Org) -> None:
    task = await create(stub, org)
    for actor in (None, org.manager, org.watcher, org.head, org.ceo):
        assert (await get(stub, task, actor)).id == task.id, actor
    for actor in (org.colleague, org.outsider, org.substitute):
        with pytest.raises(NotFound):
            await get(stub, task, actor)


async def test_whoever_sees_the_deal_sees_its_tasks(stub: Stub, org: Org) -> None:
    # Assigned to someone the manager's scope does not cover, on the manager's deal.
    task = await create(stub, org, assignee_id=org.outsider, watcher_ids=[])
    assert (await get(stub, task, org.manager)).id == task.id
    with pytest.raises(NotFound):
        await get(stub, task, org.colleague)
    no_deal = await create(stub, org, assignee_id=org.outsider, watcher_ids=[], deal_id="")
    with pytest.raises(NotFound):
        await get(stub, no_deal, org.manager)


async def test_the_assignee_answers_a_watcher_only_watches(stub: Stub, org: Org) -> None:
    task = await create(stub, org)
    assert await answerer(stub, task, org.manager) == (True, "")
    assert await answerer(stub, task, org.watcher) == (False, "")
    assert await answerer(stub, task, org.head) == (False, "")  # sees it, does not answer it
    with pytest.raises(NotFound):
        await answerer(stub, task, org.outsider)


async def test_the_substitute_sees_and_answers_while_the_assignee_is_away(
    stub: Stub, deals: Deals, org: Org
) -> None:
    task = await create(stub, org)
    await away(deals, org.manager, org.substitute, absent=True)
    try:
        assert (await get(stub, task, org.substitute)).id == task.id
        assert await answerer(stub, task, org.substitute) == (True, org.manager)
        mine = await call(
            stub.ListTasks, pb.ListTasksRequest(assignee_id=org.manager), actor=org.substitute
        )
        assert task.id in [t.id for t in mine.tasks]
    finally:
        await away(deals, org.manager, org.substitute, absent=False)
    with pytest.raises(NotFound):
        await get(stub, task, org.substitute)
    with pytest.raises(PermissionDenied):
        await call(
            stub.ListTasks, pb.ListTasksRequest(assignee_id=org.manager), actor=org.substitute
        )


async def test_lists_hold_only_what_the_actor_sees(stub: Stub, org: Org) -> None:
    watched = await create(stub, org, title="watched")
    elsewhere = await create(stub, org, assignee_id=org.outsider, watcher_ids=[], deal_id="")

    async def ids(actor: str, **where: str) -> list[str]:
        request = pb.ListTasksRequest(limit=200, **where)  # type: ignore[arg-type]
        return [t.id for t in (await call(stub.ListTasks, request, actor=actor)).tasks]

    assert watched.id in await ids(org.watcher, watcher_id=org.watcher)
    assert watched.id in await ids(org.watcher)  # no filter: what they see in person
    assert elsewhere.id not in await ids(org.watcher)
    assert {watched.id, elsewhere.id} <= set(await ids(org.ceo))
    assert watched.id in await ids(org.head, assignee_id=org.manager)
    assert watched.id in await ids(org.manager, deal_id=org.deal)
    assert watched.id in await ids(org.watcher, watcher_id=org.watcher, deal_id=org.deal)
    with pytest.raises(NotFound):
        await ids(org.colleague, deal_id=org.deal)
    with pytest.raises(PermissionDenied):
        await ids(org.outsider, assignee_id=org.manager)
    with pytest.raises(PermissionDenied):
        await ids(org.outsider, watcher_id=org.watcher)
