"""Who (or what) a step needs, found when the step starts, or the admins asked to fix it.

    operator = await resolve_or_ask(self, "operator", look_up_operator)

`look_up` answers `Resolved(value)` or `Resolved(missing="no operator for direction
Kazan")`. It runs when the step starts, so a changed admin list or deal field takes effect
for processes already running. While it finds nothing the process does not fail: the
admins get one task naming what is missing (the first admin answers it, the others watch
it), and the look-up runs again when it is answered `fixed` and every `recheck` meanwhile
(a durable timer), so fixing the list is enough. A `fixed` that fixed nothing gets a new
task saying what is still missing. Each wait and its end are on the deal's timeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.kit.tasks import OpenTask, TaskSpec

with workflow.unsafe.imports_passed_through():
    from process_rules.approval_templates import ApproverRule
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import ResolveApproversInput

if TYPE_CHECKING:
    from workflows.kit.process import Process

ADMIN_ROLE = "admin"
RECHECK = timedelta(minutes=15)


@dataclass
class Resolved:
    value: str = ""
    missing: str = ""  # what is missing, for the admins' task ("" when found)


LookUp = Callable[[], Awaitable[Resolved]]


async def resolve_or_ask(
    process: Process, step: str, look_up: LookUp, *, recheck: timedelta = RECHECK
) -> str:
    """The value `look_up` finds, waiting (and asking the admins) until it finds one."""
    found = await look_up()
    if found.value:
        return found.value
    admins = await _admins(process)
    task = await _ask(process, step, admins, found.missing)
    while True:
        answered = await process.tasks.answer_of(task, timeout=recheck)
        found = await look_up()
        if found.value:
            break
        if answered is not None:
            task = await _ask(process, step, admins, found.missing)
    await process.tasks.cancel(task, f"fixed: {step} found")
    await process.timeline(f"{step}.fixed", f"Found the {step.replace('_', ' ')}; the step starts")
    return found.value


async def _ask(process: Process, step: str, admins: list[str], missing: str) -> OpenTask:
    await process.timeline(f"{step}.missing", f"Waiting for the admins: {missing}")
    return await process.tasks.start(
        TaskSpec(
            step=f"{step}.missing",
            kind=f"{process.name}.missing",
            assignee_id=admins[0],
            watcher_ids=admins[1:],
            title=f"Fix it for deal {process.input.deal_id}: {missing}",
            description=(
                f"The process {process.name} waits: {missing}. Fix the list or the deal; "
                "the step starts once it is fixed (answer `fixed` to have it checked now)."
            ),
            outcomes=["fixed"],
            awaited=True,  # the process waits on the admin (its `Assignee` in the UI)
        )
    )


async def _admins(process: Process) -> list[str]:
    """The admins (by id); with none, whoever started the process is asked."""
    try:
        found = await ac.resolve_approvers(
            ResolveApproversInput(
                process.input.deal_id,
                process.input.initiator_id,
                [ApproverRule("role", role=ADMIN_ROLE)],
            )
        )
    except ActivityError:
        found = []
    return [a.user_id for a in found] or [process.input.initiator_id]
