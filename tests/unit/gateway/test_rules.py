"""The stage rules routes: admins only, and a rule's process and params are checked against
the process registry before the deals service sees them."""

from __future__ import annotations

from typing import Any

from dealflow.deals.v1 import deals_pb2

from services.common.protoconv import to_struct
from tests.unit.gateway.conftest import World

RULES = "/api/v1/pipelines/3/rules"


def rule_msg(**overrides: Any) -> deals_pb2.Rule:
    values: dict[str, Any] = {
        "id": "7",
        "pipeline_id": "3",
        "stage_id": "11",
        "event": "enter",
        "action": "start_process",
        "process": "client_onboarding",
        "params": to_struct({"template": "onboarding"}),
        "active": True,
        **overrides,
    }
    return deals_pb2.Rule(**values)


def stored(request: deals_pb2.CreateRuleRequest) -> deals_pb2.Rule:
    return rule_msg(process=request.process, params=request.params, stage_id=request.stage_id)


async def test_an_admin_creates_a_rule(world: World) -> None:
    world.deals.answers["CreateRule"] = stored
    body = {"stage_id": 11, "event": "enter", "process": "client_onboarding"}
    reply = await world.http.post(RULES, json=body, headers=world.auth(admin=True))
    assert reply.status_code == 201, reply.text
    assert reply.json()["process"] == "client_onboarding" and reply.json()["id"] == 7
    (call,) = world.deals.called("CreateRule")
    assert (call.request.pipeline_id, call.request.stage_id) == ("3", "11")
    assert call.request.active and call.request.action == "start_process"


async def test_unknown_process_or_bad_params_are_422_naming_the_field(world: World) -> None:
    admin = world.auth(admin=True)
    body = {"stage_id": 11, "event": "enter", "process": "teleport"}
    reply = await world.http.post(RULES, json=body, headers=admin)
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in reply.json()["errors"]] == ["process"]
    assert "client_onboarding" in reply.json()["detail"], "the known processes are named"

    body = {"stage_id": 11, "event": "enter", "process": "sample_return", "params": {}}
    reply = await world.http.post(RULES, json=body, headers=admin)
    assert reply.status_code == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["params"]
    assert world.deals.called("CreateRule") == []


async def test_a_patch_of_params_is_checked_against_the_rule_s_process(world: World) -> None:
    world.deals.answers["GetRule"] = rule_msg(process="sample_return", params=to_struct({}))
    world.deals.answers["UpdateRule"] = rule_msg(active=False)
    admin = world.auth(admin=True)
    reply = await world.http.patch(f"{RULES}/7", json={"params": {"x": 1}}, headers=admin)
    assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == "params"
    reply = await world.http.patch(f"{RULES}/7", json={"active": False}, headers=admin)
    assert reply.status_code == 200, reply.text
    (call,) = world.deals.called("UpdateRule")
    assert list(call.request.set_fields) == ["active"] and not call.request.active
    reply = await world.http.patch(f"{RULES}/7", json={"event": None}, headers=admin)
    assert reply.status_code == 422


async def test_rules_are_for_admins(world: World) -> None:
    reply = await world.http.get(RULES, headers=world.auth())
    assert reply.status_code == 403
    world.deals.answers["DeleteRule"] = rule_msg()
    reply = await world.http.delete(f"{RULES}/7", headers=world.auth(admin=True))
    assert reply.status_code == 204
