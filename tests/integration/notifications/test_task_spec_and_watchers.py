"""A task's answer spec and its watchers over gRPC against real PostgreSQL: the spec is
stored and read back whole, a watcher lists what they watch, and hears of the outcome once
however often the completion is retried."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from dealflow.notifications.v1 import notifications_pb2 as pb
from dealflow.notifications.v1 import notifications_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import ValidationFailed
from services.common.grpc_client import call
from services.notifications.tables import notifications, tasks

pytestmark = pytest.mark.integration

Stub = pb_grpc.NotificationsServiceStub
HANDED_ON = pb.AnswerField(name="handed_on", type="date", required=True, label="Handed on")
CARRIER = pb.AnswerField(
    name="carrier", type="string", options=["dhl", "ups"], required_for=["handed"]
)


async def create(stub: Stub, **fields: object) -> pb.Task:
    values: dict[str, object] = {
        "assignee_id": "7",
        "title": "Hand the sample over",
        "deal_id": "42",
        "outcomes": ["handed", "refused"],
        **fields,
    }
    return await call(stub.CreateTask, pb.CreateTaskRequest(**values))  # type: ignore[arg-type]


async def feed(engine: AsyncEngine, task_id: str) -> list[tuple[int, str, str, int | None]]:
    """The watcher notices of one task (their key names it)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                notifications.c.user_id,
                notifications.c.kind,
                notifications.c.title,
                notifications.c.deal_id,
            )
            .where(notifications.c.idempotency_key.like(f"task-{task_id}/%"))
            .order_by(notifications.c.user_id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_the_answer_spec_round_trips(stub: Stub) -> None:
    made = await create(stub, answer_fields=[HANDED_ON, CARRIER], comment_outcomes=["refused"])
    assert list(made.answer_fields) == [HANDED_ON, CARRIER]
    assert list(made.comment_outcomes) == ["refused"]
    got = await call(stub.GetTask, pb.GetTaskRequest(id=made.id))
    assert got == made
    listed = await call(stub.ListTasks, pb.ListTasksRequest(deal_id="42", limit=200))
    assert made in listed.tasks


async def test_a_retry_must_carry_the_same_spec(stub: Stub) -> None:
    key = f"wf-{uuid.uuid4().hex}/step"
    first = await create(stub, idempotency_key=key, answer_fields=[HANDED_ON])
    assert await create(stub, idempotency_key=key, answer_fields=[HANDED_ON]) == first
    with pytest.raises(ValidationFailed) as err:
        await create(stub, idempotency_key=key, answer_fields=[CARRIER])
    assert [p.field for p in err.value.problems] == ["idempotency_key"]
    with pytest.raises(ValidationFailed):
        await create(
            stub, idempotency_key=key, answer_fields=[HANDED_ON], comment_outcomes=["refused"]
        )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"answer_fields": [pb.AnswerField(name="x", type="datetime")]}, "answer_fields[0].type"),
        ({"answer_fields": [HANDED_ON, HANDED_ON]}, "answer_fields[1].name"),
        (
            {"answer_fields": [pb.AnswerField(name="x", type="text", required_for=["lost"])]},
            "answer_fields[0].required_for[0]",
        ),
        ({"comment_outcomes": ["maybe"]}, "comment_outcomes[0]"),
    ],
)
async def test_a_bad_spec_names_its_field_and_stores_nothing(
    stub: Stub, engine: AsyncEngine, fields: dict[str, object], field: str
) -> None:
    title = f"Bad spec {uuid.uuid4().hex}"
    with pytest.raises(ValidationFailed) as err:
        await create(stub, title=title, **fields)
    assert [p.field for p in err.value.problems] == [field]
    async with engine.connect() as conn:
        stored = await conn.scalar(
            sa.select(sa.func.count()).select_from(tasks).where(tasks.c.title == title)
        )
    assert stored == 0


async def test_a_watcher_lists_what_they_watch_page_by_page(stub: Stub) -> None:
    watched = [await create(stub, watcher_ids=["601", "602"], title=f"W{i}") for i in range(3)]
    await create(stub, watcher_ids=["602"], title="not 601's")
    await create(stub, assignee_id="601", title="601's own")

    seen: list[str] = []
    cursor = ""
    while True:
        page = await call(
            stub.ListTasks, pb.ListTasksRequest(watcher_id="601", cursor=cursor, limit=2)
        )
        seen += [t.id for t in page.tasks]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [t.id for t in reversed(watched)]
    both = await call(stub.ListTasks, pb.ListTasksRequest(watcher_id="602", status="open"))
    assert len(both.tasks) == 4


async def test_watchers_hear_the_outcome_once_however_often_it_is_retried(
    stub: Stub, engine: AsyncEngine
) -> None:
    made = await create(stub, watcher_ids=["701", "702", "7"], title="Agree the layout")
    done = pb.CompleteTaskRequest(id=made.id, outcome="handed", completed_by="7")
    # An activity's retries, some of them concurrent: one completion, one notice each.
    await asyncio.gather(*(call(stub.CompleteTask, done) for _ in range(3)))
    await call(stub.CompleteTask, done)

    assert await feed(engine, made.id) == [
        (701, "task.completed", "Task done (handed): Agree the layout", 42),
        (702, "task.completed", "Task done (handed): Agree the layout", 42),
    ]  # the assignee, who answered, is not told what they did
    page = await call(stub.ListNotifications, pb.ListNotificationsRequest(user_id="701"))
    assert [(n.kind, n.deal_id) for n in page.notifications] == [("task.completed", "42")]


async def test_watchers_hear_of_a_cancellation(stub: Stub, engine: AsyncEngine) -> None:
    made = await create(stub, watcher_ids=["801"], title="Send the sample")
    cancel = pb.CancelTaskRequest(id=made.id, reason="the deal was lost")
    await call(stub.CancelTask, cancel)
    await call(stub.CancelTask, cancel)
    assert await feed(engine, made.id) == [
        (801, "task.cancelled", "Task cancelled: Send the sample", 42)
    ]


async def test_a_task_without_watchers_notifies_nobody(stub: Stub, engine: AsyncEngine) -> None:
    made = await create(stub)
    await call(stub.CompleteTask, pb.CompleteTaskRequest(id=made.id, outcome="refused"))
    assert await feed(engine, made.id) == []
