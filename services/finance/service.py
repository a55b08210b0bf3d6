"""Use cases of invoices and the payment registry; spends and the ledger hang off it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.access import Access, Permission
from services.common.creations import Once, first_made, remember
from services.common.db import UnitOfWork, utcnow
from services.common.errors import AlreadyExists, Conflict, FieldProblem, NotFound, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.finance import ledger_repository as ledger_repo
from services.finance import repository as repo
from services.finance.context import (
    Context,
    DealOwner,
    Resolver,
    actor_of,
    require,
    require_visible,
    scope_of,
)
from services.finance.domain.amounts import check_currency, parse_amount
from services.finance.domain.invoices import (
    Invoice,
    InvoiceStatus,
    apply_payment,
    build_lines,
    check_issue,
    check_transition,
    total_of,
)
from services.finance.domain.money import DealMoney
from services.finance.domain.payments import (
    Payment,
    PaymentFilter,
    check_filter,
    check_reference,
    kind_of,
)
from services.finance.events import deal_money_event, invoice_event, payment_events
from services.finance.ledger_service import LedgerService
from services.finance.spend_service import SpendService, use_deal_currency
from services.finance.tables import creations

RawLines = list[tuple[str, str, str]]


class FinanceService:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        resolver: Resolver | None = None,
        deal_owner: DealOwner | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._ctx = Context(engine, resolver, deal_owner, clock)
        self.spends = SpendService(self._ctx)
        self.ledger = LedgerService(self._ctx)

    async def deal_money(self, *, deal_id: int, actor_id: int | None = None) -> DealMoney:
        """The deal's figures; zeros for a deal with no money recorded yet."""
        return await self.ledger.deal_money(actor_id=actor_id, deal_id=deal_id)

    # ---- invoices ----
    async def request_invoice(
        self,
        *,
        actor_id: int | None,
        deal_id: int | None,
        owner_id: int | None,
        counterparty: str,
        currency: str,
        lines: RawLines,
        due_date: date | None,
        comment: str,
        idempotency_key: str = "",
    ) -> Invoice:
        """A manager asks accounting for an invoice (a draft); lines are a proposal. A retry
        with the same `idempotency_key` returns the invoice made first."""
        access = await self._ctx.access(actor_id)
        require(access, Permission.INVOICES_REQUEST)
        currency = check_currency(currency)
        built = build_lines(lines, currency)
        if not counterparty.strip() or len(counterparty) > 300:
            raise ValidationFailed(FieldProblem("counterparty", "must be 1-300 characters"))
        owner = await self._ctx.owner(access, deal_id, owner_id)
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            once = Once(actor_id, "invoice", idempotency_key)
            made = await first_made(uow.conn, creations, once)
            if made is not None and (first := await repo.get_invoice(uow.conn, made)):
                return first
            if deal_id is not None:
                await use_deal_currency(uow, deal_id, currency, owner, now)
            inv = Invoice(
                id=0,
                deal_id=deal_id,
                owner_id=owner,
                requested_by=actor_of(access),
                counterparty=counterparty.strip(),
                currency=currency,
                status=InvoiceStatus.DRAFT,
                lines=built,
                total=total_of(built),
                due_date=due_date,
                comment=comment.strip(),
                created_at=now,
            )
            inv.id = await repo.insert_invoice(uow.conn, inv, now)
            await remember(uow.conn, creations, once, inv.id)
            uow.emit(invoice_event("requested", inv, actor_of(access), ""))
            return inv

    async def issue_invoice(
        self,
        *,
        actor_id: int | None,
        invoice_id: int,
        number: str,
        lines: RawLines,
        due_date: date | None,
        file_ref: str,
    ) -> Invoice:
        """The accountant issues the invoice: number, final lines (or the requested ones),
        due date and the invoice file; it goes on the payment schedule."""
        access = await self._ctx.access(actor_id)
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            inv = await self._locked(uow, invoice_id, access)
            # visible first: someone else's record is a 404 whatever the caller's permissions
            require(access, Permission.INVOICES_ISSUE)
            if lines:
                inv.lines = build_lines(lines, inv.currency)
                inv.total = total_of(inv.lines)
            due = due_date or inv.due_date
            check_issue(inv, number=number, due_date=due, file_ref=file_ref)
            if await repo.number_taken(uow.conn, number.strip(), inv.id):
                raise AlreadyExists(f"invoice number {number.strip()} is taken")
            inv.number, inv.due_date, inv.file_ref = number.strip(), due, file_ref.strip()
            inv.status, inv.issued_by, inv.issued_at = InvoiceStatus.ISSUED, actor_of(access), now
            if lines:
                await repo.replace_lines(uow.conn, inv.id, inv.lines)
            await repo.save_invoice(uow.conn, inv, now)
            assert inv.due_date is not None
            await ledger_repo.put_schedule_entry(
                uow.conn,
                {
                    "source": "invoice",
                    "source_id": inv.id,
                    "direction": "in",
                    "amount": inv.total,
                    "currency": inv.currency,
                    "due_date": inv.due_date,
                    "owner_id": inv.owner_id,
                    "state": "open",
                    "created_at": now,
                },
            )
            uow.emit(invoice_event("issued", inv, actor_of(access), InvoiceStatus.DRAFT))
            return inv

    async def cancel_invoice(self, *, actor_id: int | None, invoice_id: int) -> Invoice:
        """Cancel an invoice nothing was paid on (the requester may cancel a draft)."""
        access = await self._ctx.access(actor_id)
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            inv = await self._locked(uow, invoice_id, access)
            own_draft = inv.status is InvoiceStatus.DRAFT and inv.requested_by == actor_id
            if not own_draft:
                require(access, Permission.INVOICES_ISSUE)
            if inv.paid != 0:
                raise Conflict("refund the payments before cancelling the invoice")
            before = inv.status
            check_transition(before, InvoiceStatus.CANCELLED)
            inv.status = InvoiceStatus.CANCELLED
            await repo.save_invoice(uow.conn, inv, now)
            await ledger_repo.set_schedule_state(uow.conn, "invoice", inv.id, "cancelled")
            uow.emit(invoice_event("cancelled", inv, actor_of(access), before))
            return inv

    async def get_invoice(self, *, actor_id: int | None, invoice_id: int) -> Invoice:
        """One invoice the caller sees."""
        access = await self._ctx.access(actor_id)
        async with self._ctx.engine.connect() as conn:
            inv = await repo.get_invoice(conn, invoice_id)
        if inv is None:
            raise NotFound(f"invoice {invoice_id} not found")
        require_visible(access, inv.owner_id, f"invoice {invoice_id}")
        return inv

    async def list_invoices(
        self,
        *,
        actor_id: int | None,
        deal_id: int | None,
        status: str,
        counterparty: str,
        cursor: str,
        limit: int,
    ) -> Page[Invoice]:
        """Invoices the caller sees, newest first."""
        access = await self._ctx.access(actor_id)
        if status and status not in set(InvoiceStatus):
            raise ValidationFailed(FieldProblem("status", "is not an invoice status"))
        async with self._ctx.engine.connect() as conn:
            rows = await repo.list_invoices(
                conn,
                scope=scope_of(access),
                deal_id=deal_id,
                status=status,
                counterparty=counterparty,
                before_id=decode_cursor(cursor) if cursor else None,
                limit=limit + 1,
            )
        return Page.of(rows, limit, key=lambda i: i.id)

    # ---- payments ----
    async def record_payment(
        self,
        *,
        actor_id: int | None,
        invoice_id: int,
        amount: str,
        paid_on: date | None,
        reference: str,
        idempotency_key: str,
    ) -> tuple[Payment, Invoice]:
        """A client's payment (negative: a refund) on an issued invoice. The invoice row is
        locked, so concurrent payments queue and each sees the previous one's balance; the
        invoice, the registry entry, the deal's figures and the events commit together."""
        access = await self._ctx.access(actor_id)
        reference = check_reference(reference)
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            inv = await self._locked(uow, invoice_id, access)  # also orders retries of a key
            # visible first: someone else's record is a 404 whatever the caller's permissions
            require(access, Permission.PAYMENTS_RECORD)
            if idempotency_key and (found := await repo.payment_by_key(uow.conn, idempotency_key)):
                return await self._replayed(uow, found, invoice_id)
            value = parse_amount(amount, inv.currency, negative=True)
            effect = apply_payment(inv, value)
            payment = await repo.insert_payment(
                uow.conn,
                {
                    "direction": "in",
                    "kind": kind_of(value).value,
                    "invoice_id": inv.id,
                    "deal_id": inv.deal_id,
                    "owner_id": inv.owner_id,
                    "counterparty": inv.counterparty,
                    "amount": value,
                    "currency": inv.currency,
                    "paid_on": paid_on or now.date(),
                    "reference": reference,
                    "recorded_by": actor_of(access),
                    "revenue_delta": effect.revenue_delta,
                    "overpayment": effect.overpayment,
                    "idempotency_key": idempotency_key or None,
                    "created_at": now,
                },
            )
            await repo.save_invoice(uow.conn, inv, now)
            state = "paid" if inv.status is InvoiceStatus.FULLY_PAID else "open"
            await ledger_repo.set_schedule_state(uow.conn, "invoice", inv.id, state)
            for event in payment_events(inv, payment, effect, actor_of(access)):
                uow.emit(event)
            if inv.deal_id is not None and effect.revenue_delta != 0:
                figures = await ledger_repo.add_to_deal(
                    uow.conn, inv.deal_id, revenue=effect.revenue_delta, costs=Decimal(0), now=now
                )
                uow.emit(deal_money_event(*figures, actor_of(access)))
            return payment, inv

    async def list_payments(
        self, *, actor_id: int | None, where: PaymentFilter, cursor: str, limit: int
    ) -> Page[Payment]:
        """The payment registry: entries the caller sees, newest first."""
        access = await self._ctx.access(actor_id)
        check_filter(where)
        async with self._ctx.engine.connect() as conn:
            rows = await repo.list_payments(
                conn,
                where,
                scope=scope_of(access),
                before_id=decode_cursor(cursor) if cursor else None,
                limit=limit + 1,
            )
        return Page.of(rows, limit, key=lambda p: p.id)

    async def _locked(self, uow: UnitOfWork, invoice_id: int, access: Access | None) -> Invoice:
        inv = await repo.get_invoice(uow.conn, invoice_id, for_update=True)
        if inv is None:
            raise NotFound(f"invoice {invoice_id} not found")
        require_visible(access, inv.owner_id, f"invoice {invoice_id}")
        return inv

    async def _replayed(
        self, uow: UnitOfWork, payment: Payment, invoice_id: int
    ) -> tuple[Payment, Invoice]:
        """A retry of a recorded payment answers the first result, changing nothing."""
        if payment.invoice_id != invoice_id:
            raise Conflict("this idempotency key was used for another payment")
        inv = await repo.get_invoice(uow.conn, invoice_id)
        assert inv is not None
        return payment, inv
