"""A run the triggers run themselves, over fake action code: the order, the keys, what is
recorded, and when the run goes to its workflow (also when its event comes again)."""

from __future__ import annotations

from typing import Any, cast

from temporalio.exceptions import ApplicationError

from services.common.grpc_client import ServiceUnavailable
from workflows.activities.automation import AutomationActivities
from workflows.activities.automation_types import (
    ActionInput,
    ActionResult,
    AutomationInput,
    StepInput,
)
from workflows.automation_inline_runs import InlineRuns
from workflows.automation_triggers import DealEvent, Firing, Rule
from workflows.triggers import Triggers

RUN = AutomationInput("42", "3", "5", 1, "e1", 'enter "B"', initiator_id="8")
WID = "deal-42/automation/5/e1"


class FakeActions:
    def __init__(self, fail: dict[int, Exception] | None = None) -> None:
        self.fail = fail or {}
        self.acted: list[ActionInput] = []
        self.recorded: list[StepInput] = []

    async def act(self, inp: ActionInput) -> ActionResult:
        self.acted.append(inp)
        if inp.index in self.fail:
            raise self.fail[inp.index]
        return ActionResult(f"did {inp.index}")

    async def record(self, inp: StepInput) -> None:
        self.recorded.append(inp)


def plan(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"fires": True, "actions": [{"index": i, **a} for i, a in enumerate(actions)]}


NOTE = {"type": "add_timeline_note", "text": "n"}


def runs(fake: FakeActions) -> InlineRuns:
    return InlineRuns(cast(AutomationActivities, fake))


async def test_the_actions_run_in_order_by_their_keys_the_last_ending_the_run() -> None:
    fake = FakeActions()
    assert await runs(fake).run(RUN, WID, plan(NOTE, NOTE, NOTE)) == -1
    assert [(a.idempotency_key, a.index, a.run_status) for a in fake.acted] == [
        (f"{WID}/0", 0, ""),
        (f"{WID}/1", 1, ""),
        (f"{WID}/2", 2, "done"),
    ]
    assert all(a.deal_id == "42" and a.stage_id == "" for a in fake.acted)
    assert fake.recorded == [], "each result is recorded by the action code itself"


async def test_an_action_refused_for_good_is_recorded_failed_and_ends_the_run() -> None:
    fake = FakeActions({1: ApplicationError("unknown process x", non_retryable=True)})
    assert await runs(fake).run(RUN, WID, plan(NOTE, NOTE, NOTE)) == -1
    assert len(fake.acted) == 2
    assert [(s.index, s.status, s.detail, s.run_status) for s in fake.recorded] == [
        (1, "failed", "unknown process x", ""),
        (-1, "failed", "action 1 failed: unknown process x", "failed"),
    ]


async def test_an_action_the_plan_could_not_resolve_fails_without_running() -> None:
    fake = FakeActions()
    bad = {**NOTE, "error": "nobody has the role lawyer"}
    assert await runs(fake).run(RUN, WID, plan(NOTE, bad)) == -1
    assert [a.index for a in fake.acted] == [0]
    assert [(s.index, s.status) for s in fake.recorded] == [(1, "failed"), (-1, "failed")]


async def test_a_failure_worth_retrying_hands_the_run_over_at_that_action() -> None:
    for error in (ServiceUnavailable("deals down"), ApplicationError("busy")):
        fake = FakeActions({1: error})
        assert await runs(fake).run(RUN, WID, plan(NOTE, NOTE, NOTE)) == 1
        assert [a.index for a in fake.acted] == [0, 1]
        assert fake.recorded == [], "nothing recorded as failed: the workflow retries it"


class Recorder(Triggers):
    """The triggers with the workflow start recorded instead of made."""

    started: list[AutomationInput]

    async def _start(
        self, event: DealEvent, firing: Firing, run: AutomationInput, *, wait: bool = False
    ) -> None:
        self.started.append(run)


def triggers(fake: FakeActions | None) -> Recorder:
    made = Recorder(
        js=cast(Any, None),
        temporal=cast(Any, None),
        deals=cast(Any, None),
        automation=cast(Any, None),
        actions=None if fake is None else cast(AutomationActivities, fake),
    )
    made.started = []
    return made


EVENT = DealEvent("e1", "deals.deal.stage_changed", "42", "3", "11", "8")
FIRING = Firing(Rule("5", "3", 1, {"event": "enter", "stage_id": 11}), 'enter "B"')
INLINE = {**plan(NOTE, NOTE), "delay": None}


async def test_a_fresh_run_with_nothing_to_wait_for_starts_no_workflow() -> None:
    fake = FakeActions()
    made = triggers(fake)
    await made._run(EVENT, FIRING, INLINE)
    assert (len(fake.acted), made.started) == (2, [])


async def test_a_run_that_waits_or_triggers_without_actions_start_the_workflow() -> None:
    fake = FakeActions()
    made = triggers(fake)
    await made._run(EVENT, FIRING, {**INLINE, "delay": {"seconds": 5}})
    await triggers(None)._run(EVENT, FIRING, INLINE)
    assert fake.acted == [] and [r.first_action for r in made.started] == [0]


async def test_a_run_handed_over_midway_starts_the_workflow_at_that_action() -> None:
    fake = FakeActions({1: ServiceUnavailable("down")})
    made = triggers(fake)
    await made._run(EVENT, FIRING, INLINE)
    assert [r.first_action for r in made.started] == [1]


async def test_an_event_again_does_nothing_for_an_ended_run_and_hands_on_an_unfinished_one() -> (
    None
):
    fake = FakeActions()
    made = triggers(fake)
    for status in ("done", "failed"):
        await made._run(EVENT, FIRING, {**INLINE, "recorded": {"status": status, "steps": []}})
    assert made.started == []
    begun = {"status": "scheduled", "steps": [{"index": 0, "status": "done"}]}
    await made._run(EVENT, FIRING, {**INLINE, "recorded": begun})
    assert fake.acted == [], "the event again runs nothing here"
    assert [r.first_action for r in made.started] == [1]
