"""JUG-1 on the time-skipping server with fake activities: every feedback outcome, the
head's approval of non-standard terms, the retries after a delay on no answer (a durable
timer: nothing happens before it is due), the manager's decision after the last try, and
every round kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.fakes import HEAD, MANAGER, state
from tests.unit.workflows.lead_proposal_fakes import (
    ACCOUNT_MANAGER,
    FEEDBACK,
    GO_ON,
    LEAD_ID,
    PROPOSAL,
    TERMS,
    Driver,
    LeadFakes,
    lead_fakes,
    start_proposal,
    terms_then_positive,
)
from workflows.api import LEAD_PROCESSES, PROCESSES, WORKFLOWS
from workflows.processes.lead_proposal import LeadProposalResult


@pytest.fixture
async def fakes(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[LeadFakes]:
    fakes = lead_fakes()
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        yield fakes


def test_it_starts_on_a_lead_not_on_a_deal() -> None:
    assert "lead_proposal" in LEAD_PROCESSES and "lead_proposal" not in PROCESSES


async def test_terms_approved_by_the_head_then_positive_converts_for_the_account_manager(
    env: WorkflowEnvironment, task_queue: str, fakes: LeadFakes
) -> None:
    handle = await start_proposal(env.client, task_queue)
    await terms_then_positive(handle, fakes)
    result: LeadProposalResult = await handle.result()

    assert (result.outcome, result.deal_id, result.handed_to) == ("converted", "99", "u-am")
    (converted,) = fakes.of("convert_lead")
    assert (converted.lead_id, converted.responsible_id) == (LEAD_ID, ACCOUNT_MANAGER.id)
    assert [(r.round, r.outcome, r.comment, r.decision) for r in result.rounds] == [
        (1, "terms_not_accepted", "a 15 % discount", "approved"),
        (2, "positive", "", ""),
    ]
    (terms,) = fakes.tasks_of(TERMS)
    assert terms.assignee_id == HEAD.id and "a 15 % discount" in terms.description
    assert [t.deal_id for t in fakes.of("create_task")] == [""] * 5  # a lead's tasks
    assert "revised" in fakes.tasks_of(PROPOSAL)[1].title
    assert fakes.of("lose_lead") == []


async def test_refused_and_rejected_terms_lose_the_lead_with_the_reason(
    env: WorkflowEnvironment, task_queue: str, fakes: LeadFakes
) -> None:
    refused = await start_proposal(env.client, task_queue)
    run = Driver(refused, fakes)
    await run.answer(PROPOSAL, MANAGER, "sent")
    await run.answer(FEEDBACK, MANAGER, "refused", comment="no budget this year")
    assert (await refused.result()).reason == "no budget this year"

    rejected = await start_proposal(env.client, task_queue)
    run = Driver(rejected, fakes)
    run.seen = {PROPOSAL: 1, FEEDBACK: 1}
    await run.answer(PROPOSAL, MANAGER, "sent")
    await run.answer(FEEDBACK, MANAGER, "terms_not_accepted", comment="half price")
    await run.answer(TERMS, HEAD, "rejected", comment="below cost")
    result: LeadProposalResult = await rejected.result()
    assert result.outcome == "lost"
    assert [x.reason for x in fakes.of("lose_lead")] == [
        "no budget this year",
        "non-standard terms rejected: below cost",
    ]


async def test_no_answer_tries_again_after_the_delay_then_the_manager_decides(
    env: WorkflowEnvironment, task_queue: str, fakes: LeadFakes
) -> None:
    handle = await start_proposal(env.client, task_queue, max_attempts=2, retry_after_hours=24)
    run = Driver(handle, fakes)
    await run.answer(PROPOSAL, MANAGER, "sent")
    await run.answer(FEEDBACK, MANAGER, "no_answer")
    # the manager tries again only once the delay has passed (durable timer, skipped here)
    await env.sleep(timedelta(hours=23))
    assert len(fakes.tasks_of(FEEDBACK)) == 1 and (await state(handle)).stage == "waiting"
    await env.sleep(timedelta(hours=2))
    await run.answer(FEEDBACK, MANAGER, "no_answer")
    # two tries without an answer: the manager decides, with no further delay
    await run.answer(GO_ON, MANAGER, "go_on")
    await run.answer(FEEDBACK, MANAGER, "no_answer")
    await env.sleep(timedelta(hours=25))
    await run.answer(FEEDBACK, MANAGER, "no_answer")
    await run.answer(GO_ON, MANAGER, "give_up", comment="unreachable for a month")
    result: LeadProposalResult = await handle.result()

    assert result.outcome == "lost" and result.reason == "unreachable for a month"
    assert [(r.attempt, r.outcome, r.decision) for r in result.rounds] == [
        (1, "no_answer", ""),
        (2, "no_answer", "go_on"),
        (1, "no_answer", ""),
        (2, "no_answer", "give_up"),
    ]
    assert "try 2" in fakes.tasks_of(FEEDBACK)[1].title
    # every try is its own task: the loop never gets an old one back
    assert len({t.idempotency_key for t in fakes.tasks_of(FEEDBACK)}) == 4
