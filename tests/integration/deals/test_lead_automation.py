"""Automation on leads in the deals service against real PostgreSQL: a lead funnel's rule
planned on a lead (the pipeline `convert_lead` chooses by "Has spec?", resolved), recorded
once in the run log under the lead (`lead_id`, not `deal_id`), its steps recorded, the
lead's log listed for whoever sees the lead only, and the deal's log untouched."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from dealflow.deals.v1 import automation_pb2 as apb
from dealflow.deals.v1 import crm_pb2 as cpb
from dealflow.deals.v1 import deals_pb2 as pb

from services.common.errors import NotFound, ValidationFailed
from services.common.grpc_client import call
from services.common.protoconv import from_struct, to_struct
from tests.integration.deals.conftest import Stubs

pytestmark = pytest.mark.integration


async def pipeline(stub: Any, admin: pb.User, kind: str, *stages: str) -> pb.Pipeline:
    made = await call(
        stub.CreatePipeline,
        pb.CreatePipelineRequest(
            name=f"{kind} {uuid.uuid4().hex[:6]}",
            kind=kind,
            stages=[pb.StageInput(name=s) for s in stages],
        ),
        actor=admin.id,
    )
    return made  # type: ignore[no-any-return]


async def test_a_lead_s_run_is_planned_logged_and_listed_under_the_lead(
    stubs: Stubs, admin: pb.User
) -> None:
    stub, automation, crm = stubs
    funnel = await pipeline(stub, admin, "lead", "Collect", "Interesting")
    await call(
        stub.CreateField,
        pb.CreateFieldRequest(pipeline_id=funnel.id, code="has_spec", name="h", type="bool"),
        actor=admin.id,
    )
    projects = await pipeline(stub, admin, "deal", "New")
    acquisition = await pipeline(stub, admin, "deal", "New")
    interesting = funnel.stages[1].id
    definition = {
        "name": "Make the deal",
        "trigger": {"event": "enter", "stage_id": int(interesting)},
        "condition": {"field": "has_spec", "op": "not_empty"},
        "actions": [
            {
                "type": "convert_lead",
                "pipeline_by_field": {
                    "field": "has_spec",
                    "values": {"yes": int(projects.id), "no": int(acquisition.id)},
                },
            },
            {"type": "create_task", "title": "Call", "assignee": {"kind": "responsible"}},
        ],
    }
    rule = await call(
        stub.CreateRule,
        pb.CreateRuleRequest(pipeline_id=funnel.id, definition=to_struct(definition)),
        actor=admin.id,
    )
    with pytest.raises(ValidationFailed):  # a lead action on a deal pipeline
        await call(
            stub.CreateRule,
            pb.CreateRuleRequest(pipeline_id=projects.id, definition=to_struct(definition)),
            actor=admin.id,
        )
    lead = await call(
        crm.CreateLead,
        cpb.CreateLeadRequest(
            pipeline_id=funnel.id, title="Stands", fields=to_struct({"has_spec": False})
        ),
        actor=admin.id,
    )
    wid = f"lead-{lead.id}/automation/{rule.id}/e1"
    request = apb.PlanRunRequest(
        workflow_id=wid,
        lead_id=lead.id,
        rule_id=rule.id,
        rule_version=1,
        event_id="e1",
        trigger='enter "Interesting"',
    )
    plan = from_struct((await call(automation.PlanRun, request)).plan)
    assert plan["fires"] and plan["stage_id"] == interesting
    assert plan["actions"][0]["pipeline_id"] == acquisition.id  # "no" chose it
    assert plan["actions"][1]["assignee_id"] == admin.id  # the lead's responsible
    again = from_struct((await call(automation.PlanRun, request)).plan)
    assert again == {**plan, "recorded": {"status": "scheduled", "steps": []}}  # once per run
    await call(
        automation.RecordStep,
        apb.RecordStepRequest(
            workflow_id=wid, index=0, status="done", data=to_struct({"deal_id": "99"})
        ),
    )
    listed = await call(automation.ListRuns, apb.ListRunsRequest(lead_id=lead.id), actor=admin.id)
    (run,) = [from_struct(r) for r in listed.runs]
    assert (run["lead_id"], run["workflow_id"], run["status"]) == (lead.id, wid, "scheduled")
    assert "deal_id" not in run
    assert [(s["type"], s["deal_id"]) for s in run["steps"]] == [("convert_lead", "99")]

    # The deal's log is not the lead's, though the ids may be the same number.
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=projects.id, title="x"), actor=admin.id
    )
    deals_log = await call(automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id))
    assert list(deals_log.runs) == []

    # A lead nobody planned on, or one gone, has nothing; an unknown lead is not found.
    with pytest.raises(NotFound):
        await call(automation.ListRuns, apb.ListRunsRequest(lead_id="999999"), actor=admin.id)
    with pytest.raises(NotFound):
        await call(automation.PlanRun, apb.PlanRunRequest(
            workflow_id="lead-999999/automation/1/e", lead_id="999999", rule_id=rule.id,
            rule_version=1, event_id="e", trigger="created",
        ))  # fmt: skip


async def test_a_dry_run_on_a_lead_answers_the_funnel_s_rules_and_stores_nothing(
    stubs: Stubs, admin: pb.User
) -> None:
    stub, automation, crm = stubs
    funnel = await pipeline(stub, admin, "lead", "Collect", "Interesting")
    other = await pipeline(stub, admin, "lead", "Collect")
    await call(
        stub.CreateField,
        pb.CreateFieldRequest(pipeline_id=funnel.id, code="source", name="s", type="string"),
        actor=admin.id,
    )
    interesting = int(funnel.stages[1].id)
    for name, op in (("Has source", "not_empty"), ("No source", "empty")):
        definition = {
            "name": name,
            "trigger": {"event": "enter", "stage_id": interesting},
            "condition": {"field": "source", "op": op},
            "actions": [
                {"type": "create_task", "title": "Call", "assignee": {"kind": "responsible"}}
            ],
        }
        await call(
            stub.CreateRule,
            pb.CreateRuleRequest(pipeline_id=funnel.id, definition=to_struct(definition)),
            actor=admin.id,
        )
    lead = await call(
        crm.CreateLead,
        cpb.CreateLeadRequest(
            pipeline_id=funnel.id, title="Dry", fields=to_struct({"source": "web"})
        ),
        actor=admin.id,
    )
    trigger = to_struct({"event": "enter", "stage_id": interesting})
    request = apb.DryRunRequest(pipeline_id=funnel.id, lead_id=lead.id, trigger=trigger)
    answers = [
        from_struct(r) for r in (await call(automation.DryRun, request, actor=admin.id)).rules
    ]
    assert [(a["rule_name"], a["fires"]) for a in answers] == [
        ("Has source", True),
        ("No source", False),
    ]
    assert answers[0]["actions"][0]["assignee_id"] == admin.id  # the lead's responsible
    listed = await call(automation.ListRuns, apb.ListRunsRequest(lead_id=lead.id), actor=admin.id)
    assert list(listed.runs) == []  # nothing stored
    got = await call(crm.GetLead, cpb.GetLeadRequest(id=lead.id), actor=admin.id)
    assert got.stage_id == funnel.stages[0].id and got.version == lead.version
    with pytest.raises(ValidationFailed):  # the lead is not on that funnel
        await call(
            automation.DryRun,
            apb.DryRunRequest(pipeline_id=other.id, lead_id=lead.id, trigger=trigger),
            actor=admin.id,
        )
