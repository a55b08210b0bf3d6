"""Which planned automation runs the triggers run themselves, without a workflow: plain
functions over a run's plan (services/deals/automation_plan.py). No I/O.

A run with nothing to wait for (no delay on the rule or on any action, no task to close
when the deal leaves the stage) is its actions in order, each idempotent by its key
`<run id>/<index>`: the worker's trigger consumer runs them at once, through the same
action code the `automation_act` activity runs, and acks the event only after. A run that
must wait, whose action failed in a way worth retrying, or whose event came again before it
finished, is an `automation_run` workflow as before (handed over: the workflow starts at
the first action the run log does not list as done).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The action types that only act (none waits for a later event of the deal): what a lead's
# or a deal's run may do without a workflow. `start_process` only starts the process.
INSTANT = frozenset(
    {
        "create_task",
        "move",
        "set_fields",
        "create_deal",
        "notify",
        "start_process",
        "add_timeline_note",
        "convert_lead",
        "exclude_contact",
    }
)
FINAL = frozenset({"done", "failed", "cancelled", "skipped", "loop_bound"})


def why_not_inline(plan: Mapping[str, Any]) -> str:
    """Why the planned run needs a workflow; "" when the triggers may run it themselves."""
    if not plan.get("fires"):
        return "it does not fire"
    if "delay" not in plan:
        return "planned before runs could run inline"
    if plan["delay"]:
        return "the rule waits on a delay"
    for action in plan.get("actions", []):
        kind = action.get("type")
        if action.get("delay"):
            return f"action {action.get('index')} waits on a delay"
        if kind not in INSTANT:
            return f"action {action.get('index')} ({kind}) is not known to act at once"
        if kind == "create_task" and action.get("close_on_leave"):
            return f"action {action.get('index')} closes its task when the deal leaves"
    return ""


def done_before(steps: Sequence[Mapping[str, Any]]) -> int:
    """How many of the run's first actions the run log lists as done (where a handed-over
    run begins)."""
    done = {int(s["index"]) for s in steps if s.get("status") == "done"}
    count = 0
    while count in done:
        count += 1
    return count


def failed_detail(index: int, reason: str) -> str:
    """The run's reason in the log when action `index` failed."""
    return f"action {index} failed: {reason}"
