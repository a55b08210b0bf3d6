"""F12, no stranded spend: the gateway dies after finance committed a submission and before it
started the spend's process. The worker starts the process from the `finance.expense.
submitted` event, and the run is the one the gateway would have started: exactly one.

The gateway is caught between the two steps for real: Temporal is paused (SIGSTOP), so the
gateway's start hangs after the commit; the gateway is then SIGKILLed and Temporal resumed.
"""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org

pytestmark = pytest.mark.timeout(240)


async def exists(temporal: Client, workflow_id: str) -> bool:
    try:
        await temporal.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def test_a_submission_whose_gateway_died_still_starts_its_process_once(
    stack: Stack, org: Org
) -> None:
    resp = await org.manager.post(
        "/expenses", json={"purpose": "Taxi", "amount": "700.00", "due_date": "2026-12-03"}
    )
    assert resp.status_code == 201, resp.text
    expense = resp.json()

    stack.signal("temporal", signal.SIGSTOP)
    try:
        submitting = asyncio.create_task(
            org.manager.post(f"/expenses/{expense['id']}/submit", timeout=120)
        )

        async def committed() -> bool:
            now = await org.manager.get(f"/expenses/{expense['id']}")
            return now.status_code == 200 and now.json()["status"] == "in_approval"

        await eventually(committed, timeout=30, what="finance to take the submission")
        assert not submitting.done(), "the gateway is still starting the process"
        await asyncio.to_thread(stack.kill, "gateway", signal.SIGKILL)
        with pytest.raises(httpx.HTTPError):
            await submitting
    finally:
        stack.signal("temporal", signal.SIGCONT)

    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    run = f"expense-{expense['id']}/expense-payment/1"

    async def started() -> bool:
        return await exists(temporal, run)

    await eventually(started, timeout=60, what="the worker to start the spend's process")
    await asyncio.to_thread(stack.start_again, "gateway")
    head, manager = fresh(org.head), fresh(org.manager)  # the old connections died with it

    async def ready() -> bool:
        try:
            return (await head.get(stack.gateway_url + "/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(ready, timeout=60, what="the gateway to come back")

    async def head_has_the_approval() -> bool:
        tasks = (await head.get("/tasks", params={"assignee": "me", "status": "open"})).json()
        return any(
            t["kind"] == "expense.approval" and t["workflow_id"] == run for t in tasks["items"]
        )

    await eventually(head_has_the_approval, timeout=60, what="the head's approval task")
    assert not await exists(temporal, f"expense-{expense['id']}/expense-payment/2")
    # A client retrying the submission learns it is taken; nothing starts twice.
    again = await manager.post(f"/expenses/{expense['id']}/submit")
    assert again.status_code == 409, again.text
    assert not await exists(temporal, f"expense-{expense['id']}/expense-payment/2")
    await head.aclose()
    await manager.aclose()


def fresh(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A new client of the same user (same base URL and token)."""
    return httpx.AsyncClient(base_url=client.base_url, headers=client.headers, timeout=30)
