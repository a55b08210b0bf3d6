"""The automation rules routes: admins only; the first shape is taken as a start_process
rule, and a start_process action's process and params are checked against the process
registry before the deals service sees them."""

from __future__ import annotations

from typing import Any

from dealflow.deals.v1 import deals_pb2

from services.common.protoconv import from_struct, to_struct
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
    values.setdefault(
        "definition",
        to_struct(
            {
                "name": "r",
                "trigger": {"event": values["event"], "stage_id": int(values["stage_id"])},
                "actions": [
                    {
                        "type": "start_process",
                        "process": values["process"],
                        "params": from_struct(values["params"]),
                    }
                ],
            }
        ),
    )
    return deals_pb2.Rule(**values)


def stored(request: deals_pb2.CreateRuleRequest) -> deals_pb2.Rule:
    definition = from_struct(request.definition)
    (action,) = definition["actions"]
    return rule_msg(
        process=action["process"],
        params=to_struct(action["params"]),
        stage_id=str(definition["trigger"]["stage_id"]),
        definition=request.definition,
        version=1,
    )


async def test_an_admin_creates_a_rule(world: World) -> None:
    world.deals.answers["CreateRule"] = stored
    body = {"stage_id": 11, "event": "enter", "process": "client_onboarding"}
    reply = await world.http.post(RULES, json=body, headers=world.auth(admin=True))
    assert reply.status_code == 201, reply.text
    assert reply.json()["process"] == "client_onboarding" and reply.json()["id"] == 7
    assert reply.json()["trigger"] == {"event": "enter", "stage_id": 11}
    (call,) = world.deals.called("CreateRule")
    definition = from_struct(call.request.definition)
    assert call.request.pipeline_id == "3" and definition["active"]
    assert definition["actions"] == [
        {"type": "start_process", "process": "client_onboarding", "params": {}}
    ]


async def test_a_start_process_action_is_checked_at_its_place(world: World) -> None:
    body = {
        "name": "Onboard",
        "trigger": {"event": "enter", "stage_id": 11},
        "actions": [
            {"type": "add_timeline_note", "text": "x"},
            {"type": "start_process", "process": "teleport"},
        ],
    }
    reply = await world.http.post(RULES, json=body, headers=world.auth(admin=True))
    assert reply.status_code == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["actions[1].process"]


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
    assert list(call.request.set_fields) == ["definition"]
    assert from_struct(call.request.definition) == {"active": False}
    reply = await world.http.patch(f"{RULES}/7", json={"event": None}, headers=admin)
    assert reply.status_code == 422


async def test_rules_are_for_admins(world: World) -> None:
    reply = await world.http.get(RULES, headers=world.auth())
    assert reply.status_code == 403
    world.deals.answers["DeleteRule"] = rule_msg()
    reply = await world.http.delete(f"{RULES}/7", headers=world.auth(admin=True))
    assert reply.status_code == 204


async def test_the_dry_run_path_is_not_a_rule_id(world: World) -> None:
    reply = await world.http.patch(f"{RULES}/dry-run", json={}, headers=world.auth(admin=True))
    assert reply.status_code == 405 and reply.headers["allow"] == "POST"
    paths = (await world.http.get("/openapi.json")).json()["paths"]
    assert set(paths["/api/v1/pipelines/{pipeline_id}/rules/{rule_id}"]) == {
        "get",
        "patch",
        "delete",
    }
