"""Workflow-side typed calls of the finance activities, by name (see calls.py)."""

from __future__ import annotations

from workflows.activities.finance_types import (
    CloseSpendInput,
    DecideSpendInput,
    InvoiceInfo,
    InvoiceRefInput,
    IssueInvoiceInput,
    PaymentInfo,
    PaySpendInput,
    RequestInvoiceInput,
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


async def request_invoice(inp: RequestInvoiceInput) -> InvoiceInfo:
    """Inside the manager's answer, which the gateway waits on."""
    return await call("request_invoice", inp, InvoiceInfo, in_answer=True)


async def issue_invoice(inp: IssueInvoiceInput) -> InvoiceInfo:
    """Inside the accountant's answer, which the gateway waits on."""
    return await call("issue_invoice", inp, InvoiceInfo, in_answer=True)


async def get_invoice(inp: InvoiceRefInput) -> InvoiceInfo:
    return await call("get_invoice", inp, InvoiceInfo)
