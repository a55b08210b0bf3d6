"""Record histories of the spend processes (SM-6 supplier payment, SN-6 expense payment)
and of the approval chains they start, for the replay test.

    .venv/bin/python -m tests.histories.record_spends

Keep the old files when a process gains a path: running processes have the old histories.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.histories.record_approvals import save
from tests.unit.approvals.chain_fakes import ACCOUNTANT, decide
from tests.unit.workflows.fakes import DEAL_ID, HEAD, MANAGER, PIPELINE_ID, start_env
from tests.unit.workflows.spend_fakes import CEO, SPEND_ID, SpendFakes, open_task
from workflows.api import WORKFLOWS
from workflows.kit.contracts import ProcessInput


async def record(
    client: Client, process: str, name: str, fakes: SpendFakes, *, reject: bool
) -> None:
    async with Worker(
        client,
        task_queue=(queue := f"rec-{uuid.uuid4().hex}"),
        workflows=list(WORKFLOWS),
        activities=fakes.activities(),
    ):
        pipeline = PIPELINE_ID if fakes.deal_id else ""
        parent = await client.start_workflow(
            process,
            ProcessInput(fakes.deal_id, pipeline, MANAGER.id, {"spend_id": SPEND_ID}),
            id=name,  # the replay test names a history by its file
            task_queue=queue,
        )
        chain: WorkflowHandle[Any, Any] | None = None
        if fakes.deal_id:
            chain = client.get_workflow_handle(f"{parent.id}/approval-chain")
            who = CEO if process == "supplier_payment" else HEAD
            task = await open_task(chain, fakes, f"approval.{fakes.chain.template.code}")
            await decide(chain, task, who, *verdict(reject), **why(reject))
        else:
            task = await open_task(parent, fakes, f"{fakes.kind}.approval")
            await decide(parent, task, HEAD, *verdict(reject), **why(reject))
        if not reject:
            pay = await open_task(parent, fakes, f"{fakes.kind}.pay", who=ACCOUNTANT.id)
            await decide(parent, pay, ACCOUNTANT, "paid", reference="PP-1")
            if process == "supplier_payment":
                close = await open_task(parent, fakes, "supplier_payment.close")
                await decide(parent, close, ACCOUNTANT, "closed", documents=["Act 1"])
        await parent.result()
        save(name, await parent.fetch_history())
        if chain is not None:
            save(f"approval_chain_{name}", await chain.fetch_history())


def verdict(reject: bool) -> tuple[str, ...]:
    return ("reject",) if reject else ("approve",)


def why(reject: bool) -> dict[str, str]:
    return {"comment": "attach the receipt"} if reject else {}


async def main(suffix: str = "") -> None:
    """`suffix` names a new generation (e.g. `v2` after a patched change), so the histories
    of the runs recorded before stay next to it and keep replaying."""
    env: WorkflowEnvironment = await start_env()
    s = f"_{suffix}" if suffix else ""
    try:
        sp, ep = "supplier_payment", "expense_payment"
        await record(env.client, sp, f"{sp}_closed{s}", SpendFakes(), reject=False)
        await record(env.client, sp, f"{sp}_rejected{s}", SpendFakes(), reject=True)
        await record(env.client, ep, f"{ep}_deal_paid{s}", exp(DEAL_ID), reject=False)
        await record(env.client, ep, f"{ep}_paid{s}", exp(""), reject=False)
        await record(env.client, ep, f"{ep}_rejected{s}", exp(""), reject=True)
    finally:
        await env.shutdown()


def exp(deal_id: str) -> SpendFakes:
    return SpendFakes(kind="expense", deal_id=deal_id)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
