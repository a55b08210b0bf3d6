"""SM-3 layout revision on the time-skipping server with fake activities: the brief, the
designer's rounds with watchers, changes requested with a required comment, a new task per
round (never the old one back), the approved layout's final file on the deal, every round
readable in the state, the bound on rounds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import ChainFakes, decide
from tests.unit.workflows.fakes import HEAD, MANAGER, state
from tests.unit.workflows.layout_fakes import (
    BRIEF,
    CEO,
    DESIGNER,
    REVIEW,
    SUBMIT,
    layout_fakes,
    next_task,
    run_rounds,
    start_layout,
)
from workflows.api import WORKFLOWS
from workflows.kit.contracts import AnswerRefused
from workflows.processes.layout_revision import LayoutRevisionResult


@pytest.fixture
async def fakes(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[ChainFakes]:
    fakes = layout_fakes()
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        yield fakes


async def test_two_rounds_of_changes_then_approved(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    fakes.base.pipeline_fields = ["layout_file"]
    handle = await start_layout(env.client, task_queue)
    await run_rounds(handle, fakes, ["Make the logo bigger", "Use the brand blue"])
    result: LayoutRevisionResult = await handle.result()

    assert result.outcome == "approved" and result.final_file_id == "final-1"
    assert [(r.round, r.outcome, r.comment, r.file_ids) for r in result.rounds] == [
        (1, "changes_requested", "Make the logo bigger", ["layout-1"]),
        (2, "changes_requested", "Use the brand blue", ["layout-2"]),
        (3, "approved", "", ["layout-3"]),
    ]
    assert all(r.submitted_by == DESIGNER.id and r.reviewed_by == MANAGER.id for r in result.rounds)
    designs = fakes.tasks_of(SUBMIT)
    # A new task each round, with its own key: the loop never gets its old task back.
    assert len({t.idempotency_key for t in designs}) == 3
    assert all(t.assignee_id == DESIGNER.id for t in designs)
    assert all(set(t.watcher_ids) == {HEAD.id, CEO.id} for t in designs)
    assert "Make the logo bigger" in designs[1].description
    assert "Use the brand blue" in designs[2].description
    reviews = fakes.tasks_of(REVIEW)
    assert reviews[0].comment_outcomes == ["changes_requested"]
    assert "layout-1" in reviews[0].description
    # The final file lands on the deal and on the timeline; every round is on the timeline.
    (fields,) = fakes.of("update_deal_fields")
    assert fields.fields == {"layout_file": "final-1"}
    steps = [e.data["step"] for e in fakes.of("add_timeline_entry")]
    for n in (1, 2, 3):
        assert f"layout/r{n}/submitted" in steps
    assert steps.count("layout/r1/changes_requested") == 1 and "final" in steps
    assert len({e.idempotency_key for e in fakes.of("add_timeline_entry")}) == len(steps)


async def test_changes_need_a_comment_and_a_designer_needs_a_file(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    handle = await start_layout(env.client, task_queue)
    brief = await next_task(handle, fakes, BRIEF, 1)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, brief, MANAGER, "filed")
    assert refused.value.cause.type == AnswerRefused.INVALID_DATA  # type: ignore[attr-defined]
    await decide(handle, brief, MANAGER, "filed", text="A4 flyer")
    submit = await next_task(handle, fakes, SUBMIT, 1)
    for actor, data in ((DESIGNER, {}), (HEAD, {"file_ids": ["layout-1"]})):
        with pytest.raises(WorkflowUpdateFailedError):
            await decide(handle, submit, actor, "submitted", **data)  # no file; a watcher
    await decide(handle, submit, DESIGNER, "submitted", file_ids=["layout-1"])
    review = await next_task(handle, fakes, REVIEW, 1)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, review, MANAGER, "changes_requested", comment="  ")
    assert "comment" in str(refused.value.cause)
    assert len(fakes.tasks_of(SUBMIT)) == 1, "a refused answer changes nothing"
    now = await state(handle)
    assert now.stage == "client_review" and now.details["rounds"][0]["file_ids"] == ["layout-1"]
    await handle.terminate("test over")


async def test_a_bound_on_rounds_stops_the_loop(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    handle = await start_layout(env.client, task_queue, max_rounds=1)
    brief = await next_task(handle, fakes, BRIEF, 1)
    await decide(handle, brief, MANAGER, "filed", text="A4 flyer")
    submit = await next_task(handle, fakes, SUBMIT, 1)
    await decide(handle, submit, DESIGNER, "submitted", file_ids=["layout-1"])
    review = await next_task(handle, fakes, REVIEW, 1)
    await decide(handle, review, MANAGER, "changes_requested", comment="No")
    result: LayoutRevisionResult = await handle.result()
    assert result.outcome == "rounds_exhausted" and result.final_file_id == ""


async def test_a_file_not_of_the_deal_is_refused_and_the_designer_may_be_named(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    handle = await start_layout(env.client, task_queue, designer_id="77")
    brief = await next_task(handle, fakes, BRIEF, 1)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, brief, MANAGER, "filed", text="A4 flyer", file_ids=["other-5"])
    assert refused.value.cause.type == AnswerRefused.INVALID_DATA  # type: ignore[attr-defined]
    assert brief in (await state(handle)).open_task_ids
    await decide(handle, brief, MANAGER, "filed", text="A4 flyer", file_ids=["10"])
    await next_task(handle, fakes, SUBMIT, 1)
    assert fakes.tasks_of(SUBMIT)[0].assignee_id == "77"
    await handle.terminate("test over")
