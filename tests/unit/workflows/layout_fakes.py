"""Fakes and a driver of SM-3 layout revision runs, shared by its tests and the recorder."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle

from tests.unit.approvals.chain_fakes import ChainFakes, decide
from tests.unit.workflows.fakes import MANAGER, eventually, start_deal_process, state
from workflows.activities.types import UserInfo
from workflows.processes.layout_revision import LayoutRevision

DESIGNER = UserInfo(id="u-designer", name="Dora Designer")
CEO = UserInfo(id="u-ceo", name="Carl CEO")
BRIEF, SUBMIT, REVIEW, FINAL = (
    "layout_revision.brief",
    "layout_revision.layout.submit",
    "layout_revision.layout.review",
    "layout_revision.final",
)


def layout_fakes() -> ChainFakes:
    return ChainFakes(roles={"designer": [DESIGNER.id], "ceo": [CEO.id]})


async def start_layout(
    client: Client, task_queue: str, *, workflow_id: str = "", **params: Any
) -> WorkflowHandle[Any, Any]:
    return await start_deal_process(
        client, task_queue, LayoutRevision.run, "layout_revision", params, workflow_id=workflow_id
    )


async def next_task(handle: WorkflowHandle[Any, Any], fakes: ChainFakes, kind: str, n: int) -> str:
    """The id of the n-th task of `kind` (1-based), once the process accepts answers to it."""

    async def is_open() -> bool:
        tasks = fakes.tasks_of(kind)
        return (
            len(tasks) >= n and fakes.task_id(tasks[n - 1]) in (await state(handle)).open_task_ids
        )

    await eventually(is_open, f"task {kind} #{n}")
    return fakes.task_id(fakes.tasks_of(kind)[n - 1])


async def run_rounds(
    handle: WorkflowHandle[Any, Any], fakes: ChainFakes, comments: list[str]
) -> None:
    """Brief, then one round per comment with changes requested, then an approved round and
    the final file."""
    brief = await next_task(handle, fakes, BRIEF, 1)
    await decide(handle, brief, MANAGER, "filed", text="A4 flyer, blue", file_ids=["10"])
    for n, comment in enumerate([*comments, ""], start=1):
        submit = await next_task(handle, fakes, SUBMIT, n)
        await decide(handle, submit, DESIGNER, "submitted", file_ids=[f"layout-{n}"])
        review = await next_task(handle, fakes, REVIEW, n)
        if comment:
            await decide(handle, review, MANAGER, "changes_requested", comment=comment)
        else:
            await decide(handle, review, MANAGER, "approved")
    final = await next_task(handle, fakes, FINAL, 1)
    await decide(handle, final, DESIGNER, "uploaded", file_id="final-1")
