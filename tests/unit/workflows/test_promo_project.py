"""BT promo project on the time-skipping server with fake activities: the deadline watch's
reminders and its passing, moved by the deal's field (BT-1); the three review loops and
the invoice in finance (BT-2); prepayment, layouts by a child process, both sites (BT-3);
cards joining while it runs, checked against the lists (BT-4); the handover's rework and
extra payment (BT-5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import ACCOUNTANT, decide
from tests.unit.workflows.fakes import MANAGER, state
from tests.unit.workflows.layout_fakes import next_task
from tests.unit.workflows.promo_fakes import (
    CONTRACTOR,
    MAKER,
    MAKER_2,
    STAGES,
    PromoFakes,
    add_card,
    awaiting_prepayment,
    paid,
    promo_fakes,
    run_project,
    sites_ready,
    start_project,
)
from tests.unit.workflows.test_worker import activity_names
from workflows.activities.invoices import InvoiceActivities
from workflows.api import WORKFLOWS
from workflows.kit.contracts import AnswerRefused
from workflows.processes.promo_project import PromoProjectResult

K = "promo_project"


@pytest.fixture
async def fakes(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[PromoFakes]:
    fakes = promo_fakes()
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        yield fakes


def notices(fakes: PromoFakes, kind: str) -> list[str]:
    return [n.title for n in fakes.of("create_notification") if n.kind == f"{K}.{kind}"]


async def test_bt_1_deadline_reminders_move_with_the_field_and_its_passing_is_told(
    env: WorkflowEnvironment, task_queue: str, fakes: PromoFakes
) -> None:
    today = (await env.get_current_time()).date()

    async def until(days: float) -> None:
        """Skip to `days` after today's midnight (UTC)."""
        at = datetime.combine(today, time(), UTC) + timedelta(days=days)
        await env.sleep(at - await env.get_current_time())

    fakes.deadline = (today + timedelta(days=10)).isoformat()
    handle = await start_project(env.client, task_queue)
    await next_task(handle, fakes, f"{K}.proposal.submit", 1)
    assert notices(fakes, "deadline_soon") == []
    await until(6.9)
    assert notices(fakes, "deadline_soon") == []
    await until(7.1)  # 3 days before the deadline day
    soon = notices(fakes, "deadline_soon")
    assert len(soon) == 1 and "3 day(s)" in soon[0]

    moved = (today + timedelta(days=30)).isoformat()
    await handle.signal("deal_fields_changed", {"project_deadline": moved})
    await until(12)  # the old date's 1-day reminder and passing: not any more
    assert len(notices(fakes, "deadline_soon")) == 1 and notices(fakes, "deadline_passed") == []
    deadline = (await state(handle)).deadlines["deadline"]
    assert deadline is not None and deadline.date().isoformat() == moved
    await until(27.1)  # 3 days before the new date
    soon = notices(fakes, "deadline_soon")
    assert len(soon) == 2 and moved in soon[1]
    await until(29.1)  # 1 day before
    assert len(notices(fakes, "deadline_soon")) == 3
    await until(30.9)  # the deadline day itself: not passed yet
    assert notices(fakes, "deadline_passed") == []
    await until(31.1)  # the deadline day is over
    assert len(notices(fakes, "deadline_passed")) == 1
    assert all(n.user_id == MANAGER.id for n in fakes.of("create_notification"))
    await handle.terminate("test over")


async def test_bt_whole_project_with_prepayment_our_layouts_both_sites_and_an_extra_payment(
    env: WorkflowEnvironment, task_queue: str, fakes: PromoFakes
) -> None:
    handle = await start_project(env.client, task_queue)
    await run_project(env.client, handle, fakes)
    result: PromoProjectResult = await handle.result()

    assert (result.outcome, result.invoice_id, result.extra_invoice_id) == ("handed_over", "1", "2")
    # BT-2: each cycle moved the deal (the stage names matched whatever their case).
    assert [m.stage_id for m in fakes.of("move_deal")] == [
        STAGES["proposal"],
        STAGES["contract"],
        STAGES["invoice"],
        STAGES["production"],
    ]
    first, extra = fakes.of("request_invoice")
    assert (first.actor_id, first.counterparty, first.lines[0].unit_price) == (
        MANAGER.id,
        "Acme",
        "1000.00",
    )
    assert (extra.actor_id, extra.lines[0].unit_price) == (MANAGER.id, "250.00")
    issued = fakes.of("issue_invoice")
    assert [(i.invoice_id, i.actor_id) for i in issued] == [
        ("1", ACCOUNTANT.id),
        ("2", ACCOUNTANT.id),
    ]
    assert issued[0].file == "/api/v1/files/invoice-file", "the file the client agreed to"
    # BT-3: the prepayment task closed once finance had it; the layouts came from SM-3.
    (prepayment,) = fakes.tasks_of(f"{K}.prepayment")
    assert prepayment.assignee_id == ACCOUNTANT.id
    assert [c.task_id for c in fakes.of("cancel_task")][:1] == [fakes.task_id(prepayment)]
    assert notices(fakes, "prepaid") and notices(fakes, "extra_paid")
    done = await state(handle)
    assert done.details["layout_file_ids"] == ["final-1"] and done.details["prepayment_registered"]
    assert [t.assignee_id for t in fakes.tasks_of(f"{K}.production.setup")] == [
        MAKER.id,
        CONTRACTOR.id,
    ]
    # BT-4: two cards, the second added while the handover was open, each its production.
    assert [(c.n, c.type, c.site) for c in result.cards] == [
        (1, "tshirt", "own"),
        (2, "banner", "third_party"),
    ]
    made = fakes.tasks_of(f"{K}.production")
    assert [t.assignee_id for t in made] == [MAKER.id, CONTRACTOR.id]
    assert set(made[0].watcher_ids) == {MANAGER.id, MAKER_2.id}
    assert all(c["made"] for c in done.details["cards"]) and done.details["production_open"] == []
    # The standing card task was closed at the end: three opened, the last cancelled.
    cards = fakes.tasks_of(f"{K}.card")
    assert len(cards) == 3 and fakes.task_id(cards[-1]) in [
        c.task_id for c in fakes.of("cancel_task")
    ]
    # BT-5: not accepted once (rework by the project group), then accepted.
    assert result.handovers == 2
    assert [h["outcome"] for h in done.details["handovers"]] == ["not_accepted", "accepted"]
    (rework,) = fakes.tasks_of(f"{K}.rework")
    assert rework.assignee_id == MAKER.id and "pale" in rework.description
    steps = [e.data["step"] for e in fakes.of("add_timeline_entry")]
    assert len({e.idempotency_key for e in fakes.of("add_timeline_entry")}) == len(steps)
    assert steps[-1] == "finished"


