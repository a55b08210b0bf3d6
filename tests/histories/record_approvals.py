"""Record histories of the approval processes (PIT-2 onboarding, SM-4 contract approval)
and of the approval chain they start, for the replay test.

    .venv/bin/python -m tests.histories.record_approvals

Keep the old files when a process gains a path: running processes have the old histories.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import ACCOUNTANT, LAWYER, OPERATOR, ChainFakes, decide
from tests.unit.workflows.fakes import DEAL_ID, HEAD, MANAGER, PIPELINE_ID, eventually, start_env
from workflows.api import WORKFLOWS
from workflows.kit.contracts import STATE_QUERY, ProcessInput

HERE = Path(__file__).parent


async def open_task(handle: WorkflowHandle[Any, Any], fakes: ChainFakes, kind: str, n: int) -> str:
    async def is_open() -> bool:
        found = fakes.tasks_of(kind)
        if len(found) < n:
            return False
        try:
            state = await handle.query(STATE_QUERY)
        except Exception:  # the child may not have started yet
            return False
        return fakes.task_id(found[n - 1]) in state["open_task_ids"]

    await eventually(is_open, f"task {kind} #{n}")
    return fakes.task_id(fakes.tasks_of(kind)[n - 1])


async def approve_round(chain: WorkflowHandle[Any, Any], fakes: ChainFakes, n: int) -> None:
    await decide(
        chain,
        await open_task(chain, fakes, "approval.head", n),
        HEAD,
        "approve",
        fields={"credit_limit": "200000"},
    )
    await decide(
        chain, await open_task(chain, fakes, "approval.accounting", 1), ACCOUNTANT, "approve"
    )
    await decide(
        chain,
        await open_task(chain, fakes, "approval.operator", 1),
        OPERATOR,
        "approve",
        fields={"contract_number": f"K-{n}"},
    )
    await decide(
        chain,
        await open_task(chain, fakes, "approval.lawyer", 1),
        LAWYER,
        "approve",
        file_ids=["f-1"],
    )


async def run_onboarding(client: Client, task_queue: str, name: str, *, reject: bool) -> None:
    fakes = ChainFakes()
    async with Worker(
        client, task_queue=task_queue, workflows=list(WORKFLOWS), activities=fakes.activities()
    ):
        parent = await client.start_workflow(
            "client_onboarding",
            ProcessInput(DEAL_ID, PIPELINE_ID, MANAGER.id, {"template": "pit2"}),
            id=f"client_onboarding_{name}",  # the replay test names a history by its file
            task_queue=task_queue,
        )
        chain = client.get_workflow_handle(f"{parent.id}/approval-chain")
        n = 1
        if reject:
            task = await open_task(chain, fakes, "approval.head", 1)
            await decide(chain, task, HEAD, "reject", comment="limit too high")
            back = await open_task(chain, fakes, "approval.returned", 1)
            await decide(chain, back, MANAGER, "restart", reason="lowered the limit")
            n = 2
        await approve_round(chain, fakes, n)
        await parent.result()
        save(f"client_onboarding_{name}", await parent.fetch_history())
        save(f"approval_chain_{name}", await chain.fetch_history())


async def run_contract(client: Client, task_queue: str, name: str = "signed") -> None:
    fakes = ChainFakes()
    async with Worker(
        client, task_queue=task_queue, workflows=list(WORKFLOWS), activities=fakes.activities()
    ):
        parent = await client.start_workflow(
            "contract_approval",
            ProcessInput(DEAL_ID, PIPELINE_ID, MANAGER.id, {"contract_id": "5"}),
            id=f"contract_approval_{name}",
            task_queue=task_queue,
        )
        chain = client.get_workflow_handle(f"{parent.id}/approval-chain")
        await approve_round(chain, fakes, 1)
        send = await open_task(parent, fakes, "contract.send", 1)
        await decide(parent, send, MANAGER, "sent")
        scan = await open_task(parent, fakes, "contract.signed_scan", 1)
        await decide(parent, scan, MANAGER, "signed", file_id="f-scan")
        await parent.result()
        save(f"contract_approval_{name}", await parent.fetch_history())
        save("approval_chain_contract" + name.removeprefix("signed"), await chain.fetch_history())


def save(name: str, history: Any) -> None:
    path = HERE / f"{name}.json"
    path.write_text(history.to_json())
    print(path)


async def main(suffix: str = "") -> None:
    """`suffix` names a new generation (see record_spends.main)."""
    env: WorkflowEnvironment = await start_env()
    s = f"_{suffix}" if suffix else ""
    try:
        await run_onboarding(env.client, f"rec-{uuid.uuid4().hex}", f"approved{s}", reject=False)
        await run_onboarding(env.client, f"rec-{uuid.uuid4().hex}", f"restart{s}", reject=True)
        await run_contract(env.client, f"rec-{uuid.uuid4().hex}", f"signed{s}")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
