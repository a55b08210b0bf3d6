"""The contract registry: contracts created from deals, their statuses and document
versions, listed with filters within what the caller may see (by the contract's manager)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.approvals import contracts_repository as repo
from services.approvals.domain.contracts import (
    Contract,
    ContractFilter,
    ContractStatus,
    CounterpartyKind,
    DocumentKind,
    check_transition,
    parse_status,
    status_after_document,
)
from services.approvals.tables import (
    contract_documents,
    contract_types,
    contracts,
    creations,
    outbox,
)
from services.common.access import Access, Permission
from services.common.creations import Once, first_made, remember
from services.common.db import UnitOfWork, utcnow
from services.common.errors import FieldProblem, PermissionDenied, ValidationFailed
from services.common.pagination import Page, decode_cursor

Resolve = Callable[[int], Awaitable[Access]]
# Raises NotFound unless the actor (None: the system) sees the deal.
CheckDeal = Callable[[int, int | None], Awaitable[None]]
EDITABLE = repo.EDITABLE
_CHAIN_STATUSES = {ContractStatus.IN_APPROVAL, ContractStatus.APPROVED, ContractStatus.REJECTED}


class ContractsService:
    def __init__(self, engine: AsyncEngine, *, access: Resolve, check_deal: CheckDeal) -> None:
        self._engine = engine
        self._access = access
        self._check_deal = check_deal

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def put_type(
        self, *, actor_id: int | None, code: str, name: str, template_code: str
    ) -> dict[str, str]:
        """Create or rename a contract type (and the chain its contracts go through)."""
        if actor_id is not None:
            (await self._access(actor_id)).require(Permission.APPROVAL_TEMPLATES_EDIT)
        if not code.strip() or not name.strip():
            raise ValidationFailed(
                [
                    FieldProblem(f, "is required")
                    for f, v in (("code", code), ("name", name))
                    if not v
                ]
            )
        async with self._uow() as uow:
            stmt = insert(contract_types).values(code=code, name=name, template_code=template_code)
            await uow.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[contract_types.c.code],
                    set_={"name": name, "template_code": template_code},
                )
            )
        return {"code": code, "name": name, "template_code": template_code}

    async def list_types(self) -> list[dict[str, str]]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(contract_types).order_by("code"))).all()
        return [{"code": r.code, "name": r.name, "template_code": r.template_code} for r in rows]

    async def create(
        self,
        *,
        actor_id: int | None,
        deal_id: int,
        values: Mapping[str, Any],
        idempotency_key: str = "",
    ) -> Contract:
        """A draft contract of a deal the actor sees. A retry with the same
        `idempotency_key` returns the contract made first."""
        manager_id = values.get("manager_id") or actor_id
        if actor_id is not None:
            (await self._access(actor_id)).require(Permission.CONTRACTS_CREATE)
        await self._check_deal(deal_id, actor_id)
        problems: list[FieldProblem] = []
        if values.get("counterparty_kind") not in {k.value for k in CounterpartyKind}:
            problems.append(FieldProblem("counterparty_kind", "must be client or supplier"))
        if not str(values.get("counterparty_name") or "").strip():
            problems.append(FieldProblem("counterparty_name", "is required"))
        if manager_id is None:
            problems.append(FieldProblem("manager_id", "is required"))
        row = repo.columns({k: v for k, v in values.items() if k in EDITABLE}, problems)
        now = utcnow()
        async with self._uow() as uow:
            once = Once(actor_id, "contract", idempotency_key)
            if (made := await first_made(uow.conn, creations, once)) is not None:
                return await repo.load(uow.conn, made)
            known = await uow.conn.execute(
                sa.select(contract_types.c.code).where(
                    contract_types.c.code == values.get("type_code", "")
                )
            )
            if known.first() is None:
                problems.append(FieldProblem("type_code", "is not a contract type"))
            if problems:
                raise ValidationFailed(problems)
            contract_id = (
                await uow.conn.execute(
                    contracts.insert()
                    .values(
                        deal_id=deal_id,
                        type_code=values["type_code"],
                        counterparty_kind=values["counterparty_kind"],
                        status=ContractStatus.DRAFT.value,
                        manager_id=manager_id,
                        created_at=now,
                        updated_at=now,
                        **row,
                    )
                    .returning(contracts.c.id)
                )
            ).scalar_one()
            await remember(uow.conn, creations, once, contract_id)
            contract = await repo.load(uow.conn, contract_id)
            repo.emit(uow, contract, "created", actor_id)
            return contract

    async def get(self, *, actor_id: int | None, contract_id: int) -> Contract:
        async with self._engine.connect() as conn:
            contract = await repo.load(conn, contract_id)
        if actor_id is not None:
            (await self._access(actor_id)).require_visible(contract.manager_id, "contract")
        return contract

    async def list(
        self, *, actor_id: int | None, where: ContractFilter, cursor: str, limit: int
    ) -> Page[Contract]:
        """The registry, newest first, filtered, within the caller's visibility."""
        c = contracts.c
        query = sa.select(contracts).order_by(c.id.desc()).limit(limit + 1)
        conditions: list[sa.ColumnElement[bool]] = []
        for column, value in (
            (c.type_code, where.type_code),
            (c.counterparty_kind, where.counterparty_kind),
            (c.status, where.status),
            (c.manager_id, where.manager_id),
            (c.deal_id, where.deal_id),
        ):
            if value not in ("", None):
                conditions.append(column == value)
        if where.counterparty:
            conditions.append(c.counterparty_name.ilike(f"%{repo.like(where.counterparty)}%"))
        if where.created_from is not None:
            conditions.append(c.created_at >= where.created_from)
        if where.created_to is not None:
            conditions.append(c.created_at < where.created_to)
        if cursor:
            conditions.append(c.id < decode_cursor(cursor))
        if actor_id is not None:
            scope = (await self._access(actor_id)).scope
            if not scope.everyone:
                conditions.append(c.manager_id.in_(sorted(scope.user_ids)))
        async with self._engine.connect() as conn:
            items = await repo.load_page(conn, query.where(*conditions))
        return Page.of(items, limit, key=lambda x: x.id)

    async def update(
        self, *, actor_id: int | None, contract_id: int, changes: Mapping[str, Any]
    ) -> Contract:
        """Change the named attributes of a contract that is not signed."""
        problems: list[FieldProblem] = []
        row = repo.columns(changes, problems)
        if problems:
            raise ValidationFailed(problems)
        async with self._uow() as uow:
            contract = await repo.load(uow.conn, contract_id, for_update=True)
            await self._may_edit(actor_id, contract)
            if contract.status == ContractStatus.SIGNED:
                raise ValidationFailed(FieldProblem("status", "a signed contract is final"))
            await uow.conn.execute(
                contracts.update()
                .where(contracts.c.id == contract_id)
                .values(updated_at=utcnow(), **row)
            )
            contract = await repo.load(uow.conn, contract_id)
            repo.emit(uow, contract, "updated", actor_id)
            return contract

    async def set_status(
        self, *, actor_id: int | None, contract_id: int, status: str, request_id: int | None
    ) -> Contract:
        """Move a contract along draft → in approval → approved → sent → signed."""
        target = parse_status(status)
        async with self._uow() as uow:
            contract = await repo.load(uow.conn, contract_id, for_update=True)
            await self._may_edit(actor_id, contract)
            if actor_id is not None and target in _CHAIN_STATUSES:
                raise PermissionDenied(f"only the approval chain makes a contract {target}")
            current = ContractStatus(contract.status)
            if current == target:
                return contract
            check_transition(current, target)
            values: dict[str, Any] = {"status": target.value, "updated_at": utcnow()}
            if request_id is not None:
                values["request_id"] = request_id
            await uow.conn.execute(
                contracts.update().where(contracts.c.id == contract_id).values(**values)
            )
            contract = await repo.load(uow.conn, contract_id)
            repo.emit(uow, contract, "status_changed", actor_id, before=current.value)
            return contract

    async def add_document(
        self, *, actor_id: int | None, contract_id: int, file_id: int, kind: str
    ) -> Contract:
        """A new document version; the scan signed by both sides makes the contract signed."""
        try:
            doc_kind = DocumentKind(kind)
        except ValueError:
            raise ValidationFailed(FieldProblem("kind", "must be draft or signed_scan")) from None
        async with self._uow() as uow:
            contract = await repo.load(uow.conn, contract_id, for_update=True)
            await self._may_edit(actor_id, contract)
            current = ContractStatus(contract.status)
            if doc_kind is DocumentKind.SIGNED_SCAN and any(
                d.file_id == file_id and d.kind == kind for d in contract.documents
            ):
                return contract  # a retried upload of the same scan
            target = status_after_document(current, doc_kind)
            version = max((d.version for d in contract.documents), default=0) + 1
            now = utcnow()
            await uow.conn.execute(
                contract_documents.insert().values(
                    contract_id=contract_id,
                    version=version,
                    file_id=file_id,
                    kind=kind,
                    uploaded_by=actor_id,
                    created_at=now,
                )
            )
            await uow.conn.execute(
                contracts.update()
                .where(contracts.c.id == contract_id)
                .values(status=target.value, updated_at=now)
            )
            contract = await repo.load(uow.conn, contract_id)
            event = "status_changed" if target != current else "document_added"
            repo.emit(uow, contract, event, actor_id, before=current.value)
            return contract

    async def _may_edit(self, actor_id: int | None, contract: Contract) -> None:
        if actor_id is None:
            return
        access = await self._access(actor_id)
        access.require_visible(contract.manager_id, "contract")
        if actor_id != contract.manager_id:
            access.require(Permission.CONTRACTS_EDIT)
