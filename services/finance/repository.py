"""SQL of invoices and the payment registry (the finance schema only)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Scope
from services.finance.domain.invoices import Invoice, InvoiceStatus, Line
from services.finance.domain.payments import Payment, PaymentFilter, PaymentKind
from services.finance.tables import invoice_lines, invoices, payments, spends


def visible(column: sa.ColumnElement[Any], scope: Scope | None) -> sa.ColumnElement[bool]:
    """Rows whose owner the scope sees (None: an internal caller, sees all)."""
    if scope is None or scope.everyone:
        return sa.true()
    return column.in_(sorted(scope.user_ids))


def _invoice(row: sa.Row[Any], lines: list[Line]) -> Invoice:
    return Invoice(
        id=row.id,
        deal_id=row.deal_id,
        owner_id=row.owner_id,
        requested_by=row.requested_by,
        counterparty=row.counterparty,
        currency=row.currency,
        status=InvoiceStatus(row.status),
        lines=lines,
        total=row.total,
        paid=row.paid,
        number=row.number or "",
        due_date=row.due_date,
        file_ref=row.file_ref,
        comment=row.comment,
        issued_by=row.issued_by,
        created_at=row.created_at,
        issued_at=row.issued_at,
        version=row.version,
        fully_paid_count=row.fully_paid_count,
    )


async def _lines(conn: AsyncConnection, ids: list[int]) -> dict[int, list[Line]]:
    found: dict[int, list[Line]] = {i: [] for i in ids}
    if ids:
        rows = await conn.execute(
            sa.select(invoice_lines)
            .where(invoice_lines.c.invoice_id.in_(ids))
            .order_by(invoice_lines.c.invoice_id, invoice_lines.c.position)
        )
        for r in rows:
            found[r.invoice_id].append(Line(r.description, r.quantity, r.unit_price, r.amount))
    return found


async def insert_invoice(conn: AsyncConnection, inv: Invoice, now: datetime) -> int:
    invoice_id: int = await conn.scalar(
        invoices.insert()
        .values(
            deal_id=inv.deal_id,
            owner_id=inv.owner_id,
            requested_by=inv.requested_by,
            counterparty=inv.counterparty,
            currency=inv.currency,
            status=inv.status.value,
            total=inv.total,
            due_date=inv.due_date,
            comment=inv.comment,
            created_at=now,
            updated_at=now,
            version=1,
        )
        .returning(invoices.c.id)
    )
    await replace_lines(conn, invoice_id, inv.lines)
    return invoice_id


async def replace_lines(conn: AsyncConnection, invoice_id: int, lines: list[Line]) -> None:
    await conn.execute(invoice_lines.delete().where(invoice_lines.c.invoice_id == invoice_id))
    if lines:
        await conn.execute(
            invoice_lines.insert(),
            [{"invoice_id": invoice_id, "position": i, **asdict(ln)} for i, ln in enumerate(lines)],
        )


async def get_invoice(
    conn: AsyncConnection, invoice_id: int, *, for_update: bool = False
) -> Invoice | None:
    query = sa.select(invoices).where(invoices.c.id == invoice_id)
    if for_update:  # concurrent payments on one invoice queue here, each sees the last paid
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return _invoice(row, (await _lines(conn, [invoice_id]))[invoice_id])


async def save_invoice(conn: AsyncConnection, inv: Invoice, now: datetime) -> None:
    inv.version += 1
    await conn.execute(
        invoices.update()
        .where(invoices.c.id == inv.id)
        .values(
            status=inv.status.value,
            total=inv.total,
            paid=inv.paid,
            number=inv.number or None,
            due_date=inv.due_date,
            file_ref=inv.file_ref,
            issued_by=inv.issued_by,
            issued_at=inv.issued_at,
            version=inv.version,
            fully_paid_count=inv.fully_paid_count,
            updated_at=now,
        )
    )


async def number_taken(conn: AsyncConnection, number: str, invoice_id: int) -> bool:
    found = await conn.scalar(
        sa.select(invoices.c.id).where(invoices.c.number == number, invoices.c.id != invoice_id)
    )
    return found is not None


async def list_invoices(
    conn: AsyncConnection,
    *,
    scope: Scope | None,
    deal_id: int | None,
    status: str,
    counterparty: str,
    before_id: int | None,
    limit: int,
) -> list[Invoice]:
    query = sa.select(invoices).where(visible(invoices.c.owner_id, scope))
    if deal_id is not None:
        query = query.where(invoices.c.deal_id == deal_id)
    if status:
        query = query.where(invoices.c.status == status)
    if counterparty:
        query = query.where(invoices.c.counterparty.ilike(f"%{_like(counterparty)}%"))
    if before_id is not None:
        query = query.where(invoices.c.id < before_id)
    rows = (await conn.execute(query.order_by(invoices.c.id.desc()).limit(limit))).all()
    lines = await _lines(conn, [r.id for r in rows])
    return [_invoice(r, lines[r.id]) for r in rows]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _payment(row: sa.Row[Any]) -> Payment:
    values = dict(row._mapping)
    values.pop("idempotency_key", None)
    values["kind"] = PaymentKind(values["kind"])
    return Payment(**values)


async def insert_payment(conn: AsyncConnection, values: dict[str, Any]) -> Payment:
    row = (await conn.execute(payments.insert().values(**values).returning(payments))).one()
    return _payment(row)


async def payment_by_key(conn: AsyncConnection, key: str) -> Payment | None:
    row = (await conn.execute(sa.select(payments).where(payments.c.idempotency_key == key))).first()
    return None if row is None else _payment(row)


async def list_payments(
    conn: AsyncConnection,
    where: PaymentFilter,
    *,
    scope: Scope | None,
    before_id: int | None,
    limit: int,
) -> list[Payment]:
    p = payments.c
    query = sa.select(payments).where(visible(p.owner_id, scope))
    if where.counterparty:
        query = query.where(p.counterparty.ilike(f"%{_like(where.counterparty)}%"))
    if where.direction:
        query = query.where(p.direction == where.direction)
    if where.date_from:
        query = query.where(p.paid_on >= where.date_from)
    if where.date_to:
        query = query.where(p.paid_on <= where.date_to)
    if where.deal_id is not None:
        query = query.where(p.deal_id == where.deal_id)
    if where.invoice_id is not None:
        query = query.where(p.invoice_id == where.invoice_id)
    if where.status:
        query = query.where(
            sa.or_(
                p.invoice_id.in_(sa.select(invoices.c.id).where(invoices.c.status == where.status)),
                p.spend_id.in_(sa.select(spends.c.id).where(spends.c.status == where.status)),
            )
        )
    if before_id is not None:
        query = query.where(p.id < before_id)
    rows = await conn.execute(query.order_by(p.id.desc()).limit(limit))
    return [_payment(r) for r in rows]
