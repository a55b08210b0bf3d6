"""Automation rules in the first shape (enter/leave -> start a process) through gRPC
against real PostgreSQL: admins only, audited, checked, and the active rules of a stage
for the worker's triggers (an internal call, no actor)."""

from __future__ import annotations

import uuid

import pytest
from dealflow.deals.v1 import access_pb2
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc

from services.common.errors import NotFound, PermissionDenied, ValidationFailed
from services.common.grpc_client import call
from services.common.protoconv import from_struct, to_struct

pytestmark = pytest.mark.integration

Stub = pb_grpc.DealsServiceStub


async def pipeline(stub: Stub, admin: pb.User) -> pb.Pipeline:
    request = pb.CreatePipelineRequest(
        name=f"Clients {uuid.uuid4().hex[:6]}",
        stages=[pb.StageInput(name="New"), pb.StageInput(name="Terms approval")],
    )
    return await call(stub.CreatePipeline, request, actor=admin.id)


async def test_admins_keep_the_rules_of_a_pipeline(stub: Stub, admin: pb.User) -> None:
    clients = await pipeline(stub, admin)
    new, terms = (s.id for s in clients.stages)
    onboarding = pb.CreateRuleRequest(
        pipeline_id=clients.id,
        stage_id=terms,
        event="enter",
        process="client_onboarding",
        params=to_struct({"template": "onboarding"}),
    )
    created = await call(stub.CreateRule, onboarding, actor=admin.id)
    assert (created.stage_id, created.event, created.action) == (terms, "enter", "start_process")
    assert created.active and from_struct(created.params) == {"template": "onboarding"}
    leaving = pb.CreateRuleRequest(
        pipeline_id=clients.id, stage_id=new, event="leave", process="sample_return", active=False
    )
    inactive = await call(stub.CreateRule, leaving, actor=admin.id)
    assert not inactive.active

    everything = await call(stub.ListRules, pb.ListRulesRequest(pipeline_id=clients.id))
    assert [r.id for r in everything.rules] == [created.id, inactive.id]
    active = await call(
        stub.ListRules, pb.ListRulesRequest(pipeline_id=clients.id, active_only=True)
    )
    assert [r.id for r in active.rules] == [created.id]
    of_new = await call(stub.ListRules, pb.ListRulesRequest(pipeline_id=clients.id, stage_id=new))
    assert [r.id for r in of_new.rules] == [inactive.id]

    switch_on = pb.UpdateRuleRequest(
        pipeline_id=clients.id, id=inactive.id, set_fields=["active"], active=True
    )
    updated = await call(stub.UpdateRule, switch_on, actor=admin.id)
    assert updated.active and from_struct(updated.params) == {} and updated.version == 2
    got = await call(stub.GetRule, pb.GetRuleRequest(pipeline_id=clients.id, id=inactive.id))
    assert got.active

    deleted = await call(
        stub.DeleteRule,
        pb.DeleteRuleRequest(pipeline_id=clients.id, id=inactive.id),
        actor=admin.id,
    )
    assert deleted.id == inactive.id
    with pytest.raises(NotFound):
        await call(stub.GetRule, pb.GetRuleRequest(pipeline_id=clients.id, id=inactive.id))

    audit = await call(
        stub.ListAudit,
        access_pb2.ListAuditRequest(subject_type="stage_rule", subject_id=inactive.id),
        actor=admin.id,
    )
    assert [e.action for e in audit.entries] == ["rules.delete", "rules.update", "rules.create"]
    assert all(e.actor_id == admin.id for e in audit.entries)
    assert from_struct(audit.entries[1].before)["active"] is False
    assert from_struct(audit.entries[1].after)["active"] is True


async def test_rules_are_refused_to_others_and_checked(stub: Stub, admin: pb.User) -> None:
    clients = await pipeline(stub, admin)
    manager = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email=f"m-{uuid.uuid4().hex[:6]}@x.test", password="pw-123456", roles=["manager"]
        ),
        actor=admin.id,
    )
    good = pb.CreateRuleRequest(
        pipeline_id=clients.id, stage_id=clients.stages[1].id, event="enter", process="p"
    )
    with pytest.raises(PermissionDenied):
        await call(stub.CreateRule, good, actor=manager.id)
    with pytest.raises(PermissionDenied):
        await call(stub.ListRules, pb.ListRulesRequest(pipeline_id=clients.id), actor=manager.id)

    other = await pipeline(stub, admin)
    foreign_stage = pb.CreateRuleRequest(
        pipeline_id=clients.id, stage_id=other.stages[0].id, event="on", process="p"
    )
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateRule, foreign_stage, actor=admin.id)
    assert [p.field for p in err.value.problems] == ["trigger.event"]
    foreign_stage.event = "enter"
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateRule, foreign_stage, actor=admin.id)
    assert [p.field for p in err.value.problems] == ["trigger.stage_id"]

    rule = await call(stub.CreateRule, good, actor=admin.id)
    with pytest.raises(NotFound):  # the rule belongs to another pipeline
        await call(stub.GetRule, pb.GetRuleRequest(pipeline_id=other.id, id=rule.id))
    with pytest.raises(NotFound):
        await call(stub.ListRules, pb.ListRulesRequest(pipeline_id="999999"))
    with pytest.raises(ValidationFailed):
        bad = pb.UpdateRuleRequest(pipeline_id=clients.id, id=rule.id, set_fields=["pipeline_id"])
        await call(stub.UpdateRule, bad, actor=admin.id)
