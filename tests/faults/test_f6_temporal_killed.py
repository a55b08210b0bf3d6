"""F6: the Temporal server killed (SIGKILL) and started again while 100 processes wait:
50 sample returns on people (their first task) and 50 contract approvals on a timer (a
step due in 40 s that escalates when it passes). Answers sent while Temporal is down get
503 with Retry-After, never a 500; afterwards every sample return goes on to the end with
one task per step and one timeline entry per step, and every escalation fires once, late
by the downtime at most."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org
from tests.faults.processes import (
    ANSWERS,
    Answers,
    check_task_events,
    check_tasks_and_timeline,
    drive,
    open_tasks,
    post_until_answered,
    sql,
    start_processes,
)

WAITING_ON_PEOPLE = 50
ON_TIMERS = 50
# Long enough that every process is set up before the first is due, on a loaded machine
# too; the kill waits for the first due time (minus a few seconds), so many come due while
# Temporal is down.
DUE_SECONDS = 90
BEFORE_DUE_SECONDS = 5
DOWN_SECONDS = 25
SLACK_SECONDS = 15  # the worker catching up with 50 fired timers on two cores


async def _approvals_on_a_timer(org: Org, deadline: float) -> dict[int, str]:
    """ON_TIMERS contract approvals whose one step (the head) is due in DUE_SECONDS and
    escalates then: deal id -> workflow id."""
    tag = uuid.uuid4().hex[:6]
    head = (await org.head.get("/me")).json()
    template = {
        "code": f"f6_{tag}",
        "name": "F6",
        "steps": [
            {
                "code": "head",
                "name": "Head",
                "approvers": [{"kind": "user", "user_id": str(head["id"])}],
                "deadline_hours": DUE_SECONDS / 3600,
                "escalate": True,
            }
        ],
    }
    made = await org.admin.post("/approval-templates", json=template)
    assert made.status_code == 201, made.text
    typed = await org.admin.put(
        f"/contract-types/f6_{tag}", json={"name": "F6", "template_code": f"f6_{tag}"}
    )
    assert typed.status_code == 200, typed.text
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> tuple[int, str]:
        async with sem:
            deal = await post_until_answered(
                org.manager,
                "/deals",
                {"pipeline_id": org.pipeline_id, "title": f"F6 timer {i}"},
                deadline=deadline,
            )
            contract = await post_until_answered(
                org.manager,
                "/contracts",
                {
                    "deal_id": deal.json()["id"],
                    "type_code": f"f6_{tag}",
                    "counterparty_kind": "client",
                    "counterparty_name": "F6",
                },
                deadline=deadline,
            )
            assert contract.status_code == 201, contract.text
            started = await post_until_answered(
                org.manager,
                f"/deals/{deal.json()['id']}/processes",
                {"process": "contract_approval", "params": {"contract_id": contract.json()["id"]}},
                deadline=deadline,
            )
            assert started.status_code == 201, started.text
            return int(deal.json()["id"]), str(started.json()["workflow_id"])

    return dict(await asyncio.gather(*(one(i) for i in range(ON_TIMERS))))


async def _answer_while_down(org: Org, deals: set[int]) -> list[tuple[int, str, float]]:
    """Try to answer a few open tasks at once: (status, Retry-After, seconds) of each."""
    tasks = (await open_tasks(org.manager, deals))[:10]

    async def one(task: dict[str, Any]) -> tuple[int, str, float]:
        outcome, data = ANSWERS[task["kind"]]
        started = time.monotonic()
        resp = await org.manager.post(
            f"/tasks/{task['id']}/complete",
            json={"outcome": outcome, "data": data},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        return resp.status_code, resp.headers.get("retry-after", ""), time.monotonic() - started

    return list(await asyncio.gather(*(one(t) for t in tasks)))


@pytest.mark.chaos
@pytest.mark.timeout(900)
async def test_f6_temporal_killed_while_100_processes_wait(stack: Stack, org: Org) -> None:
    began = time.monotonic()
    deadline = began + 780
    people = await start_processes(org, WAITING_ON_PEOPLE, deadline=deadline)
    timers = await _approvals_on_a_timer(org, deadline)

    async def approval_tasks() -> list[tuple[int, datetime]] | None:
        rows = sql(
            stack,
            "SELECT deal_id, deadline FROM notifications.tasks "
            "WHERE kind = 'approval.head' AND deal_id = ANY(%s)",
            list(timers),
        )
        return [(int(r[0]), r[1]) for r in rows] if len(rows) == ON_TIMERS else None

    due = dict(await eventually(approval_tasks, timeout=120, what="the approval tasks"))
    await eventually(
        lambda: _all_open(org, set(people)), timeout=120, what="a task of every sample return"
    )

    first_due = min(due.values())
    wait = (first_due - datetime.now(UTC)).total_seconds() - BEFORE_DUE_SECONDS
    assert wait > 0, f"set-up took longer than DUE_SECONDS ({DUE_SECONDS} s)"
    await asyncio.sleep(wait)  # real time: the outage must overlap real timers
    await asyncio.to_thread(stack.kill, "temporal", signal.SIGKILL)
    killed_at = datetime.now(UTC)
    down_began = time.monotonic()
    await asyncio.sleep(3)
    refused = await _answer_while_down(org, set(people))
    await asyncio.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_began)))
    await asyncio.to_thread(stack.start_again, "temporal")
    downtime = time.monotonic() - down_began

    assert refused and all(s == 503 and int(r) > 0 for s, r, _ in refused), refused
    await drive(stack, org, people, deadline=deadline, answers=Answers())
    check_tasks_and_timeline(stack, people)
    await check_task_events(stack, people)

    async def escalated() -> list[tuple[int, datetime]] | None:
        rows = sql(
            stack,
            "SELECT deal_id, created_at FROM notifications.notifications "
            "WHERE kind = 'approval.overdue' AND deal_id = ANY(%s)",
            list(timers),
        )
        return [(int(r[0]), r[1]) for r in rows] if len(rows) >= ON_TIMERS else None

    fired = await eventually(escalated, timeout=DUE_SECONDS + 120, what="every escalation")
    assert len(fired) == ON_TIMERS and {d for d, _ in fired} == set(timers), "once each"
    late = {d: (at - due[d]).total_seconds() for d, at in fired}

    async def noted() -> list[int] | None:
        rows = sql(
            stack,
            "SELECT deal_id, count(*) FROM deals.timeline WHERE deal_id = ANY(%s) "
            "AND text LIKE '%%overdue, escalated%%' GROUP BY deal_id",
            list(timers),
        )
        return [int(n) for _, n in rows] if len(rows) == ON_TIMERS else None

    notes = await eventually(noted, timeout=60, what="an escalation note on every deal")
    assert notes == [1] * ON_TIMERS, "one escalation note per deal"
    back = killed_at + timedelta(seconds=downtime)
    while_down = [d for d in timers if killed_at <= due[d] <= back]
    print(
        f"\nF6: {WAITING_ON_PEOPLE} sample returns and {ON_TIMERS} timed approvals; Temporal "
        f"SIGKILLed for {downtime:.0f}s ({len(while_down)} timers came due while it was down, "
        f"late by {max((late[d] for d in while_down), default=0):.1f}s at most); "
        f"{len(refused)} answers while down all 503 with Retry-After (in "
        f"{max(t for *_, t in refused):.1f}s at most); every sample return "
        f"completed, tasks and timeline once; escalations late by {min(late.values()):.1f}-"
        f"{max(late.values()):.1f}s; {time.monotonic() - began:.0f}s in all"
    )
    assert while_down, "some timers came due during the outage"
    assert max(late.values()) <= downtime + SLACK_SECONDS, late


async def _all_open(org: Org, deals: set[int]) -> bool:
    return len({int(t["deal_id"]) for t in await open_tasks(org.manager, deals)}) == len(deals)
