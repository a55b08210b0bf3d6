"""Rows of the contract registry: loading a contract with its documents, the columns a
change sets, and the event a change emits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.approvals.domain.contracts import Contract, ContractDocument
from services.approvals.tables import contract_documents, contracts
from services.common.db import PendingEvent, UnitOfWork
from services.common.errors import FieldProblem, NotFound

EDITABLE = ("number", "amount", "currency", "starts_on", "ends_on", "counterparty_name", "title")


def like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def columns(values: Mapping[str, Any], problems: list[FieldProblem]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in EDITABLE:
            problems.append(FieldProblem(name, "cannot be changed"))
        elif name == "amount":
            try:
                row[name] = Decimal(raw) if raw not in ("", None) else None
            except InvalidOperation:
                problems.append(FieldProblem(name, "must be a decimal number"))
        elif name in ("starts_on", "ends_on"):
            try:
                row[name] = date.fromisoformat(raw) if raw else None
            except (TypeError, ValueError):
                problems.append(FieldProblem(name, "must be a date as YYYY-MM-DD"))
        else:
            row[name] = str(raw or "").strip()
    return row


async def load(conn: AsyncConnection, contract_id: int, *, for_update: bool = False) -> Contract:
    query = sa.select(contracts).where(contracts.c.id == contract_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound("contract not found")
    (contract,) = await _with_documents(conn, [row])
    return contract


async def load_page(conn: AsyncConnection, query: sa.Select[Any]) -> list[Contract]:
    """The contracts a query selects (whole rows), with their documents: two queries."""
    return await _with_documents(conn, list((await conn.execute(query)).all()))


async def _with_documents(conn: AsyncConnection, rows: list[Any]) -> list[Contract]:
    items = {r.id: _contract(r) for r in rows}
    if items:
        docs = await conn.execute(
            sa.select(contract_documents)
            .where(contract_documents.c.contract_id.in_(items))
            .order_by(contract_documents.c.contract_id, contract_documents.c.version)
        )
        for d in docs.all():
            items[d.contract_id].documents.append(
                ContractDocument(d.id, d.version, d.file_id, d.kind, d.uploaded_by, d.created_at)
            )
    return list(items.values())


def _contract(r: Any) -> Contract:
    return Contract(
        id=r.id,
        deal_id=r.deal_id,
        type_code=r.type_code,
        counterparty_kind=r.counterparty_kind,
        counterparty_name=r.counterparty_name,
        title=r.title,
        number=r.number,
        amount=r.amount,
        currency=r.currency,
        starts_on=r.starts_on,
        ends_on=r.ends_on,
        status=r.status,
        manager_id=r.manager_id,
        request_id=r.request_id,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def emit(
    uow: UnitOfWork, contract: Contract, what: str, actor_id: int | None, before: str = ""
) -> None:
    uow.emit(
        PendingEvent(
            type=f"approvals.contract.{what}",
            subject=f"deal/{contract.deal_id}",
            actor=str(actor_id or ""),
            data={
                "contract_id": str(contract.id),
                "deal_id": str(contract.deal_id),
                "status": contract.status,
                "before": {"status": before} if before else {},
                "number": contract.number,
            },
        )
    )
