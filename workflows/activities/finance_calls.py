"""Workflow-side typed calls of the finance activities, by name (see calls.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.activities.finance_types import (
    CloseSpendInput,
    DecideSpendInput,
    PaymentInfo,
    PaySpendInput,
    SpendInfo,
    SpendRefInput,
)

_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
_CALL_TIMEOUT = timedelta(seconds=30)
# Paying and closing run inside the accountant's Update, which the gateway waits on.
_QUICK = RetryPolicy(
    initial_interval=timedelta(milliseconds=500), maximum_interval=timedelta(seconds=5)
)
_UPDATE_BUDGET = timedelta(seconds=15)


async def get_spend(inp: SpendRefInput) -> SpendInfo:
    result: SpendInfo = await workflow.execute_activity(
        "get_spend",
        inp,
        result_type=SpendInfo,
        start_to_close_timeout=_CALL_TIMEOUT,
        retry_policy=_RETRY,
    )
    return result


async def decide_spend(inp: DecideSpendInput) -> SpendInfo:
    result: SpendInfo = await workflow.execute_activity(
        "decide_spend",
        inp,
        result_type=SpendInfo,
        start_to_close_timeout=_CALL_TIMEOUT,
        retry_policy=_RETRY,
    )
    return result


async def pay_spend(inp: PaySpendInput) -> PaymentInfo:
    result: PaymentInfo = await workflow.execute_activity(
        "pay_spend",
        inp,
        result_type=PaymentInfo,
        start_to_close_timeout=timedelta(seconds=10),
        schedule_to_close_timeout=_UPDATE_BUDGET,
        retry_policy=_QUICK,
    )
    return result


async def close_spend(inp: CloseSpendInput) -> SpendInfo:
    result: SpendInfo = await workflow.execute_activity(
        "close_spend",
        inp,
        result_type=SpendInfo,
        start_to_close_timeout=timedelta(seconds=10),
        schedule_to_close_timeout=_UPDATE_BUDGET,
        retry_policy=_QUICK,
    )
    return result
