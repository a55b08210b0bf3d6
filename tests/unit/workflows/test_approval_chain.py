"""The approval chain on the time-skipping server, with the services faked by name:
sequence with field changes, a wrong approver refused, parallel quorum, reject → restart →
lose, a substitute (deadlines: test_approval_chain_deadlines.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import (
    ACCOUNTANT,
    ACCOUNTANT_2,
    ACCOUNTANT_3,
    LAWYER,
    OPERATOR,
    STAGE_APPROVED,
    STAGE_LOST,
    STAGE_NEW,
    STAGE_TERMS,
    STRANGER,
    SUBSTITUTE,
    ChainFakes,
    chain_state,
    decide,
    start_chain,
)
from tests.unit.workflows.fakes import HEAD, MANAGER, eventually
from workflows.kit.contracts import AnswerRefused
from workflows.processes.approval_chain import ApprovalChain, ChainResult


@pytest.fixture
def fakes() -> ChainFakes:
    return ChainFakes()


@pytest.fixture
async def worker(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> AsyncIterator[Worker]:
    async with Worker(
        env.client, task_queue=task_queue, workflows=[ApprovalChain], activities=fakes.activities()
    ) as running:
        yield running


async def open_task(
    handle: WorkflowHandle[Any, Any], fakes: ChainFakes, kind: str, n: int = 1, who: str = ""
) -> str:
    """The id of the n-th task of `kind` (for `who`, if given), once the chain takes answers."""

    def matching() -> list[Any]:
        return [t for t in fakes.tasks_of(kind) if not who or t.assignee_id == who]

    async def is_open() -> bool:
        found = matching()
        if len(found) < n:
            return False
        return fakes.task_id(found[n - 1]) in (await chain_state(handle)).open_task_ids

    await eventually(is_open, f"task {kind} #{n}")
    return fakes.task_id(matching()[n - 1])


async def refused(call: Any, kind: str) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == kind, cause
    return str(cause.message)


async def approve_all(handle: WorkflowHandle[Any, Any], fakes: ChainFakes, n: int = 1) -> None:
    """Approve every step of round `n` (head, accounting, operator, lawyer)."""
    await decide(handle, await open_task(handle, fakes, "approval.head", n), HEAD, "approve")
    task = await open_task(handle, fakes, "approval.accounting", n)
    await decide(handle, task, ACCOUNTANT, "approve")
    task = await open_task(handle, fakes, "approval.operator", n)
    await decide(handle, task, OPERATOR, "approve", fields={"contract_number": f"K-{n}"})
    task = await open_task(handle, fakes, "approval.lawyer", n)
    await decide(handle, task, LAWYER, "approve", file_ids=["f-contract"])


async def test_steps_in_order_land_fields_on_the_deal_and_run_the_final_actions(
    env: WorkflowEnvironment, worker: Worker, fakes: ChainFakes
) -> None:
    handle = await start_chain(env.client, worker.task_queue)
    head_task = await open_task(handle, fakes, "approval.head")
    assert fakes.tasks_of("approval.head")[0].assignee_id == HEAD.id
    assert not fakes.tasks_of("approval.accounting"), "one step at a time"
    result = await decide(
        handle,
        head_task,
        HEAD,
        "approve",
        comment="ok with a higher limit",
        fields={"credit_limit": "250000", "markup_group": "B"},
    )
    assert result.outcome == "approve" and result.stage in ("head", "accounting")
    # The fields and the decision are recorded after the answer, before the next step.
    task = await open_task(handle, fakes, "approval.accounting")
    (update,) = fakes.of("update_deal_fields")
    assert update.fields == {"credit_limit": "250000", "markup_group": "B"}
    head_decision = fakes.of("record_decision")[0]
    assert head_decision.fields_before == {"credit_limit": "100000.00", "markup_group": None}
    assert head_decision.fields_after == update.fields
    assert head_decision.approver_id == HEAD.id and head_decision.step_code == "head"

    await decide(handle, task, ACCOUNTANT, "approve")
    task = await open_task(handle, fakes, "approval.operator")
    message = await refused(decide(handle, task, OPERATOR, "approve"), AnswerRefused.INVALID_DATA)
    assert "contract_number" in message
    await decide(handle, task, OPERATOR, "approve", fields={"contract_number": "K-77"})
    task = await open_task(handle, fakes, "approval.lawyer")
    message = await refused(decide(handle, task, LAWYER, "approve"), AnswerRefused.INVALID_DATA)
    assert "file" in message
    await refused(
        decide(handle, task, LAWYER, "approve", file_ids=["other-deal-file"]),
        AnswerRefused.INVALID_DATA,
    )
    await decide(handle, task, LAWYER, "approve", file_ids=["f-contract"])

    outcome: ChainResult = await handle.result()
    (attached,) = fakes.of("attach_files")
    assert (attached.file_ids, attached.kind) == (["f-contract"], "decision")
    assert attached.target_id == outcome.decisions[-1].id != ""
    assert (outcome.outcome, outcome.rounds) == ("approved", 1)
    assert outcome.fields["contract_number"] == "K-77"
    assert outcome.fields["contract_file"] == "f-contract"
    assert [d.step for d in outcome.decisions] == ["head", "accounting", "operator", "lawyer"]
    assert [m.stage_id for m in fakes.of("move_deal")] == [STAGE_APPROVED]
    (final,) = fakes.tasks_of("approval.approved")
    assert (final.assignee_id, final.workflow_id) == (MANAGER.id, "")
    assert any(n.kind == "approval.approved" for n in fakes.of("create_notification"))
    (closed,) = fakes.of("close_round")
    assert (closed.round_status, closed.request_status) == ("approved", "approved")


async def test_a_wrong_or_incomplete_decision_is_refused(
    env: WorkflowEnvironment, worker: Worker, fakes: ChainFakes
) -> None:
    handle = await start_chain(env.client, worker.task_queue)
    task = await open_task(handle, fakes, "approval.head")
    await refused(decide(handle, task, STRANGER, "approve"), AnswerRefused.WRONG_ACTOR)
    await refused(decide(handle, task, ACCOUNTANT, "reject", comment="no"), "WrongActor")
    message = await refused(decide(handle, task, HEAD, "reject"), AnswerRefused.INVALID_DATA)
    assert "comment" in message
    message = await refused(
        decide(handle, task, HEAD, "approve", fields={"contract_number": "K"}),
        AnswerRefused.INVALID_DATA,
    )
    assert "may not be changed" in message
    message = await refused(
        decide(handle, task, HEAD, "approve", fields={"markup_group": "Z"}),
        AnswerRefused.INVALID_DATA,
    )
    assert "one of A, B, C" in message
    await refused(
        decide(handle, task, HEAD, "approve", fields={"credit_limit": 1.5}),
        AnswerRefused.INVALID_DATA,
    )
    await refused(decide(handle, task, HEAD, "maybe"), AnswerRefused.INVALID_OUTCOME)
    assert not fakes.of("record_decision") and not fakes.of("update_deal_fields")
    await decide(handle, task, HEAD, "approve")
    await refused(decide(handle, task, HEAD, "approve"), AnswerRefused.TASK_NOT_OPEN)
    await handle.terminate()


@pytest.mark.parametrize(
    ("quorum", "votes", "outcome"),
    [
        ("any", ["approve"], "approved"),
        ("any", ["reject"], "rejected"),
        ("all", ["approve", "approve", "reject"], "rejected"),
        ("majority", ["reject", "approve", "approve"], "approved"),
    ],
)
async def test_a_parallel_group_settles_by_its_quorum(
    env: WorkflowEnvironment,
    task_queue: str,
    quorum: str,
    votes: list[str],
    outcome: str,
) -> None:
    fakes = ChainFakes(
        roles={"deputy_chief_accountant": [ACCOUNTANT.id, ACCOUNTANT_2.id, ACCOUNTANT_3.id]}
    )
    fakes.template.steps[1].quorum = quorum
    async with Worker(
        env.client, task_queue=task_queue, workflows=[ApprovalChain], activities=fakes.activities()
    ):
        handle = await start_chain(env.client, task_queue)
        await decide(handle, await open_task(handle, fakes, "approval.head"), HEAD, "approve")
        people = [ACCOUNTANT, ACCOUNTANT_2, ACCOUNTANT_3]
        tasks = [await open_task(handle, fakes, "approval.accounting", who=p.id) for p in people]
        for person, task, vote in zip(people, tasks, votes, strict=False):
            await decide(handle, task, person, vote, comment="" if vote == "approve" else "no")
        if outcome == "approved":
            await open_task(handle, fakes, "approval.operator")
            cancelled = {c.task_id for c in fakes.of("cancel_task")}
            assert cancelled == set(tasks[len(votes) :])
        else:
            await open_task(handle, fakes, "approval.returned")
            assert not fakes.tasks_of("approval.operator")
        await handle.terminate()


async def test_a_rejection_returns_the_deal_and_the_initiator_restarts_or_loses_it(
    env: WorkflowEnvironment, worker: Worker, fakes: ChainFakes
) -> None:
    handle = await start_chain(env.client, worker.task_queue)
    await decide(handle, await open_task(handle, fakes, "approval.head"), HEAD, "approve")
    task = await open_task(handle, fakes, "approval.accounting")
    await decide(handle, task, ACCOUNTANT, "reject", comment="limit too high for a new client")
    returned = await open_task(handle, fakes, "approval.returned")
    back = fakes.tasks_of("approval.returned")[0]
    assert back.assignee_id == MANAGER.id and "limit too high" in back.description
    assert [m.stage_id for m in fakes.of("move_deal")] == [STAGE_NEW]
    closed = fakes.of("close_round")[0]
    assert (closed.round, closed.round_status, closed.request_status) == (1, "rejected", "returned")
    await refused(decide(handle, returned, HEAD, "restart"), AnswerRefused.WRONG_ACTOR)
    fakes.refused_stages.add(STAGE_TERMS)  # e.g. the manager emptied a required field
    message = await refused(decide(handle, returned, MANAGER, "restart"), "InvalidData")
    assert "inn" in message
    fakes.refused_stages.clear()
    await decide(handle, returned, MANAGER, "restart", reason="limit lowered to 150000")

    # Round 2 starts from the first step; round 1's decisions stay.
    task = await open_task(handle, fakes, "approval.head", 2)
    assert [m.stage_id for m in fakes.of("move_deal")] == [STAGE_NEW, STAGE_TERMS]
    assert [r.round for r in fakes.of("start_round")] == [1, 2]
    await decide(handle, task, HEAD, "reject", comment="client has court cases")
    returned = await open_task(handle, fakes, "approval.returned", 2)
    message = await refused(decide(handle, returned, MANAGER, "lose"), "InvalidData")
    assert "reason" in message
    await decide(handle, returned, MANAGER, "lose", reason="client chose another supplier")

    result: ChainResult = await handle.result()
    assert (result.outcome, result.rounds, result.reason) == (
        "lost",
        2,
        "client chose another supplier",
    )
    assert [(d.round, d.step, d.outcome) for d in result.decisions] == [
        (1, "head", "approve"),
        (1, "accounting", "reject"),
        (1, "return", "restart"),
        (2, "head", "reject"),
        (2, "return", "lose"),
    ]
    assert fakes.of("move_deal")[-1].stage_id == STAGE_LOST
    last = fakes.of("close_round")[-1]
    assert (last.round_status, last.request_status) == ("rejected", "rejected")


async def test_a_substitute_decides_for_an_absent_approver(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = ChainFakes(absent={HEAD.id: SUBSTITUTE.id})
    async with Worker(
        env.client, task_queue=task_queue, workflows=[ApprovalChain], activities=fakes.activities()
    ):
        handle = await start_chain(env.client, task_queue)
        task = await open_task(handle, fakes, "approval.head")
        (created,) = fakes.tasks_of("approval.head")
        assert created.assignee_id == SUBSTITUTE.id and "stand in" in created.description
        assignment = fakes.of("assign_step")[0].assignments[0]
        assert (assignment.approver_id, assignment.stand_in_id) == (HEAD.id, SUBSTITUTE.id)
        await refused(decide(handle, task, STRANGER, "approve"), AnswerRefused.WRONG_ACTOR)
        await decide(handle, task, SUBSTITUTE, "approve", comment="for Hugo")
        # The decision is recorded after the answer's Update returns, before the next step.
        await open_task(handle, fakes, "approval.accounting")
        decision = fakes.of("record_decision")[0]
        assert (decision.approver_id, decision.actor_id) == (HEAD.id, SUBSTITUTE.id)
        await handle.terminate()


async def test_a_final_move_the_deal_refuses_leaves_it_to_the_initiator(
    env: WorkflowEnvironment, worker: Worker, fakes: ChainFakes
) -> None:
    fakes.refused_stages.add(STAGE_APPROVED)
    handle = await start_chain(env.client, worker.task_queue)
    await approve_all(handle, fakes)
    result: ChainResult = await handle.result()
    assert result.outcome == "approved"
    (notice,) = [n for n in fakes.of("create_notification") if n.kind == "approval.approved"]
    assert "could not be moved" in notice.body and "inn" in notice.body
