"""The actions of a rule on a lead as their activity does them, over fake gRPC stubs: what
CrmService is asked, what a retry after a lost answer does (a converted lead answers its
deal, a lead already in the stage is not moved again), and a delayed action that finds the
lead gone from its stage doing nothing."""

from __future__ import annotations

from typing import Any

from dealflow.deals.v1 import automation_pb2, crm_pb2
from dealflow.notifications.v1 import notifications_pb2
from temporalio.testing import ActivityEnvironment

from tests.unit.workflows.test_activities import FakeStub
from workflows.activities.automation import AutomationActivities
from workflows.activities.automation_types import ActionInput, LeadStageInput

KEY = "lead-7/automation/5/e1/0"
LEAD = crm_pb2.Lead(id="7", pipeline_id="10", stage_id="13", title="Stands", contact_id="4")


def act(action: dict[str, Any], stage_id: str = "") -> ActionInput:
    return ActionInput(
        KEY, "", "10", "5", "8", 'enter "Interesting"', action,
        workflow_id="lead-7/automation/5/e1", stage_id=stage_id, lead_id="7",
    )  # fmt: skip


def activities(crm: FakeStub, notifications: FakeStub | None = None) -> AutomationActivities:
    automation = FakeStub(RecordStep=automation_pb2.AutomationRun())
    return AutomationActivities(
        automation,
        FakeStub(),
        notifications or FakeStub(),
        crm=crm,
    )


async def run(crm: FakeStub, inp: ActionInput, notifications: FakeStub | None = None) -> Any:
    return await ActivityEnvironment().run(activities(crm, notifications).act, inp)


async def test_convert_lead_asks_crm_for_the_chosen_pipeline_once() -> None:
    crm = FakeStub(
        GetLead=[LEAD, crm_pb2.Lead(id="7", deal_id="99")],
        ConvertLead=crm_pb2.ConvertLeadResponse(deal_id="99"),
    )
    first = await run(crm, act({"type": "convert_lead", "pipeline_id": "20"}))
    again = await run(crm, act({"type": "convert_lead", "pipeline_id": "20"}))  # a retry
    assert first.data == again.data == {"deal_id": "99"}
    converts = [r for name, r, _ in crm.calls if name == "ConvertLead"]
    assert [(r.id, r.pipeline_id, r.stage_id) for r in converts] == [("7", "20", "")]


async def test_exclude_contact_excludes_the_lead_s_contact() -> None:
    crm = FakeStub(
        GetLead=LEAD,
        ExcludeContact=crm_pb2.ListExclusionsResponse(
            exclusions=[crm_pb2.Exclusion(id="1"), crm_pb2.Exclusion(id="2")]
        ),
    )
    result = await run(crm, act({"type": "exclude_contact"}))
    assert result.data == {"exclusion_ids": ["1", "2"]}
    ((_, request, _),) = [c for c in crm.calls if c[0] == "ExcludeContact"]
    assert (request.contact_id, request.lead_id) == ("4", "7")
    assert request.reason == 'rule 5: enter "Interesting"'


async def test_a_move_of_a_lead_already_there_is_not_made_again() -> None:
    crm = FakeStub(GetLead=[LEAD, crm_pb2.Lead(id="7", stage_id="15")], MoveLead=LEAD)
    await run(crm, act({"type": "move", "stage_id": "15"}))
    await run(crm, act({"type": "move", "stage_id": "15"}))
    moves = [r for name, r, _ in crm.calls if name == "MoveLead"]
    assert [(r.id, r.stage_id) for r in moves] == [("7", "15")]


async def test_a_delayed_action_does_nothing_once_the_lead_left_the_stage() -> None:
    crm = FakeStub(GetLead=LEAD)
    result = await run(crm, act({"type": "move", "stage_id": "15"}, stage_id="12"))
    assert result.status == "cancelled" and [c[0] for c in crm.calls] == ["GetLead"]


async def test_a_task_about_a_lead_names_the_lead() -> None:
    crm = FakeStub(GetLead=LEAD)
    notifications = FakeStub(CreateTask=notifications_pb2.Task(id="77", assignee_id="8"))
    action = {"type": "create_task", "title": "Discuss lead with management",
              "assignee_id": "8", "deadline": "2026-12-03T09:00:00+00:00"}  # fmt: skip
    result = await run(crm, act(action), notifications)
    assert result.data == {"task_id": "77"}
    ((_, request, _),) = notifications.calls
    assert (request.deal_id, request.description, request.idempotency_key) == (
        "",
        "Lead 7: Stands",
        KEY,
    )
    assert request.deadline.ToJsonString() == "2026-12-03T09:00:00Z"


async def test_the_lead_s_stage_is_looked_up() -> None:
    crm = FakeStub(GetLead=LEAD)
    stage = await ActivityEnvironment().run(activities(crm).lead_stage, LeadStageInput("7"))
    assert stage == "13"
