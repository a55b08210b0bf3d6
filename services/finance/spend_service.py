"""Use cases of spends: supplier payment requests (SM-6) and expenses (SN-6).

The approval step is a seam: `submit` puts a spend in approval and emits
`finance.<payment_request|expense>.submitted`; whoever runs the approval (the approval
chain) ends it by calling `decide` as the system (no actor), naming who decided.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from services.common.access import Access, Permission
from services.common.creations import Once, first_made, remember
from services.common.db import UnitOfWork
from services.common.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from services.common.pagination import Page, decode_cursor
from services.finance import ledger_repository as ledger_repo
from services.finance import repository as repo
from services.finance.context import Context, actor_of, require, require_visible, scope_of
from services.finance.domain.amounts import check_currency, parse_amount
from services.finance.domain.payments import Payment, check_reference
from services.finance.domain.spends import (
    Spend,
    SpendKind,
    SpendStatus,
    check_closing,
    check_decision,
    check_new,
    move,
)
from services.finance.events import deal_money_event, payment_data, spend_event
from services.finance.tables import creations

K, S = SpendKind, SpendStatus
CREATE = {
    K.SUPPLIER_PAYMENT: Permission.PAYMENT_REQUESTS_CREATE,
    K.EXPENSE: Permission.EXPENSES_CREATE,
}
PAY = {K.SUPPLIER_PAYMENT: Permission.PAYMENTS_RECORD, K.EXPENSE: Permission.EXPENSES_PAY}


async def use_deal_currency(
    uow: UnitOfWork, deal_id: int, currency: str, owner_id: int, now: datetime
) -> None:
    """A deal keeps its money in one currency: the first document's."""
    kept = await ledger_repo.deal_currency(uow.conn, deal_id, currency, owner_id, now)
    if kept != currency:
        raise ValidationFailed(FieldProblem("currency", f"the deal's money is kept in {kept}"))


