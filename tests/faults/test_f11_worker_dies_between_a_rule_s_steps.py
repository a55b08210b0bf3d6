"""F11: the worker dies (SIGKILL, from a fault point) while it handles a stage change for a
rule with nothing to wait for (a task and a note): after the run is planned in the run log
and before its workflow starts, or after the start and before the event was acked; and, with
such runs run by the triggers themselves (`WORKER_INLINE_RULE_RUNS=true`), also between its
two actions. The event is redelivered once the worker is
back; the run is one run (an unfinished one handed to its workflow at the first action not
done), its task is created once and its note written once."""

from __future__ import annotations

import asyncio

import nats
import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org, arm
from workflows.triggers import DURABLE, STREAM

pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize(
    ("inline", "point"),
    [
        (False, "worker.rule_planned_not_started"),
        (False, "worker.rule_started_not_acked"),
        (True, "worker.rule_planned_not_started"),
        (True, "worker.rule_action_done"),
        (True, "worker.rule_started_not_acked"),
    ],
)
async def test_f11_a_rule_cut_off_by_the_worker_dying_runs_once(
    stack: Stack, org: Org, inline: bool, point: str
) -> None:
    await _worker_running(stack, inline=inline)
    try:
        await _cut_off_once(stack, org, point)
    finally:
        await _worker_running(stack, inline=False)


async def _worker_running(stack: Stack, *, inline: bool) -> None:
    """The worker (re)started with inline rule runs on or off."""
    worker = stack.process("worker").popen
    assert worker is not None
    if worker.poll() is None:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
    env = {"WORKER_INLINE_RULE_RUNS": str(inline).lower()}
    await asyncio.to_thread(stack.start_again, "worker", env=env)


async def _cut_off_once(stack: Stack, org: Org, point: str) -> None:
    pipeline = (await org.admin.get(f"/pipelines/{org.pipeline_id}")).json()
    contract = pipeline["stages"][1]["id"]
    resp = await org.admin.post(
        f"/pipelines/{org.pipeline_id}/rules",
        json={
            "name": f"F11 {point}",
            "trigger": {"event": "enter", "stage_id": contract},
            "actions": [
                {
                    "type": "create_task",
                    "title": "Send the contract",
                    "assignee": {"kind": "responsible"},
                },
                {"type": "add_timeline_note", "text": f"F11 {point}"},
            ],
        },
    )
    assert resp.status_code == 201, resp.text
    rule_id = resp.json()["id"]
    deal = (
        await org.manager.post("/deals", json={"pipeline_id": org.pipeline_id, "title": "F11"})
    ).json()

    arm(stack, point)
    resp = await org.manager.post(f"/deals/{deal['id']}/move", json={"stage_id": contract})
    assert resp.status_code == 200, resp.text
    worker = stack.process("worker").popen
    assert worker is not None
    await asyncio.to_thread(worker.wait, 60)  # it passed the point and died there
    await asyncio.to_thread(stack.start_again, "worker")

    async def the_task() -> list[dict[str, object]]:
        tasks = (await org.manager.get("/tasks", params={"deal_id": deal["id"]})).json()
        return [t for t in tasks["items"] if t["kind"] == "automation.task"]

    await eventually(the_task, timeout=90, what="the rule's task after the restart")
    await eventually(lambda: all_acked(stack), timeout=90, what="the event redelivered and acked")
    runs = (await org.manager.get(f"/deals/{deal['id']}/automation")).json()
    assert len(runs) == 1, runs

    async def run_done() -> bool:
        (run,) = (await org.manager.get(f"/deals/{deal['id']}/automation")).json()
        return run["status"] == "done"

    await eventually(run_done, timeout=90, what="the run done")
    (run,) = (await org.manager.get(f"/deals/{deal['id']}/automation")).json()
    assert [(s["index"], s["status"]) for s in run["steps"]] == [(0, "done"), (1, "done")]
    assert len(await the_task()) == 1
    timeline = (await org.manager.get(f"/deals/{deal['id']}/timeline")).json()
    notes = [e for e in timeline["items"] if e.get("text") == f"F11 {point}"]
    assert len(notes) == 1, notes
    await org.admin.delete(f"/pipelines/{org.pipeline_id}/rules/{rule_id}")


async def all_acked(stack: Stack) -> bool:
    """The worker's triggers hold no event unacked or undelivered."""
    nc = await nats.connect(stack.nats_url)
    try:
        info = await nc.jetstream().consumer_info(STREAM, DURABLE)
    finally:
        await nc.close()
    return info.num_ack_pending == 0 and info.num_pending == 0
