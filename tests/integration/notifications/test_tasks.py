"""Tasks over gRPC against real PostgreSQL: create, read, list, complete, cancel, retries,
and the status codes of a client's mistakes."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from dealflow.notifications.v1 import notifications_pb2 as pb
from dealflow.notifications.v1 import notifications_pb2_grpc as pb_grpc
from google.protobuf import struct_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.grpc_client import call
from services.common.protoconv import from_struct
from services.notifications.tables import outbox, tasks

pytestmark = pytest.mark.integration

Stub = pb_grpc.NotificationsServiceStub


def key() -> str:
    return f"wf-{uuid.uuid4().hex}/step"


async def create(stub: Stub, **fields: object) -> pb.Task:
    request = pb.CreateTaskRequest(
        **{"assignee_id": "7", "title": "Hand the sample over", **fields}  # type: ignore[arg-type]
    )
    return await call(stub.CreateTask, request, actor=3)


async def events_of(engine: AsyncEngine, task_id: str) -> list[tuple[str, dict[str, object]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.type, outbox.c.data)
            .where(outbox.c.subject == f"task/{task_id}")
            .order_by(outbox.c.seq)
        )
        return [(r.type, r.data) for r in rows]


async def test_create_get_and_the_created_event(stub: Stub, engine: AsyncEngine) -> None:
    task = await create(
        stub,
        watcher_ids=["8", "9"],
        description="Bring it back by Friday",
        deal_id="42",
        outcomes=["returned", "lost"],
        workflow_id="deal-42/sample-return/1",
        kind="sample_return.hand_over",
    )
    assert task.status == "open" and task.id
    assert list(task.watcher_ids) == ["8", "9"] and list(task.outcomes) == ["returned", "lost"]
    assert not task.HasField("completed_at") and task.HasField("created_at")
    got = await call(stub.GetTask, pb.GetTaskRequest(id=task.id))
    assert got == task
    [(type_, data)] = await events_of(engine, task.id)
    assert type_ == "notifications.task.created"
    assert data["before"] == {"status": None} and data["after"] == {"status": "open"}
    assert data["task"]["workflow_id"] == "deal-42/sample-return/1"  # type: ignore[index]


async def test_create_retry_with_the_same_key_returns_the_first(
    stub: Stub, engine: AsyncEngine
) -> None:
    k = key()
    first = await create(stub, idempotency_key=k, deal_id="5")
    again = await create(stub, idempotency_key=k, deal_id="5")
    assert again == first
    async with engine.connect() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count()).select_from(tasks).where(tasks.c.idempotency_key == k)
        )
    assert count == 1
    assert len(await events_of(engine, first.id)) == 1
    with pytest.raises(ValidationFailed) as err:
        await create(stub, idempotency_key=k, title="Something else")
    assert err.value.problems[0].field == "idempotency_key"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"assignee_id": ""}, "assignee_id"),
        ({"assignee_id": "abc"}, "assignee_id"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"deal_id": "-1"}, "deal_id"),
        ({"watcher_ids": ["1", "x"]}, "watcher_ids[1]"),
        ({"outcomes": ["yes", "yes"]}, "outcomes"),
    ],
)
async def test_create_refuses_bad_input(stub: Stub, fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        await create(stub, **fields)
    assert field in {p.field for p in err.value.problems}


async def test_unknown_task_is_not_found(stub: Stub) -> None:
    with pytest.raises(NotFound):
        await call(stub.GetTask, pb.GetTaskRequest(id="999999999"))
    with pytest.raises(NotFound):
        await call(stub.CompleteTask, pb.CompleteTaskRequest(id="999999999"))
    with pytest.raises(ValidationFailed):
        await call(stub.GetTask, pb.GetTaskRequest(id="nope"))


async def test_complete_is_idempotent_and_checks_the_outcome(
    stub: Stub, engine: AsyncEngine
) -> None:
    task = await create(stub, outcomes=["approved", "rejected"])
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CompleteTask, pb.CompleteTaskRequest(id=task.id, outcome="maybe"))
    assert err.value.problems[0].field == "outcome"

    result = struct_pb2.Struct()
    result.update({"comment": "fine", "amount": 3})
    request = pb.CompleteTaskRequest(
        id=task.id, outcome="approved", result=result, completed_by="7"
    )
    done = await call(stub.CompleteTask, request)
    assert (done.status, done.outcome, done.completed_by) == ("completed", "approved", "7")
    assert from_struct(done.result) == {"comment": "fine", "amount": 3}
    assert done.HasField("completed_at")

    assert await call(stub.CompleteTask, request) == done  # an activity's retry
    with pytest.raises(Conflict):
        await call(stub.CompleteTask, pb.CompleteTaskRequest(id=task.id, outcome="rejected"))
    with pytest.raises(Conflict):
        await call(stub.CancelTask, pb.CancelTaskRequest(id=task.id))

    types = [t for t, _ in await events_of(engine, task.id)]
    assert types == ["notifications.task.created", "notifications.task.completed"]
    _, completed = (await events_of(engine, task.id))[1]
    assert completed["before"] == {"status": "open"}
    assert completed["after"] == {"status": "completed"}
    assert completed["outcome"] == "approved"


async def test_completed_by_defaults_to_the_actor(stub: Stub) -> None:
    task = await create(stub)
    done = await call(stub.CompleteTask, pb.CompleteTaskRequest(id=task.id), actor=11)
    assert (done.completed_by, done.outcome) == ("11", "")


async def test_cancel_is_idempotent(stub: Stub, engine: AsyncEngine) -> None:
    task = await create(stub, outcomes=["ok"])
    cancelled = await call(stub.CancelTask, pb.CancelTaskRequest(id=task.id, reason="deal lost"))
    assert cancelled.status == "cancelled"
    again = await call(stub.CancelTask, pb.CancelTaskRequest(id=task.id))
    assert again == cancelled
    with pytest.raises(Conflict):
        await call(stub.CompleteTask, pb.CompleteTaskRequest(id=task.id, outcome="ok"))
    types = [t for t, _ in await events_of(engine, task.id)]
    assert types == ["notifications.task.created", "notifications.task.cancelled"]


async def test_list_filters_and_pages_newest_first(stub: Stub) -> None:
    workflow = f"deal-77/{uuid.uuid4().hex}/1"
    made = [
        await create(stub, assignee_id="501", deal_id="77", workflow_id=workflow, title=f"T{i}")
        for i in range(5)
    ]
    await call(stub.CancelTask, pb.CancelTaskRequest(id=made[0].id))

    seen: list[str] = []
    cursor = ""
    while True:
        page = await call(
            stub.ListTasks, pb.ListTasksRequest(workflow_id=workflow, cursor=cursor, limit=2)
        )
        seen += [t.title for t in page.tasks]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == ["T4", "T3", "T2", "T1", "T0"]

    open_ones = await call(
        stub.ListTasks, pb.ListTasksRequest(assignee_id="501", deal_id="77", status="open")
    )
    assert [t.title for t in open_ones.tasks][:4] == ["T4", "T3", "T2", "T1"]
    assert all(t.status == "open" for t in open_ones.tasks)
    cancelled = await call(
        stub.ListTasks, pb.ListTasksRequest(workflow_id=workflow, status="cancelled")
    )
    assert [t.title for t in cancelled.tasks] == ["T0"] and cancelled.next_cursor == ""


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.ListTasksRequest(limit=201), "limit"),
        (pb.ListTasksRequest(limit=-1), "limit"),
        (pb.ListTasksRequest(status="done"), "status"),
        (pb.ListTasksRequest(cursor="%%%"), "cursor"),
        (pb.ListTasksRequest(assignee_id="x"), "assignee_id"),
    ],
)
async def test_list_refuses_bad_input(
    stub: Stub, request_: pb.ListTasksRequest, field: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        await call(stub.ListTasks, request_)
    assert err.value.problems[0].field == field


async def test_list_default_limit_is_fifty(stub: Stub) -> None:
    for i in range(51):
        await create(stub, assignee_id="777", title=f"bulk {i}")
    page = await call(stub.ListTasks, pb.ListTasksRequest(assignee_id="777"))
    assert len(page.tasks) == 50 and page.next_cursor
    rest = await call(
        stub.ListTasks, pb.ListTasksRequest(assignee_id="777", cursor=page.next_cursor)
    )
    assert [t.title for t in rest.tasks] == ["bulk 0"] and rest.next_cursor == ""


async def test_concurrent_creates_with_one_key_make_one_task(
    stub: Stub, engine: AsyncEngine
) -> None:
    k = key()
    made = await asyncio.gather(*(create(stub, idempotency_key=k) for _ in range(8)))
    assert len({t.id for t in made}) == 1
    assert len(await events_of(engine, made[0].id)) == 1
