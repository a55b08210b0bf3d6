"""How a workflow calls an activity: the one retry policy and timeouts every process uses.

Two kinds of call:
- **a step** (reads and changes a process makes on its own): retried until the service is
  back, so a process outlives an outage; a domain error arrives as a non-retryable
  ApplicationError and fails the call at once;
- **inside an answer** (an Update the gateway is waiting on: completing a task, checking a
  file, recording a payment, a move the answer asks for): retried briefly and given up
  within `ANSWER_BUDGET`, so the person gets a definite answer instead of a hang; run as
  local activities (`ANSWER_LOCALLY`).

A step runs as a local activity too while the workflow says so (`steps_run_locally()` on
the workflow instance: the process kit's, until a process's first task is created, so the
way from the start to the first task is one workflow task): retried in the worker as a step
is, `LOCAL_STEP_ATTEMPTS` times; a service still down by then gets the step as an activity
task, retried until it is back, as any step (same input, same idempotency key).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

T = TypeVar("T")

STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
STEP_TIMEOUT = timedelta(seconds=30)

ANSWER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500), maximum_interval=timedelta(seconds=5)
)
ANSWER_ATTEMPT_TIMEOUT = timedelta(seconds=10)
# Below the gateway's request timeout, so the gateway hears the refusal, not its own timeout.
ANSWER_BUDGET = timedelta(seconds=15)
# An answer's calls run as local activities: in the worker, within the workflow task that
# handles the Update, without an activity task's round trips through the server (schedule,
# poll, start, complete, and a second workflow task for the result) while the person waits.
# Histories recorded before carry them as activity tasks, hence the patch.
ANSWER_LOCALLY = "answer-local-activity"

# A local step: attempts as a step's (1, 2, 4 s apart), each within the service call's own
# deadline (services/common/grpc_client.py), but only `LOCAL_STEP_ATTEMPTS` of them (≈ 7 s
# when the service fails fast, inside the workflow task's 10 s timeout; a slow failure
# extends the open workflow task, the SDK's heartbeat at 80 % of it); then an activity task.
# (A local activity's schedule-to-close timeout was not honoured across its retries on the
# time-skipping server: attempts went on past it, hence a count, not a budget.)
LOCAL_STEP_ATTEMPTS = 4
LOCAL_STEP_RETRY = RetryPolicy(
    initial_interval=STEP_RETRY.initial_interval,
    maximum_interval=STEP_RETRY.maximum_interval,
    maximum_attempts=LOCAL_STEP_ATTEMPTS,
)
LOCAL_STEP_ATTEMPT_TIMEOUT = timedelta(seconds=10)


async def call(name: str, arg: object, result_type: type[T], *, in_answer: bool = False) -> T:
    """Run activity `name`; `in_answer` inside an Update the gateway waits on."""
    if not in_answer and _steps_run_locally():
        return await _local_step(name, arg, result_type)
    if in_answer and workflow.patched(ANSWER_LOCALLY):
        return await local(
            name,
            arg,
            result_type,
            retry_policy=ANSWER_RETRY,
            start_to_close_timeout=ANSWER_ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=ANSWER_BUDGET,
        )
    if in_answer:  # a process that answered before the patch, replaying its history
        result: T = await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=ANSWER_ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=ANSWER_BUDGET,
            retry_policy=ANSWER_RETRY,
        )
        return result
    return await _step(name, arg, result_type)


async def _step(name: str, arg: object, result_type: type[T]) -> T:
    result: T = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=STEP_RETRY,
    )
    return result


def _steps_run_locally() -> bool:
    """The workflow's say (a workflow without `steps_run_locally` runs activity tasks)."""
    says = getattr(workflow.instance(), "steps_run_locally", None)
    return bool(says is not None and says())


async def _local_step(name: str, arg: object, result_type: type[T]) -> T:
    """A step as a local activity; still failing after `LOCAL_STEP_ATTEMPTS` (and not
    refused by the service), as an activity task."""
    try:
        return await local(
            name,
            arg,
            result_type,
            retry_policy=LOCAL_STEP_RETRY,
            start_to_close_timeout=LOCAL_STEP_ATTEMPT_TIMEOUT,
        )
    except ActivityError as exc:
        if isinstance(exc.cause, ApplicationError) and exc.cause.non_retryable:
            raise  # the service refused it: an activity task would fail the same
    return await _step(name, arg, result_type)


async def local(
    name: str,
    arg: object,
    result_type: type[T],
    *,
    retry_policy: RetryPolicy,
    start_to_close_timeout: timedelta,
    schedule_to_close_timeout: timedelta | None = None,
) -> T:
    """Run activity `name` as a local activity (in this worker, within the workflow task);
    its failure raised as the ActivityError an activity task's would be."""
    try:
        result: T = await workflow.execute_local_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=start_to_close_timeout,
            schedule_to_close_timeout=schedule_to_close_timeout,
            retry_policy=retry_policy,
        )
    except (ApplicationError, TimeoutError) as exc:
        # A local activity's failure arrives bare; the callers take an activity's failure
        # as an ActivityError caused by the service's error, as from an activity task.
        raise ActivityError(
            f"{name} failed",
            scheduled_event_id=0,
            started_event_id=0,
            identity="",
            activity_type=name,
            activity_id="",
            retry_state=None,
        ) from exc
    return result