class SpendService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def create(
        self,
        *,
        kind: SpendKind,
        actor_id: int | None,
        deal_id: int | None,
        owner_id: int | None,
        counterparty: str,
        purpose: str,
        amount: str,
        currency: str,
        due_date: date | None,
        idempotency_key: str = "",
    ) -> Spend:
        """A draft payment request or a registered expense; it goes on the schedule. A retry
        with the same `idempotency_key` returns the spend made first."""
        access = await self._ctx.access(actor_id)
        require(access, CREATE[kind])
        currency = check_currency(currency)
        value = parse_amount(amount, currency)
        counterparty, purpose, due = check_new(
            kind=kind, counterparty=counterparty, purpose=purpose, due_date=due_date
        )
        owner = await self._ctx.owner(access, deal_id, owner_id)
        now = self._ctx.clock()
        spend = Spend(
            id=0,
            kind=kind,
            owner_id=owner,
            author_id=actor_of(access),
            deal_id=deal_id,
            counterparty=counterparty,
            purpose=purpose,
            amount=value,
            currency=currency,
            due_date=due,
            created_at=now,
            updated_at=now,
        )
        async with self._ctx.uow() as uow:
            once = Once(actor_id, kind.value, idempotency_key)
            made = await first_made(uow.conn, creations, once)
            if made is not None and (first := await ledger_repo.get_spend(uow.conn, made, kind)):
                return first
            if deal_id is not None:
                await use_deal_currency(uow, deal_id, currency, owner, now)
            spend.id = await ledger_repo.insert_spend(uow.conn, spend, now)
            await remember(uow.conn, creations, once, spend.id)
            await ledger_repo.put_schedule_entry(
                uow.conn,
                {
                    "source": kind.value,
                    "source_id": spend.id,
                    "direction": "out",
                    "amount": value,
                    "currency": currency,
                    "due_date": due,
                    "owner_id": owner,
                    "state": "open",
                    "created_at": now,
                },
            )
            uow.emit(spend_event("created", spend, actor_of(access), ""))
        return spend

    async def get(self, *, kind: SpendKind, actor_id: int | None, spend_id: int) -> Spend:
        access = await self._ctx.access(actor_id)
        async with self._ctx.engine.connect() as conn:
            spend = await ledger_repo.get_spend(conn, spend_id, kind)
        return _seen(spend, access, kind, spend_id)

    async def list_page(
        self,
        *,
        kind: SpendKind,
        actor_id: int | None,
        status: str,
        deal_id: int | None,
        cursor: str,
        limit: int,
    ) -> Page[Spend]:
        access = await self._ctx.access(actor_id)
        if status and status not in set(SpendStatus):
            raise ValidationFailed(FieldProblem("status", "is not a status"))
        async with self._ctx.engine.connect() as conn:
            rows = await ledger_repo.list_spends(
                conn,
                kind,
                scope=scope_of(access),
                status=status,
                deal_id=deal_id,
                before_id=decode_cursor(cursor) if cursor else None,
                limit=limit + 1,
            )
        return Page.of(rows, limit, key=lambda s: s.id)

    async def submit(self, *, kind: SpendKind, actor_id: int | None, spend_id: int) -> Spend:
        """Send a draft (or a rejected one, after changes) for approval."""
        return await self._step(kind, actor_id, spend_id, "submitted", S.IN_APPROVAL, CREATE[kind])

    async def cancel(self, *, kind: SpendKind, actor_id: int | None, spend_id: int) -> Spend:
        """Withdraw a spend that was not paid; it leaves the schedule."""
        return await self._step(kind, actor_id, spend_id, "cancelled", S.CANCELLED, CREATE[kind])

    async def decide(
        self,
        *,
        kind: SpendKind,
        actor_id: int | None,
        spend_id: int,
        outcome: str,
        comment: str,
        decided_by: int | None,
    ) -> Spend:
        """The approval's outcome. Only the system (the approval chain) calls this: people
        decide through approvals, which check who may decide."""
        if actor_id is not None:
            raise PermissionDenied("decisions are made through approvals")
        target = check_decision(outcome, comment)
        async with self._ctx.uow() as uow:
            spend = await self._locked(uow, kind, spend_id, None)
            before = move(spend, target)
            spend.decision_comment, spend.decided_by = comment.strip(), decided_by
            await ledger_repo.save_spend(uow.conn, spend, self._ctx.clock())
            verb = "approved" if target is S.APPROVED else "rejected"
            uow.emit(spend_event(verb, spend, decided_by, before))
        return spend

    async def pay(
        self,
        *,
        kind: SpendKind,
        actor_id: int | None,
        spend_id: int,
        paid_on: date | None,
        reference: str,
        idempotency_key: str,
    ) -> tuple[Spend, Payment]:
        """The accountant records the payment of an approved spend: a registry entry (money
        out), the deal's costs, the schedule entry paid, in one transaction."""
        access = await self._ctx.access(actor_id)
        reference = check_reference(reference)
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            spend = await self._locked(uow, kind, spend_id, access)
            # visible first: someone else's record is a 404 whatever the caller's permissions
            require(access, PAY[kind])
            if idempotency_key and (found := await repo.payment_by_key(uow.conn, idempotency_key)):
                if found.spend_id != spend.id:
                    raise Conflict("this idempotency key was used for another payment")
                return spend, found
            before = move(spend, S.PAID)
            payment = await repo.insert_payment(
                uow.conn,
                {
                    "direction": "out",
                    "kind": "payment",
                    "spend_id": spend.id,
                    "deal_id": spend.deal_id,
                    "owner_id": spend.owner_id,
                    "counterparty": spend.counterparty,
                    "amount": spend.amount,
                    "currency": spend.currency,
                    "paid_on": paid_on or now.date(),
                    "reference": reference,
                    "recorded_by": actor_of(access),
                    "cost_delta": spend.amount if spend.deal_id is not None else Decimal(0),
                    "idempotency_key": idempotency_key or None,
                    "created_at": now,
                },
            )
            spend.paid_by, spend.payment_id = actor_of(access), payment.id
            await ledger_repo.save_spend(uow.conn, spend, now)
            await ledger_repo.set_schedule_state(uow.conn, kind.value, spend.id, "paid")
            uow.emit(spend_event("paid", spend, actor_of(access), before, payment_data(payment)))
            if spend.deal_id is not None:
                figures = await ledger_repo.add_to_deal(
                    uow.conn, spend.deal_id, revenue=Decimal(0), costs=spend.amount, now=now
                )
                uow.emit(deal_money_event(*figures, actor_of(access)))
        return spend, payment

    async def close(self, *, actor_id: int | None, spend_id: int, documents: list[str]) -> Spend:
        """The closing documents of a paid supplier payment (acts, invoices, waybills)."""
        access = await self._ctx.access(actor_id)
        docs = check_closing(documents)
        async with self._ctx.uow() as uow:
            spend = await self._locked(uow, K.SUPPLIER_PAYMENT, spend_id, access)
            # visible first: someone else's record is a 404 whatever the caller's permissions
            require(access, Permission.PAYMENTS_RECORD)
            before = move(spend, S.CLOSED)
            spend.closing_documents = docs
            await ledger_repo.save_spend(uow.conn, spend, self._ctx.clock())
            uow.emit(spend_event("closed", spend, actor_of(access), before, {"documents": docs}))
        return spend

    async def _step(
        self,
        kind: SpendKind,
        actor_id: int | None,
        spend_id: int,
        verb: str,
        target: SpendStatus,
        permission: Permission,
    ) -> Spend:
        access = await self._ctx.access(actor_id)
        async with self._ctx.uow() as uow:
            spend = await self._locked(uow, kind, spend_id, access)
            # visible first: someone else's record is a 404 whatever the caller's permissions
            require(access, permission)
            before = move(spend, target)
            await ledger_repo.save_spend(uow.conn, spend, self._ctx.clock())
            if target is S.CANCELLED:
                await ledger_repo.set_schedule_state(uow.conn, kind.value, spend.id, "cancelled")
            uow.emit(spend_event(verb, spend, actor_of(access), before))
        return spend

    async def _locked(
        self, uow: UnitOfWork, kind: SpendKind, spend_id: int, access: Access | None
    ) -> Spend:
        spend = await ledger_repo.get_spend(uow.conn, spend_id, kind, for_update=True)
        return _seen(spend, access, kind, spend_id)


def _seen(spend: Spend | None, access: Access | None, kind: SpendKind, spend_id: int) -> Spend:
    what = f"{'payment request' if kind is K.SUPPLIER_PAYMENT else 'expense'} {spend_id}"
    if spend is None:
        raise NotFound(f"{what} not found")
    require_visible(access, spend.owner_id, what)
    return spend