async def test_bt_answers_are_checked_lists_sites_amounts_and_finance(
    env: WorkflowEnvironment, task_queue: str, fakes: PromoFakes
) -> None:
    async def refused(task: str, who: object, outcome: str, **data: object) -> str:
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await decide(handle, task, who, outcome, **data)  # type: ignore[arg-type]
        assert caught.value.cause.type == AnswerRefused.INVALID_DATA  # type: ignore[attr-defined]
        return str(caught.value.cause)

    handle = await start_project(env.client, task_queue)
    for n, cycle in ((1, "proposal"), (1, "contract")):
        await decide(
            handle,
            await next_task(handle, fakes, f"{K}.{cycle}.submit", n),
            MANAGER,
            "submitted",
            file_ids=["f"],
        )
        await decide(
            handle, await next_task(handle, fakes, f"{K}.{cycle}.review", n), MANAGER, "approved"
        )
    request = await next_task(handle, fakes, f"{K}.invoice.request", 1)
    assert "currency" in await refused(
        request, MANAGER, "requested", counterparty="A", amount="5", currency="XXX"
    )
    await decide(
        handle, request, MANAGER, "requested", counterparty="A", amount="5", currency="RUB"
    )
    await decide(
        handle,
        await next_task(handle, fakes, f"{K}.invoice.submit", 1),
        ACCOUNTANT,
        "submitted",
        file_ids=["f"],
    )
    await decide(
        handle, await next_task(handle, fakes, f"{K}.invoice.review", 1), MANAGER, "approved"
    )
    issue = await next_task(handle, fakes, f"{K}.invoice.issue", 1)
    await decide(handle, issue, ACCOUNTANT, "issued", number="N1", due_date="2026-12-20")
    plan = await next_task(handle, fakes, f"{K}.plan", 1)
    await decide(
        handle, plan, MANAGER, "planned", prepayment=False, layouts="client", production="both"
    )
    layouts = await next_task(handle, fakes, f"{K}.client_layouts", 1)
    await decide(handle, layouts, MANAGER, "attached", file_ids=["client-layout"])
    await sites_ready(handle, fakes)
    card = await next_task(handle, fakes, f"{K}.card", 1)
    assert "site" in await refused(card, MANAGER, "added", type="tshirt", quantity="1")
    problem = await refused(card, MANAGER, "added", type="mug", quantity="0", site="own")
    assert "'type' must be one of: tshirt, banner" in problem and "'quantity'" in problem
    problem = await refused(
        card,
        MANAGER,
        "added",
        type="tshirt",
        characteristics=["material=vinyl"],
        quantity="1",
        site="own",
    )
    assert "characteristics[0]" in problem and "cotton" in problem
    await add_card(handle, fakes, 1, "tshirt", ["size=XL"], "1", "own")
    made = await next_task(handle, fakes, f"{K}.production", 1)
    assert len(fakes.tasks_of(f"{K}.production")) == 1, "refused cards made no task"
    await decide(handle, made, MAKER, "produced")
    handover = await next_task(handle, fakes, f"{K}.handover", 1)
    assert "extra_amount" in await refused(handover, MANAGER, "accepted", extra_payment=True)
    await decide(handle, handover, MANAGER, "accepted", extra_payment=False)
    result: PromoProjectResult = await handle.result()
    assert result.extra_invoice_id == "" and fakes.of("get_invoice") == [], (
        "postpayment waits for nothing"
    )


def test_the_fakes_mirror_the_invoice_activities() -> None:
    real = InvoiceActivities(object())  # type: ignore[arg-type]
    assert activity_names(real.all()) == activity_names(promo_fakes().finance())


async def test_bt_3_production_waits_for_the_prepayment(
    env: WorkflowEnvironment, task_queue: str, fakes: PromoFakes
) -> None:
    handle = await start_project(env.client, task_queue)
    await awaiting_prepayment(handle, fakes)
    await env.sleep(timedelta(days=3))
    assert fakes.tasks_of(f"{K}.production.setup") == [], "no production before the money"
    assert (await state(handle)).stage == "preparation"
    await paid(handle, fakes, "1", "100.00")
    await next_task(handle, fakes, f"{K}.production.setup", 1)
    await handle.terminate("test over")
