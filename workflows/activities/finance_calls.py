"""Workflow-side typed calls of the finance activities, by name (see calls.py)."""

from __future__ import annotations

from workflows.activities.finance_types import (
    CloseSpendInput,
    DecideSpendInput,
    PaymentInfo,
    PaySpendInput,
    SpendInfo,
    SpendRefInput,
)
from workflows.activities.retry import call


async def get_spend(inp: SpendRefInput) -> SpendInfo:
    return await call("get_spend", inp, SpendInfo)


async def decide_spend(inp: DecideSpendInput) -> SpendInfo:
    return await call("decide_spend", inp, SpendInfo)


async def pay_spend(inp: PaySpendInput) -> PaymentInfo:
    """Inside the accountant's answer, which the gateway waits on."""
    return await call("pay_spend", inp, PaymentInfo, in_answer=True)


async def close_spend(inp: CloseSpendInput) -> SpendInfo:
    """Inside the accountant's answer, which the gateway waits on."""
    return await call("close_spend", inp, SpendInfo, in_answer=True)
