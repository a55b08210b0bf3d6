"""Starting and listing the processes of a deal."""

from __future__ import annotations

from services.common.errors import NotFound
from tests.unit.gateway.conftest import USER_ID, World, deal_msg
from workflows.api import TooManyRuns


async def test_start_process(world: World) -> None:
    world.deals.answers["GetDeal"] = deal_msg()

    reply = await world.http.post(
        "/api/v1/deals/42/processes",
        json={"process": "sample_return", "params": {"sample": "S-1"}},
        headers=world.auth(),
    )

    assert reply.status_code == 201
    assert reply.json() == {
        "workflow_id": "deal-42/sample-return/1",
        "process": "sample_return",
        "deal_id": 42,
    }
    assert world.processes.started == [
        {
            "deal_id": "42",
            "pipeline_id": "3",
            "process": "sample_return",
            "params": {"sample": "S-1"},
            "initiator_id": str(USER_ID),
            "task_queue": "dealflow",
            "start_key": "",
        }
    ]


async def test_a_keyed_start_carries_its_key_to_the_run(world: World) -> None:
    world.deals.answers["GetDeal"] = deal_msg()
    headers = {**world.auth(), "Idempotency-Key": "start-1"}
    body = {"process": "sample_return", "params": {}}

    first = await world.http.post("/api/v1/deals/42/processes", json=body, headers=headers)
    other = {**headers, "Idempotency-Key": "start-2"}
    second = await world.http.post("/api/v1/deals/42/processes", json=body, headers=other)

    assert first.status_code == second.status_code == 201
    keys = [s["start_key"] for s in world.processes.started]
    assert len(keys) == 2 and all(len(k) == 64 for k in keys) and keys[0] != keys[1]


async def test_unknown_process_is_422(world: World) -> None:
    world.deals.answers["GetDeal"] = deal_msg()
    world.processes.error = ValueError("unknown process 'teleport'")

    reply = await world.http.post(
        "/api/v1/deals/42/processes", json={"process": "teleport"}, headers=world.auth()
    )

    assert reply.status_code == 422
    assert reply.json()["detail"] == "unknown process 'teleport'"


async def test_too_many_runs_is_409(world: World) -> None:
    world.deals.answers["GetDeal"] = deal_msg()
    world.processes.error = TooManyRuns("deal 42 already has 200 runs of sample_return")

    reply = await world.http.post(
        "/api/v1/deals/42/processes", json={"process": "sample_return"}, headers=world.auth()
    )

    assert reply.status_code == 409


async def test_no_process_for_an_invisible_deal(world: World) -> None:
    world.deals.answers["GetDeal"] = NotFound("deal 42 not found")

    reply = await world.http.post(
        "/api/v1/deals/42/processes", json={"process": "sample_return"}, headers=world.auth()
    )

    assert reply.status_code == 404
    assert world.processes.started == []


async def test_list_processes(world: World) -> None:
    world.deals.answers["GetDeal"] = deal_msg()
    world.processes.running = [
        {
            "id": "deal-42/sample-return/1",
            "process": "sample_return",
            "status": "RUNNING",
            "started_at": "2026-11-02T10:00:00Z",
            "stage": "hand_over",
        }
    ]

    reply = await world.http.get("/api/v1/deals/42/processes", headers=world.auth())

    assert reply.status_code == 200
    assert reply.json()[0]["id"] == "deal-42/sample-return/1"
    assert reply.json()[0]["stage"] == "hand_over"
