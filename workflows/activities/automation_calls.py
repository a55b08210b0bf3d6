"""Workflow-side typed calls of the automation activities, by name (the worker registers
`automation.py`; tests register fakes under the same names). Bookkeeping (plan, record)
retries until the deals service is back; an action retries a few times, then the run
records it as failed and stops."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from temporalio import workflow

from workflows.activities.automation_types import (
    ActionInput,
    ActionResult,
    LeadStageInput,
    PlanInput,
    ReplanInput,
    StepInput,
)
from workflows.activities.retry import STEP_RETRY as _RETRY
from workflows.activities.retry import STEP_TIMEOUT as _CALL_TIMEOUT
from workflows.activities.retry import local as _local

ACTION_ATTEMPTS = 5  # an action gives up sooner than a step: the run records it as failed
_ACTION_RETRY = replace(_RETRY, maximum_attempts=ACTION_ATTEMPTS)


async def plan_run(inp: PlanInput) -> dict[str, Any]:
    result: dict[str, Any] = await workflow.execute_activity(
        "automation_plan",
        inp,
        result_type=dict,
        start_to_close_timeout=_CALL_TIMEOUT,
        retry_policy=_RETRY,
    )
    return result


async def replan_run(inp: ReplanInput) -> dict[str, Any]:
    result: dict[str, Any] = await workflow.execute_activity(
        "automation_replan",
        inp,
        result_type=dict,
        start_to_close_timeout=_CALL_TIMEOUT,
        retry_policy=_RETRY,
    )
    return result


async def record_step(inp: StepInput, *, local: bool = False) -> None:
    """`local`: as a local activity (a run with nothing to wait for: one workflow task)."""
    if local:
        await _local(
            "automation_record",
            inp,
            type(None),
            retry_policy=_RETRY,
            start_to_close_timeout=_CALL_TIMEOUT,
        )
        return
    await workflow.execute_activity(
        "automation_record", inp, start_to_close_timeout=_CALL_TIMEOUT, retry_policy=_RETRY
    )


async def run_action(inp: ActionInput, *, local: bool = False) -> ActionResult:
    """`local`: as a local activity (retried as often as an activity task's action)."""
    if local:
        return await _local(
            "automation_act",
            inp,
            ActionResult,
            retry_policy=_ACTION_RETRY,
            start_to_close_timeout=_CALL_TIMEOUT,
        )
    result: ActionResult = await workflow.execute_activity(
        "automation_act",
        inp,
        result_type=ActionResult,
        start_to_close_timeout=_CALL_TIMEOUT,
        retry_policy=_ACTION_RETRY,
    )
    return result


async def lead_stage(inp: LeadStageInput) -> str:
    """The stage the lead is in now (a lead's run looks when its timer fired)."""
    result: str = await workflow.execute_activity(
        "automation_lead_stage",
        inp,
        result_type=str,
        start_to_close_timeout=_CALL_TIMEOUT,
        retry_policy=_RETRY,
    )
    return result
