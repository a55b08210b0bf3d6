"""Every action of an automation rule as its activity does it, over fake gRPC stubs: what
each service is asked (with the idempotency key), what a retry after a lost answer does,
and how a refusal fails the action for good."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from dealflow.deals.v1 import automation_pb2, deals_pb2
from dealflow.notifications.v1 import notifications_pb2
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from services.common.protoconv import from_struct, to_struct
from tests.unit.workflows.test_activities import FakeStub, rpc_error
from workflows.activities.automation import AutomationActivities
from workflows.activities.automation_types import ActionInput, PlanInput, StepInput

KEY = "deal-42/automation/5/e1/0"
DEAL = deals_pb2.Deal(id="42", pipeline_id="3", stage_id="11", responsible_id="8")


def act(action: dict[str, Any]) -> ActionInput:
    return ActionInput(KEY, "42", "3", "5", "8", 'enter "Collect"', action)


def activities(
    deals: FakeStub | None = None,
    notifications: FakeStub | None = None,
    automation: FakeStub | None = None,
) -> AutomationActivities:
    return AutomationActivities(
        automation or FakeStub(), deals or FakeStub(), notifications or FakeStub()
    )  # type: ignore[arg-type]


async def test_create_task_asks_for_an_automation_task_with_its_checklist_rule_and_deadline() -> (
    None
):
    notifications = FakeStub(CreateTask=notifications_pb2.Task(id="77", assignee_id="8"))
    action = {
        "type": "create_task",
        "title": "Meet",
        "description": "d",
        "assignee_id": "8",
        "deadline": "2026-12-09T09:00:00+00:00",
        "checklist": ["Agenda"],
        "close_on_leave": True,
    }
    result = await ActivityEnvironment().run(
        activities(notifications=notifications).act, act(action)
    )
    assert result.data == {"task_id": "77"}
    ((_, request, _),) = notifications.calls
    assert (request.kind, request.rule_id, list(request.checklist)) == (
        "automation.task",
        "5",
        ["Agenda"],
    )
    assert (request.assignee_id, request.deal_id, request.idempotency_key) == ("8", "42", KEY)
    assert request.deadline.ToJsonString() == "2026-12-09T09:00:00Z"


async def test_move_moves_once_and_a_retry_finds_the_deal_there() -> None:
    deals = FakeStub(
        GetDeal=[DEAL, deals_pb2.Deal(id="42", pipeline_id="3", stage_id="13")], MoveDeal=DEAL
    )
    impl = activities(deals=deals)
    first = await ActivityEnvironment().run(impl.act, act({"type": "move", "stage_id": 13}))
    again = await ActivityEnvironment().run(impl.act, act({"type": "move", "stage_id": 13}))
    assert [c[0] for c in deals.calls] == ["GetDeal", "MoveDeal", "GetDeal"]
    assert (first.detail, again.detail) == ("moved to stage 13", "the deal is in stage 13")
    move = deals.calls[1][1]
    assert (move.stage_id, move.pipeline_id) == ("13", "")


async def test_move_into_another_pipeline_names_it_and_a_refusal_is_final() -> None:
    refused = rpc_error(
        grpc.StatusCode.INVALID_ARGUMENT, "fields.source: required to leave stage Collect"
    )
    deals = FakeStub(GetDeal=DEAL, MoveDeal=refused)
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(
            activities(deals=deals).act, act({"type": "move", "stage_id": 20, "pipeline_id": 4})
        )
    assert err.value.non_retryable and "required to leave" in str(err.value)
    assert deals.calls[1][1].pipeline_id == "4"


async def test_set_fields_merges_the_values() -> None:
    deals = FakeStub(UpdateDeal=DEAL)
    result = await ActivityEnvironment().run(
        activities(deals=deals).act,
        act({"type": "set_fields", "fields": {"segment": "A", "note": None}}),
    )
    ((_, request, _),) = deals.calls
    assert (
        from_struct(request.fields) == {"segment": "A", "note": None}
        and result.detail == "set note, segment"
    )


async def test_create_deal_asks_for_a_linked_deal_under_the_action_s_key() -> None:
    automation = FakeStub(CreateLinkedDeal=automation_pb2.LinkedDeal(deal_id="99", created=True))
    result = await ActivityEnvironment().run(
        activities(automation=automation).act,
        act({"type": "create_deal", "pipeline_id": 4, "fields": {"request": "request"}}),
    )
    ((_, request, _),) = automation.calls
    assert (
        request.idempotency_key,
        request.source_deal_id,
        request.pipeline_id,
        request.stage_id,
    ) == (KEY, "42", "4", "")
    assert from_struct(request.fields) == {"request": "request"} and result.data == {
        "deal_id": "99"
    }


async def test_notify_tells_the_resolved_user_once() -> None:
    notifications = FakeStub(CreateNotification=notifications_pb2.Notification(id="n1"))
    await ActivityEnvironment().run(
        activities(notifications=notifications).act,
        act({"type": "notify", "title": "Look", "body": "b", "assignee_id": "9"}),
    )
    ((_, request, _),) = notifications.calls
    assert (request.user_id, request.kind, request.title, request.idempotency_key) == (
        "9",
        "automation.notify",
        "Look",
        KEY,
    )


async def test_a_timeline_note_is_added_once_per_action() -> None:
    deals = FakeStub(AddTimelineEntry=deals_pb2.TimelineEntry(id="e5"))
    result = await ActivityEnvironment().run(
        activities(deals=deals).act, act({"type": "add_timeline_note", "text": "Robot"})
    )
    ((_, request, _),) = deals.calls
    assert (request.kind, request.text, request.idempotency_key) == (
        "note",
        "Robot",
        f"automation/{KEY}",
    )
    assert from_struct(request.data) == {"rule_id": "5"} and result.data == {"entry_id": "e5"}


async def test_start_process_of_an_unknown_process_fails_for_good() -> None:
    deals = FakeStub(GetDeal=DEAL)
    impl = activities(deals=deals)
    env = ActivityEnvironment(client=object())  # type: ignore[arg-type]  # refused before use
    with pytest.raises(ApplicationError) as err:
        await env.run(impl.act, act({"type": "start_process", "process": "teleport"}))
    assert err.value.non_retryable and "unknown process" in str(err.value)


async def test_plan_and_record_talk_to_the_run_log() -> None:
    automation = FakeStub(
        PlanRun=automation_pb2.RunPlan(plan=to_struct({"fires": True, "actions": []})),
        RecordStep=automation_pb2.AutomationRun(),
    )
    impl = activities(automation=automation)
    plan = await ActivityEnvironment().run(impl.plan, PlanInput("w", "42", "5", 2, "e1", "t"))
    await ActivityEnvironment().run(
        impl.record, StepInput("w", 0, "done", "ok", data={"task_id": "7"})
    )
    assert plan == {"fires": True, "actions": []}
    (_, planned, _), (_, recorded, _) = automation.calls
    assert (planned.workflow_id, planned.rule_version) == ("w", 2)
    assert (recorded.index, recorded.status, from_struct(recorded.data)) == (
        0,
        "done",
        {"task_id": "7"},
    )


async def test_a_delayed_action_runs_only_while_the_deal_stays_and_records_itself() -> None:
    moved = deals_pb2.Deal(id="42", pipeline_id="3", stage_id="12")
    deals = FakeStub(GetDeal=[moved, DEAL], AddTimelineEntry=deals_pb2.TimelineEntry(id="e5"))
    automation = FakeStub(RecordStep=automation_pb2.AutomationRun())
    impl = activities(deals=deals, automation=automation)
    note = act({"type": "add_timeline_note", "text": "Robot"})
    note.workflow_id, note.index, note.stage_id = "w", 1, "11"
    left = await ActivityEnvironment().run(impl.act, note)
    assert left.status == "cancelled" and automation.calls == []
    done = await ActivityEnvironment().run(impl.act, note)
    assert done.status == "done"
    ((_, recorded, _),) = automation.calls
    assert (recorded.workflow_id, recorded.index, recorded.status) == ("w", 1, "done")
    assert from_struct(recorded.data) == {"entry_id": "e5"}
