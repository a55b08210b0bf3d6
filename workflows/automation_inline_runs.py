"""A planned automation run the triggers run themselves (workflows/automation_inline.py
says which): its actions in order through the `automation_act` activity's own code
(idempotency key `<run id>/<index>`, each result recorded in the run log by that code, the
last one together with the run's end: done), as the `automation_run` workflow records them.

Durable without a workflow: the event is acked only after the run is recorded, so a worker
dying midway has the event redelivered, and a redelivered event whose run is not finished
hands the run to the workflow at the first action the log does not list as done (the keys
make an action done but not yet recorded do nothing twice). An action refused for good (a
non-retryable failure, as the activity would fail) is recorded as failed and ends the run;
any other failure hands the run over, and the workflow retries that action.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from temporalio.exceptions import ApplicationError

from services.common.faults import fault_point
from workflows.activities.automation import AutomationActivities
from workflows.activities.automation_types import AutomationInput, StepInput, action_input
from workflows.automation_inline import failed_detail

log = logging.getLogger(__name__)


class InlineRuns:
    def __init__(self, actions: AutomationActivities) -> None:
        self._actions = actions

    async def run(self, run: AutomationInput, workflow_id: str, plan: dict[str, Any]) -> int:
        """Run the plan's actions; -1 when the run ended (done or failed, recorded), else
        the index of the action a workflow must go on from."""
        actions = plan["actions"]
        for index, action in enumerate(actions):
            if action.get("error"):  # nothing to retry: the plan found it cannot run
                await self._fail(workflow_id, index, str(action["error"]))
                return -1
            step = action_input(run, workflow_id, index, action)
            if index == len(actions) - 1:  # its result and the run's end in one record
                step = replace(step, run_status="done")
            try:
                await self._actions.act(step)
            except ApplicationError as exc:
                if not exc.non_retryable:
                    return self._hand_over(workflow_id, index, exc)
                await self._fail(workflow_id, index, exc.message or str(exc))
                return -1
            except Exception as exc:  # a service down, a lost answer: the workflow retries
                return self._hand_over(workflow_id, index, exc)
            fault_point("worker.rule_action_done")
        if not actions:
            await self._actions.record(StepInput(workflow_id, -1, "done", run_status="done"))
        return -1

    async def _fail(self, workflow_id: str, index: int, reason: str) -> None:
        await self._actions.record(StepInput(workflow_id, index, "failed", reason))
        detail = failed_detail(index, reason)
        await self._actions.record(
            StepInput(workflow_id, -1, "failed", detail, run_status="failed")
        )

    @staticmethod
    def _hand_over(workflow_id: str, index: int, exc: Exception) -> int:
        log.info(
            "automation action failed inline; the run goes to its workflow",
            extra={"workflow_id": workflow_id, "index": index, "error": repr(exc)},
        )
        return index
