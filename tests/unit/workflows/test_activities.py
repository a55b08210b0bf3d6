"""The service activities over fake gRPC stubs: proto mapping and error translation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from dealflow.deals.v1 import deals_pb2
from dealflow.notifications.v1 import notifications_pb2
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from services.common.grpc_client import ServiceUnavailable
from services.common.grpc_server import ACTOR_KEY
from services.common.protoconv import from_struct, to_struct
from workflows.activities.services import ServiceActivities
from workflows.activities.types import (
    AddTimelineEntryInput,
    AnswerField,
    CancelTaskInput,
    CompleteTaskInput,
    CreateNotificationInput,
    CreateTaskInput,
    FindHeadInput,
    GetDealInput,
    GetPipelineInput,
    GetUserInput,
    UpdateDealFieldsInput,
)


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        code=code,
        initial_metadata=grpc.aio.Metadata(),
        trailing_metadata=grpc.aio.Metadata(),
        details=details,
    )


class FakeStub:
    """Answers each RPC with a canned response (or raises it) and records the calls."""

    def __init__(self, **responses: Any) -> None:
        self.responses = responses
        self.calls: list[tuple[str, Any, dict[str, str]]] = []

    def __getattr__(self, name: str) -> Any:
        async def rpc(request: Any, *, metadata: Any = (), timeout: float | None = None) -> Any:
            self.calls.append((name, request, dict(metadata)))
            answer = self.responses[name]
            if isinstance(answer, list):  # successive answers
                answer = answer.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return rpc


def make(deals: FakeStub | None = None, notes: FakeStub | None = None) -> ServiceActivities:
    return ServiceActivities(deals or FakeStub(), notes or FakeStub())  # type: ignore[arg-type]


async def run(fn: Any, arg: Any) -> Any:
    return await ActivityEnvironment().run(fn, arg)


async def test_get_deal_maps_the_proto() -> None:
    deal = deals_pb2.Deal(
        id="42", pipeline_id="7", stage_id="s1", title="Drills", responsible_id="u1"
    )
    deal.fields.CopyFrom(to_struct({"samples_returned": False, "count": 3}))
    deals = FakeStub(GetDeal=deal)
    info = await run(make(deals).get_deal, GetDealInput(deal_id="42"))
    assert (info.id, info.pipeline_id, info.title, info.responsible_id) == (
        "42",
        "7",
        "Drills",
        "u1",
    )
    assert info.fields == {"samples_returned": False, "count": 3}
    ((name, request, metadata),) = deals.calls
    assert (name, request.id, metadata) == ("GetDeal", "42", {})  # acts as the system


async def test_pipeline_user_and_head() -> None:
    pipeline = deals_pb2.Pipeline(
        id="7",
        name="Sales",
        fields=[deals_pb2.FieldDefinition(code="samples_returned", type="bool")],
    )
    user = deals_pb2.User(id="u2", name="Hugo", email="h@x", department_id="d1")
    deals = FakeStub(GetPipeline=pipeline, FindHead=user, GetUser=user)
    acts = make(deals)
    assert (await run(acts.get_pipeline, GetPipelineInput("7"))).field_codes == ["samples_returned"]
    head = await run(acts.find_head, FindHeadInput("u1"))
    assert (head.id, head.name, head.email, head.department_id) == ("u2", "Hugo", "h@x", "d1")
    assert (await run(acts.get_user, GetUserInput("u2"))).name == "Hugo"
    assert deals.calls[1][1].user_id == "u1"


async def test_create_task_carries_key_deadline_and_workflow() -> None:
    notes = FakeStub(CreateTask=notifications_pb2.Task(id="t1", status="open", assignee_id="u1"))
    deadline = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    info = await run(
        make(notes=notes).create_task,
        CreateTaskInput(
            idempotency_key="deal-1/sample-return/1/control",
            workflow_id="deal-1/sample-return/1",
            deal_id="1",
            kind="sample_return.control",
            assignee_id="u1",
            title="Get the samples back",
            outcomes=["returned"],
            deadline=deadline,
        ),
    )
    assert (info.id, info.status) == ("t1", "open")
    ((_, request, _),) = notes.calls
    assert request.idempotency_key == "deal-1/sample-return/1/control"
    assert (request.workflow_id, request.kind, list(request.outcomes)) == (
        "deal-1/sample-return/1",
        "sample_return.control",
        ["returned"],
    )
    assert request.deadline.ToDatetime(tzinfo=UTC) == deadline


async def test_create_task_without_deadline_leaves_it_unset() -> None:
    notes = FakeStub(CreateTask=notifications_pb2.Task(id="t1", status="open"))
    inp = CreateTaskInput("k", "w", "1", "k", "u1", "T", ["ok"])
    await run(make(notes=notes).create_task, inp)
    assert not notes.calls[0][1].HasField("deadline")


async def test_create_task_announces_what_the_answer_needs() -> None:
    notes = FakeStub(CreateTask=notifications_pb2.Task(id="t1", status="open"))
    handed_on = AnswerField("handed_on", "date", required_for=["handed"], label="Handed on")
    kind = AnswerField("carrier", options=["dhl", "ups"], required=False)
    inp = CreateTaskInput(
        "k", "w", "1", "k", "u1", "T", ["handed", "refused"],
        answer_fields=[handed_on, kind], comment_outcomes=["refused"],
    )  # fmt: skip
    await run(make(notes=notes).create_task, inp)
    request = notes.calls[0][1]
    assert [
        (f.name, f.type, f.required, list(f.options), list(f.required_for), f.label)
        for f in request.answer_fields
    ] == [
        ("handed_on", "date", True, [], ["handed"], "Handed on"),
        ("carrier", "string", False, ["dhl", "ups"], [], ""),
    ]
    assert list(request.comment_outcomes) == ["refused"]


async def test_complete_task_acts_as_the_answering_user() -> None:
    notes = FakeStub(CompleteTask=notifications_pb2.Task(id="t1", status="completed"))
    inp = CompleteTaskInput("t1", "handed", "u1", {"handed_on": "2026-03-02"})
    info = await run(make(notes=notes).complete_task, inp)
    # The whole task comes back, for the answer's Update to hand to the gateway.
    assert info.task == {"id": "t1", "status": "completed"}
    ((_, request, metadata),) = notes.calls
    assert metadata == {ACTOR_KEY: "u1"}
    assert (request.id, request.outcome, request.completed_by) == ("t1", "handed", "u1")
    assert from_struct(request.result) == {"handed_on": "2026-03-02"}


async def test_complete_task_retried_after_success_is_done() -> None:
    done = notifications_pb2.Task(id="t1", status="completed", outcome="handed")
    notes = FakeStub(
        CompleteTask=rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "task t1 is completed"),
        GetTask=done,
    )
    info = await run(make(notes=notes).complete_task, CompleteTaskInput("t1", "handed", "u1"))
    assert (info.status, info.outcome) == ("completed", "handed")
    assert info.task == {"id": "t1", "status": "completed", "outcome": "handed"}


async def test_complete_task_completed_otherwise_is_refused() -> None:
    notes = FakeStub(
        CompleteTask=rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "task t1 is cancelled"),
        GetTask=notifications_pb2.Task(id="t1", status="cancelled"),
    )
    with pytest.raises(ApplicationError) as refused:
        await run(make(notes=notes).complete_task, CompleteTaskInput("t1", "handed", "u1"))
    assert refused.value.non_retryable and refused.value.type == "DomainError"


async def test_cancel_task_of_a_closed_task_is_done() -> None:
    notes = FakeStub(
        CancelTask=rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "task is completed"),
        GetTask=notifications_pb2.Task(id="t1", status="completed"),
    )
    info = await run(make(notes=notes).cancel_task, CancelTaskInput("t1", "moot"))
    assert info.status == "completed"


async def test_notification_timeline_and_fields() -> None:
    notes = FakeStub(CreateNotification=notifications_pb2.Notification(id="n1"))
    deals = FakeStub(
        AddTimelineEntry=deals_pb2.TimelineEntry(id="e1"), UpdateDeal=deals_pb2.Deal(id="1")
    )
    acts = make(deals, notes)
    note = await run(
        acts.create_notification,
        CreateNotificationInput("w/overdue-notice", "u2", "k", "T", "B", "1"),
    )
    assert note.id == "n1"
    assert notes.calls[0][1].idempotency_key == "w/overdue-notice"
    entry = await run(
        acts.add_timeline_entry,
        AddTimelineEntryInput("w/handed", "1", "Handed", data={"step": "x"}),
    )
    assert entry.id == "e1"
    _, request, _ = deals.calls[0]
    assert (request.idempotency_key, request.kind, request.text) == (
        "w/handed",
        "process",
        "Handed",
    )
    assert from_struct(request.data) == {"step": "x"}
    await run(acts.update_deal_fields, UpdateDealFieldsInput("1", {"samples_returned": True}))
    _, update, _ = deals.calls[1]
    assert (update.id, list(update.set_fields), update.expected_version) == ("1", [], 0)
    assert from_struct(update.fields) == {"samples_returned": True}


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (grpc.StatusCode.NOT_FOUND, "NotFound"),
        (grpc.StatusCode.INVALID_ARGUMENT, "ValidationFailed"),
        (grpc.StatusCode.ABORTED, "Conflict"),
        (grpc.StatusCode.PERMISSION_DENIED, "PermissionDenied"),
    ],
)
async def test_domain_errors_are_not_retried(code: grpc.StatusCode, kind: str) -> None:
    deals = FakeStub(GetDeal=rpc_error(code, "no deal 9"))
    with pytest.raises(ApplicationError) as failed:
        await run(make(deals).get_deal, GetDealInput("9"))
    assert failed.value.non_retryable and failed.value.type == kind
    assert "no deal 9" in failed.value.message


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
async def test_unavailable_is_retried(code: grpc.StatusCode) -> None:
    deals = FakeStub(GetDeal=rpc_error(code, "connection refused"))
    with pytest.raises(ServiceUnavailable):  # not an ApplicationError: Temporal retries it
        await run(make(deals).get_deal, GetDealInput("9"))
