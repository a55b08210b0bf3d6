"""The deal's pipeline stages as a process moves the deal through them.

    stages = DealStages(self)
    await stages.move_to(await stages.named("Assembly/documents"))
    await stages.move_to(await stages.won())

A stage is found by its name (case and spaces aside) or its semantic when the step needs
it; a pipeline without it does not fail the process: the admins are asked to add it
(`resolve_or_ask`), and so are they for a move the deal's rules refuse (a required field
empty). `move_to` only moves forward: a deal already at that stage or past it (in the
pipeline's order), or closed (won or lost), stays where it is, so a process never drags a
deal back over a move made by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.kit.resolve import Resolved, resolve_or_ask

with workflow.unsafe.imports_passed_through():
    from workflows.activities import approval_calls as ac
    from workflows.activities import calls
    from workflows.activities.approval_types import DealRefInput, MoveDealInput, PipelineLayout
    from workflows.activities.types import GetDealInput

if TYPE_CHECKING:
    from workflows.kit.process import Process

CLOSED = ("won", "lost")


def same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def stage_named(layout: PipelineLayout, name: str) -> str:
    return next((s.id for s in layout.stages if same_name(s.name, name)), "")


def is_forward(layout: PipelineLayout, current: str, target: str) -> bool:
    """Whether moving from `current` to `target` goes on (not back, not out of a closed stage)."""
    order = [s.id for s in layout.stages]
    semantic = {s.id: s.semantic for s in layout.stages}
    if current == target or semantic.get(current) in CLOSED:
        return False
    if current not in order or target not in order:
        return True
    return semantic.get(target) in CLOSED or order.index(target) > order.index(current)


class DealStages:
    def __init__(self, process: Process) -> None:
        self._process = process

    async def layout(self) -> PipelineLayout:
        return await ac.get_pipeline_layout(DealRefInput(self._process.input.deal_id))

    async def named(self, name: str) -> str:
        async def look_up() -> Resolved:
            found = stage_named(await self.layout(), name)
            return Resolved(found, "" if found else f"the pipeline has no stage {name!r}")

        return await resolve_or_ask(self._process, "stage", look_up)

    async def won(self) -> str:
        async def look_up() -> Resolved:
            found = next((s.id for s in (await self.layout()).stages if s.semantic == "won"), "")
            return Resolved(found, "" if found else "the pipeline has no won stage")

        return await resolve_or_ask(self._process, "stage", look_up)

    async def move_to(self, stage_id: str, comment: str = "") -> bool:
        """Move the deal on to `stage_id` unless it is there or past it; whether it moved.
        A move the deal's rules refuse (a field required on that stage is empty) waits,
        with the admins asked, until the move goes through."""
        deal = await calls.get_deal(GetDealInput(self._process.input.deal_id))
        if not is_forward(await self.layout(), deal.stage_id, stage_id):
            return False

        async def move() -> Resolved:
            try:
                await ac.move_deal(MoveDealInput(deal.id, stage_id, comment))
            except ActivityError as exc:
                cause = exc.cause
                if not isinstance(cause, ApplicationError) or cause.type != "ValidationFailed":
                    raise
                return Resolved(missing=f"the deal cannot move on: {cause.message}")
            return Resolved("moved")

        await resolve_or_ask(self._process, "move", move)
        return True
