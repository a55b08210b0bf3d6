"""Activities of the spend processes over the finance service: read a spend, record the
approval's outcome (as the system), pay and close it (as the accountant who answered the
task, so finance checks their rights). Each is safe to retry: a retry that finds its
change already made is done. Domain errors are non-retryable (see services.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dealflow.finance.v1 import finance_pb2 as fpb
from dealflow.finance.v1 import finance_pb2_grpc
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.activities.finance_types import (
    CloseSpendInput,
    DecideSpendInput,
    PaymentInfo,
    PaySpendInput,
    SpendInfo,
    SpendRefInput,
)
from workflows.activities.services import _call

DECIDED = {"approve": "approved", "reject": "rejected"}


def _spend(s: Any) -> SpendInfo:
    return SpendInfo(
        id=s.id,
        kind=s.kind,
        status=s.status,
        deal_id=s.deal_id,
        owner_id=s.owner_id,
        author_id=s.author_id,
        counterparty=s.counterparty,
        purpose=s.purpose,
        amount=s.amount,
        currency=s.currency,
        due_date=s.due_date,
    )


class FinanceActivities:
    def __init__(self, finance: finance_pb2_grpc.FinanceServiceStub) -> None:
        self._finance = finance

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.get_spend,
            self.decide_spend,
            self.pay_spend,
            self.close_spend,
        ]

    async def _get(self, kind: str, spend_id: str) -> Any:
        return await _call(self._finance.GetSpend, fpb.SpendRef(kind=kind, spend_id=spend_id))

    @activity.defn(name="get_spend")
    async def get_spend(self, inp: SpendRefInput) -> SpendInfo:
        return _spend(await self._get(inp.kind, inp.spend_id))

    @activity.defn(name="decide_spend")
    async def decide_spend(self, inp: DecideSpendInput) -> SpendInfo:
        request = fpb.DecideSpendRequest(
            kind=inp.kind,
            spend_id=inp.spend_id,
            outcome=inp.outcome,
            comment=inp.comment,
            decided_by=inp.decided_by,
        )
        try:
            return _spend(await _call(self._finance.DecideSpend, request))
        except ApplicationError as exc:
            if exc.type != "Conflict":
                raise
            current = await self._get(inp.kind, inp.spend_id)
            if current.status == DECIDED.get(inp.outcome) and current.decided_by == inp.decided_by:
                return _spend(current)  # a retry after a lost answer: already decided
            raise

    @activity.defn(name="pay_spend")
    async def pay_spend(self, inp: PaySpendInput) -> PaymentInfo:
        # The key makes a retry return the first payment (finance keeps it).
        reply = await _call(
            self._finance.PaySpend,
            fpb.PaySpendRequest(
                kind=inp.kind,
                spend_id=inp.spend_id,
                paid_on=inp.paid_on,
                reference=inp.reference,
                idempotency_key=inp.idempotency_key,
            ),
            actor=inp.actor_id,
        )
        p = reply.payment
        return PaymentInfo(p.id, p.amount, p.currency, p.paid_on)

    @activity.defn(name="close_spend")
    async def close_spend(self, inp: CloseSpendInput) -> SpendInfo:
        request = fpb.CloseSpendRequest(spend_id=inp.spend_id, documents=inp.documents)
        try:
            return _spend(await _call(self._finance.CloseSpend, request, actor=inp.actor_id))
        except ApplicationError as exc:
            if exc.type != "Conflict":
                raise
            current = await self._get("supplier_payment", inp.spend_id)
            if current.status == "closed":
                return _spend(current)  # a retry after a lost answer: already closed
            raise
