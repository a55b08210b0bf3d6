"""How a workflow calls an activity: the one retry policy and timeouts every process uses.

Two kinds of call:
- **a step** (reads and changes a process makes on its own): retried until the service is
  back, so a process outlives an outage; a domain error arrives as a non-retryable
  ApplicationError and fails the call at once;
- **inside an answer** (an Update the gateway is waiting on: completing a task, checking a
  file, recording a payment, a move the answer asks for): retried briefly and given up
  within `ANSWER_BUDGET`, so the person gets a definite answer instead of a hang.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

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


async def call(name: str, arg: object, result_type: type[T], *, in_answer: bool = False) -> T:
    """Run activity `name`; `in_answer` inside an Update the gateway waits on."""
    if in_answer:
        result: T = await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=ANSWER_ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=ANSWER_BUDGET,
            retry_policy=ANSWER_RETRY,
        )
        return result
    result = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=STEP_RETRY,
    )
    return result
