"""SM-1 proposal follow-up on the time-skipping server with fake activities: no call before
the proposal file is on the deal, the three outcomes, call-backs on durable timers (the new
call task appears on the date, not before), every call kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import decide
from tests.unit.workflows.deal_process_drivers import answer_call, follow_up_fakes
from tests.unit.workflows.deal_process_fakes import DealFakes, nth_task, start_process
from tests.unit.workflows.fakes import HEAD, MANAGER, state
from workflows.api import WORKFLOWS
from workflows.processes.proposal_follow_up import ProposalFollowUp, ProposalFollowUpResult


def worker(env: WorkflowEnvironment, task_queue: str, fakes: DealFakes) -> Worker:
    return Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    )


async def test_two_call_backs_on_their_dates_then_agreed(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = follow_up_fakes(proposal_file="f-1")
    async with worker(env, task_queue, fakes):
        handle = await start_process(
            env.client, task_queue, ProposalFollowUp.run, "proposal-follow-up"
        )
        today = (await env.get_current_time()).date()
        _, first = await nth_task(handle, fakes, "proposal_follow_up.call")
        assert first.deadline is not None and first.assignee_id == MANAGER.id
        in_3_days, in_5_days = (today + timedelta(days=d) for d in (3, 5))
        task_id, _ = await nth_task(handle, fakes, "proposal_follow_up.call")
        with pytest.raises(WorkflowUpdateFailedError):  # a call back needs a date
            await decide(handle, task_id, MANAGER, "call_back_later")
        with pytest.raises(WorkflowUpdateFailedError):  # ... not in the past
            await decide(
                handle, task_id, MANAGER, "call_back_later",
                call_on=(today - timedelta(days=1)).isoformat(),
            )  # fmt: skip
        await answer_call(handle, fakes, 1, "call_back_later", call_on=in_3_days.isoformat())
        await env.sleep(timedelta(days=2))
        assert len(fakes.tasks_of("proposal_follow_up.call")) == 1, "not before the date"
        await env.sleep(timedelta(days=1, hours=1))
        _, second = await nth_task(handle, fakes, "proposal_follow_up.call", 2)
        assert second.deadline is not None and second.deadline.date() == in_3_days
        await answer_call(handle, fakes, 2, "call_back_later", call_on=in_5_days.isoformat())
        await env.sleep(timedelta(days=2, hours=1))
        await answer_call(handle, fakes, 3, "agreed", comment="Send the contract")
        result: ProposalFollowUpResult = await handle.result()

    assert result.outcome == "agreed"
    assert [(c.call, c.outcome, c.call_on) for c in result.calls] == [
        (1, "call_back_later", in_3_days.isoformat()),
        (2, "call_back_later", in_5_days.isoformat()),
        (3, "agreed", ""),
    ]
    assert fakes.moves() == ["Contract"]
    kinds = [e.kind for e in fakes.of("add_timeline_entry")]
    assert kinds.count("proposal.sent") == 1 and kinds.count("proposal.agreed") == 1
    assert len({t.idempotency_key for t in fakes.tasks_of("proposal_follow_up.call")}) == 3


async def test_refused_needs_a_comment_and_tells_the_head_with_the_file(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = follow_up_fakes(proposal_file="f-9")
    async with worker(env, task_queue, fakes):
        handle = await start_process(
            env.client, task_queue, ProposalFollowUp.run, "proposal-follow-up"
        )
        task_id, _ = await nth_task(handle, fakes, "proposal_follow_up.call")
        with pytest.raises(WorkflowUpdateFailedError):
            await decide(handle, task_id, MANAGER, "refused")
        await answer_call(handle, fakes, 1, "refused", comment="Too expensive")
        result: ProposalFollowUpResult = await handle.result()

    assert result.outcome == "refused" and not fakes.moves()
    (note,) = fakes.of("create_notification")
    assert note.user_id == HEAD.id and "Too expensive" in note.body and "f-9" in note.body
    (refused,) = [e for e in fakes.of("add_timeline_entry") if e.kind == "proposal.refused"]
    assert refused.data["reason"] == "Too expensive" and refused.data["manager_id"] == MANAGER.id


async def test_no_call_before_the_proposal_file_is_attached(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = follow_up_fakes()
    async with worker(env, task_queue, fakes):
        handle = await start_process(
            env.client, task_queue, ProposalFollowUp.run, "proposal-follow-up"
        )
        task_id, _ = await nth_task(handle, fakes, "proposal_follow_up.attach")
        assert not fakes.tasks_of("proposal_follow_up.call")
        with pytest.raises(WorkflowUpdateFailedError):
            await decide(handle, task_id, MANAGER, "attached")
        await decide(handle, task_id, MANAGER, "attached", proposal_file="f-2")
        await nth_task(handle, fakes, "proposal_follow_up.call")
        assert (await state(handle)).details["proposal_file_id"] == "f-2"
        assert fakes.of("update_deal_fields")[0].fields == {"proposal_file": "f-2"}
        await answer_call(handle, fakes, 1, "agreed")
        await handle.result()
