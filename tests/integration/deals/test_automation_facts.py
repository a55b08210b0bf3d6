"""What deal and lead events carry for the worker's triggers, against real PostgreSQL: the
pipeline's rules version, bumped by every write of its rules, and the record's number of
waiting runs, kept in step with the run log (planned, waiting on a move, done) and read
under the move's lock."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from dealflow.deals.v1 import automation_pb2 as apb
from dealflow.deals.v1 import crm_pb2 as cpb
from dealflow.deals.v1 import deals_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.grpc_client import call
from services.common.protoconv import to_struct
from services.deals.tables import outbox, pipelines

pytestmark = pytest.mark.integration


async def last_event(engine: AsyncEngine, kind: str, subject: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        query = (
            sa.select(outbox.c.data)
            .where(outbox.c.type == kind, outbox.c.subject == subject)
            .order_by(outbox.c.seq.desc())
            .limit(1)
        )
        return dict((await conn.execute(query)).scalar_one())


async def rules_version(engine: AsyncEngine, pipeline_id: str) -> int:
    async with engine.connect() as conn:
        query = sa.select(pipelines.c.rules_version).where(pipelines.c.id == int(pipeline_id))
        return int((await conn.execute(query)).scalar_one())


async def make_pipeline(stub: Any, admin: pb.User, kind: str = "deal") -> pb.Pipeline:
    return await call(
        stub.CreatePipeline,
        pb.CreatePipelineRequest(
            name=f"Facts {uuid.uuid4().hex[:6]}",
            kind=kind,
            stages=[
                pb.StageInput(name="New"),
                pb.StageInput(name="Next"),
                pb.StageInput(name="Last"),
            ],
        ),
        actor=admin.id,
    )


NOTE = {"type": "add_timeline_note", "text": "n"}
TASK = {"type": "create_task", "title": "Call", "assignee": {"kind": "responsible"}}


def note_rule(
    pipeline: pb.Pipeline, stage_id: str, action: dict[str, Any] = NOTE, **more: Any
) -> pb.CreateRuleRequest:
    definition = {
        "name": f"rule {uuid.uuid4().hex[:4]}",
        "trigger": {"event": "enter", "stage_id": int(stage_id)},
        "actions": [action],
        **more,
    }
    return pb.CreateRuleRequest(pipeline_id=pipeline.id, definition=to_struct(definition))


async def test_every_write_of_a_pipeline_s_rules_bumps_the_version_its_events_carry(
    stubs: Any, admin: pb.User, engine: AsyncEngine
) -> None:
    stub, _, _ = stubs
    clients = await make_pipeline(stub, admin)
    other = await make_pipeline(stub, admin)
    following = clients.stages[1].id
    start = await rules_version(engine, clients.id)
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=clients.id, title="V"), actor=admin.id
    )
    created = await last_event(engine, "deals.deal.created", f"deal/{deal.id}")
    assert created["rules_versions"] == {clients.id: start}

    rule = await call(stub.CreateRule, note_rule(clients, following), actor=admin.id)
    off = pb.UpdateRuleRequest(pipeline_id=clients.id, id=rule.id, set_fields=["active"])
    await call(stub.UpdateRule, off, actor=admin.id)  # deactivated
    assert await rules_version(engine, clients.id) == start + 2
    moved = await call(stub.MoveDeal, pb.MoveDealRequest(id=deal.id, stage_id=following))
    event = await last_event(engine, "deals.deal.stage_changed", f"deal/{deal.id}")
    assert event["rules_versions"] == {clients.id: start + 2}
    assert event["waiting_runs"] == 0

    await call(stub.DeleteRule, pb.DeleteRuleRequest(pipeline_id=clients.id, id=rule.id))
    assert await rules_version(engine, clients.id) == start + 3
    change = pb.UpdateDealRequest(
        id=deal.id, expected_version=moved.version, title="V2", set_fields=["title"]
    )
    await call(stub.UpdateDeal, change, actor=admin.id)
    updated = await last_event(engine, "deals.deal.updated", f"deal/{deal.id}")
    assert (updated["rules_versions"], updated["waiting_runs"]) == ({clients.id: start + 3}, 0)

    # A move into another pipeline names both versions; that pipeline's own did not move.
    before_other = await rules_version(engine, other.id)
    await call(
        stub.MoveDeal,
        pb.MoveDealRequest(id=deal.id, stage_id=other.stages[0].id, pipeline_id=other.id),
    )
    across = await last_event(engine, "deals.deal.stage_changed", f"deal/{deal.id}")
    assert across["rules_versions"] == {clients.id: start + 3, other.id: before_other}


async def test_a_record_s_waiting_runs_follow_the_run_log_and_ride_on_its_moves(
    stubs: Any, admin: pb.User, engine: AsyncEngine
) -> None:
    stub, automation, _ = stubs
    clients = await make_pipeline(stub, admin)
    new, following, last = (s.id for s in clients.stages)
    delayed = await call(
        stub.CreateRule, note_rule(clients, following, delay={"hours": 1}), actor=admin.id
    )
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=clients.id, title="W"), actor=admin.id
    )

    async def plan(event_id: str) -> str:
        wid = f"deal-{deal.id}/automation/{delayed.id}/{event_id}"
        ask = apb.PlanRunRequest(
            workflow_id=wid, deal_id=deal.id, rule_id=delayed.id, event_id=event_id, trigger="t"
        )
        await call(automation.PlanRun, ask)
        return wid

    async def waiting_on_move(stage_id: str) -> int:
        await call(stub.MoveDeal, pb.MoveDealRequest(id=deal.id, stage_id=stage_id))
        event = await last_event(engine, "deals.deal.stage_changed", f"deal/{deal.id}")
        return int(event["waiting_runs"])

    first, second = await plan("e1"), await plan("e2")
    await call(automation.PlanRun, apb.PlanRunRequest(  # asked again: no second count
        workflow_id=first, deal_id=deal.id, rule_id=delayed.id, event_id="e1", trigger="t"
    ))  # fmt: skip
    assert await waiting_on_move(following) == 2
    step = apb.RecordStepRequest(workflow_id=first, index=0, status="done", run_status="running")
    await call(automation.RecordStep, step)
    assert await waiting_on_move(last) == 1
    leave = apb.RecordStepRequest(
        workflow_id=first, index=-1, status="waiting", run_status="waiting_leave"
    )
    await call(automation.RecordStep, leave)
    assert await waiting_on_move(following) == 2
    for wid, status in ((first, "done"), (second, "cancelled")):
        end = apb.RecordStepRequest(workflow_id=wid, index=-1, status=status, run_status=status)
        await call(automation.RecordStep, end)
    assert await waiting_on_move(new) == 0
    again = apb.RecordStepRequest(workflow_id=second, index=-1, status="done", run_status="done")
    await call(automation.RecordStep, again)  # an ended run ending again counts nothing
    assert await waiting_on_move(following) == 0


async def test_a_lead_s_events_carry_its_funnel_s_version_and_waiting_runs(
    stubs: Any, admin: pb.User, engine: AsyncEngine
) -> None:
    stub, automation, crm = stubs
    funnel = await make_pipeline(stub, admin, "lead")
    _, following, last = (s.id for s in funnel.stages)
    rule = await call(
        stub.CreateRule, note_rule(funnel, following, TASK, delay={"hours": 1}), actor=admin.id
    )
    lead = await call(
        crm.CreateLead, cpb.CreateLeadRequest(pipeline_id=funnel.id, title="L"), actor=admin.id
    )
    version = await rules_version(engine, funnel.id)
    created = await last_event(engine, "deals.lead.created", f"lead/{lead.id}")
    assert created["rules_versions"] == {funnel.id: version}
    wid = f"lead-{lead.id}/automation/{rule.id}/e1"
    ask = apb.PlanRunRequest(
        workflow_id=wid, lead_id=lead.id, rule_id=rule.id, event_id="e1", trigger="t"
    )
    await call(automation.PlanRun, ask)
    await call(crm.MoveLead, cpb.MoveLeadRequest(id=lead.id, stage_id=last), actor=admin.id)
    moved = await last_event(engine, "deals.lead.stage_changed", f"lead/{lead.id}")
    assert (moved["rules_versions"], moved["waiting_runs"]) == ({funnel.id: version}, 1)
