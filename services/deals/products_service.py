"""Use cases of the product catalogue and of deals' line items. Putting a deal's lines
recomputes its totals and its amount in the same transaction, with their events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from services.common.access import Permission
from services.common.db import PendingEvent, UnitOfWork
from services.common.errors import AlreadyExists, FieldProblem, NotFound
from services.common.pagination import Page, decode_cursor
from services.deals import org_repository, repository
from services.deals import products_repository as repo
from services.deals.domain.line_items import LineItem, Totals, priced_lines, totals_of
from services.deals.domain.products import (
    CharacteristicList,
    Product,
    check_characteristics,
    clean_product,
)
from services.deals.events import summary
from services.deals.pipeline_service import pipeline_of
from services.deals.service import DealsService, record_deal
from services.deals.tables import outbox

PRODUCT_CREATED = "deals.product.created"
PRODUCT_UPDATED = "deals.product.updated"
ITEMS_CHANGED = "deals.deal.items_changed"
_ADMIN = "only an administrator may change the product catalogue"
_ALL_ROWS = 10_000  # an admin list holds tens of values, not thousands


@dataclass(frozen=True)
class DealItems:
    deal_id: int
    items: list[LineItem]
    totals: Totals


class ProductsService:
    def __init__(self, deals: DealsService) -> None:
        self._deals = deals
        self._now = deals.clock

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._deals.engine, outbox)

    # ---- the catalogue ----
    async def create_product(
        self, *, actor_id: int | None, values: dict[str, Any], characteristics: dict[str, Any]
    ) -> Product:
        """A product of the catalogue; its code is unique."""
        clean = clean_product(values, creating=True)
        now = self._now()
        async with self._uow() as uow:
            await self._require_admin(uow, actor_id)
            product = Product(
                id=0,
                code=clean["code"],
                name=clean["name"],
                type=clean["type"],
                unit=clean.get("unit", "pcs"),
                price=clean["price"],
                currency=clean.get("currency", "RUB"),
                vat_rate=clean.get("vat_rate", Decimal(0)),
                active=clean.get("active", True),
                created_at=now,
                updated_at=now,
            )
            product.characteristics = await self._characteristics(
                uow, characteristics, product.type
            )
            found = await repo.insert_product(uow.conn, product)
            if found is None:
                raise _code_taken(product.code)
            product.id = found
            uow.emit(_product_event(PRODUCT_CREATED, product, actor_id, {}))
            return product

    async def update_product(
        self,
        *,
        actor_id: int | None,
        product_id: int,
        values: dict[str, Any],
        characteristics: dict[str, Any] | None,
    ) -> Product:
        """Change the attributes named; `characteristics`, when given, replace the old."""
        clean = clean_product(values, creating=False)
        async with self._uow() as uow:
            await self._require_admin(uow, actor_id)
            current = await repo.get_product(uow.conn, product_id, for_update=True)
            if current is None:
                raise NotFound(f"product {product_id} not found")
            product = replace(current, **clean, updated_at=self._now())
            if characteristics is not None or product.type != current.type:
                given = current.characteristics if characteristics is None else characteristics
                product.characteristics = await self._characteristics(uow, given, product.type)
            before, after = current.attributes(), product.attributes()
            changed = sorted(k for k in after if after[k] != before[k])
            if not changed:
                return current
            if not await repo.save_product(uow.conn, product):
                raise _code_taken(product.code)
            uow.emit(
                _product_event(
                    PRODUCT_UPDATED,
                    product,
                    actor_id,
                    {
                        "before": {k: before[k] for k in changed},
                        "after": {k: after[k] for k in changed},
                    },
                )
            )
            return product

    async def get_product(self, *, product_id: int) -> Product:
        async with self._deals.engine.connect() as conn:
            found = await repo.get_product(conn, product_id)
        if found is None:
            raise NotFound(f"product {product_id} not found")
        return found

    async def list_products(
        self, *, q: str, type_: str, active: bool | None, cursor: str, limit: int
    ) -> Page[Product]:
        """The catalogue, newest first, by code or name (`q`), type and whether active."""
        before = decode_cursor(cursor) if cursor else None
        async with self._deals.engine.connect() as conn:
            rows = await repo.list_products(
                conn, q=q.strip(), type_=type_, active=active, before_id=before, limit=limit + 1
            )
        return Page.of(rows, limit, key=lambda p: p.id)

    # ---- a deal's line items ----
    async def deal_items(self, *, actor_id: int | None, deal_id: int) -> DealItems:
        """The deal's lines and totals (whoever sees the deal)."""
        async with self._deals.engine.connect() as conn:
            deal = await self._deals._visible_deal(conn, actor_id, deal_id)
            items = await repo.items_of(conn, deal_id)
        return DealItems(deal_id, items, totals_of(items, deal.currency))

    async def put_deal_items(
        self, *, actor_id: int | None, deal_id: int, rows: list[dict[str, Any]]
    ) -> DealItems:
        """Replace the deal's lines; the totals, and the deal's amount when it has lines,
        follow in the same transaction. A bad row changes nothing."""
        now = self._now()
        async with self._uow() as uow:
            deal = await self._deals._visible_deal(uow.conn, actor_id, deal_id, for_update=True)
            guard = await self._deals._guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_EDIT, "your role may not change deals")
            ids = [int(p) for r in rows if (p := str(r.get("product_id") or "")).isdigit()]
            products = await repo.terms_of(uow.conn, ids)
            lines = priced_lines(rows, products, deal_currency=deal.currency)
            before = await repo.items_of(uow.conn, deal_id)
            totals = totals_of(lines, deal.currency)
            if lines == before:
                return DealItems(deal_id, lines, totals)
            await repo.replace_items(uow.conn, deal_id, lines)
            if lines and deal.amount != totals.total:
                pipeline = await pipeline_of(uow.conn, deal.pipeline_id)
                deal.update(
                    pipeline,
                    changes={"amount": format(totals.total, "f")},
                    field_changes={},
                    expected_version=0,
                    actor_id=actor_id,
                    now=now,
                )
                await repository.save_deal(uow.conn, deal)
                await record_deal(uow, deal, now)
            uow.emit(
                PendingEvent(
                    ITEMS_CHANGED,
                    f"deal/{deal.id}",
                    {"deal": summary(deal), "items": len(lines), "totals": _totals(totals)},
                    actor="" if actor_id is None else str(actor_id),
                )
            )
            return DealItems(deal_id, lines, totals)

    # ---- helpers ----
    async def _require_admin(self, uow: UnitOfWork, actor_id: int | None) -> None:
        guard = await self._deals._guard(uow.conn, actor_id)
        if guard is not None:
            guard.access.require(Permission.ORG_ADMIN, _ADMIN)

    async def _characteristics(
        self, uow: UnitOfWork, given: dict[str, Any], product_type: str
    ) -> dict[str, str]:
        lists: dict[str, CharacteristicList] = {}
        for code in given:
            found = await org_repository.get_list(uow.conn, code)
            if found is not None:
                items = await org_repository.list_items_of(
                    uow.conn, code, before_id=None, limit=_ALL_ROWS
                )
                lists[code] = CharacteristicList(found, items)
        return check_characteristics(given, product_type, lists)


def _code_taken(code: str) -> AlreadyExists:
    return AlreadyExists(f"a product with code {code} exists", [FieldProblem("code", "is taken")])


def _totals(totals: Totals) -> dict[str, str]:
    return {
        "currency": totals.currency,
        "net": format(totals.net, "f"),
        "vat": format(totals.vat, "f"),
        "total": format(totals.total, "f"),
    }


def _product_event(
    kind: str, product: Product, actor_id: int | None, data: dict[str, Any]
) -> PendingEvent:
    body = {"product": {"id": str(product.id), **product.attributes()}, **data}
    return PendingEvent(
        kind, f"product/{product.id}", body, actor="" if actor_id is None else str(actor_id)
    )
