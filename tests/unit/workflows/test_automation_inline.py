"""Which planned runs the triggers run themselves (workflows/automation_inline.py)."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.automation_inline import INSTANT, done_before, failed_detail, why_not_inline


def plan(*actions: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "fires": True,
        "delay": None,
        "actions": [{"index": i, **a} for i, a in enumerate(actions)],
        **more,
    }


NOTE = {"type": "add_timeline_note", "text": "hi"}
TASK = {"type": "create_task", "title": "Call", "assignee_id": "8"}


@pytest.mark.parametrize("kind", sorted(INSTANT))
def test_a_run_of_instant_actions_without_delay_runs_inline(kind: str) -> None:
    assert why_not_inline(plan({"type": kind}, NOTE)) == ""


def test_a_task_closed_on_leaving_needs_the_workflow_to_hear_the_leave() -> None:
    assert why_not_inline(plan(NOTE, {**TASK, "close_on_leave": True})) == (
        "action 1 closes its task when the deal leaves"
    )
    assert why_not_inline(plan({**TASK, "close_on_leave": False})) == ""


@pytest.mark.parametrize(
    "delayed",
    [
        plan(NOTE, delay={"seconds": 5}),
        plan(NOTE, delay={"business_days": 1}),
        plan(NOTE, {**TASK, "delay": {"field": "deadline", "offset": "-P1D"}}),
        plan({**NOTE, "delay": {"seconds": 0}}),  # a delay at all: the workflow's timer
    ],
)
def test_a_delay_on_the_rule_or_an_action_needs_the_workflow(delayed: dict[str, Any]) -> None:
    assert "waits on a delay" in why_not_inline(delayed)


def test_a_plan_without_the_delay_key_was_made_before_and_goes_to_the_workflow() -> None:
    old = plan(NOTE)
    del old["delay"]
    assert why_not_inline(old) == "planned before runs could run inline"


def test_an_action_of_an_unknown_type_goes_to_the_workflow() -> None:
    assert "not known to act at once" in why_not_inline(plan({"type": "wait_for_call"}))


def test_a_run_that_does_not_fire_runs_nowhere() -> None:
    assert why_not_inline({**plan(NOTE), "fires": False}) == "it does not fire"


def test_a_run_with_an_action_the_plan_could_not_resolve_still_runs_inline() -> None:
    """It fails at that action, recorded as the workflow would: nothing to retry."""
    assert why_not_inline(plan(NOTE, {**TASK, "error": "nobody has the role x"})) == ""


def test_a_handed_over_run_begins_at_the_first_action_not_done() -> None:
    assert done_before([]) == 0
    steps = [{"index": 0, "status": "done"}, {"index": 1, "status": "done"}]
    assert done_before(steps) == 2
    assert done_before([{"index": 1, "status": "done"}]) == 0
    assert done_before([{"index": 0, "status": "done"}, {"index": 1, "status": "failed"}]) == 1


def test_the_run_s_reason_names_the_failed_action() -> None:
    assert failed_detail(2, "deal 4 not found") == "action 2 failed: deal 4 not found"
