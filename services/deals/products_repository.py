"""Products and deal line items: rows <-> domain objects (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.domain.line_items import DiscountType, LineItem, ProductTerms
from services.deals.domain.products import Product
from services.deals.products_tables import deal_items, products

_ITEM_COLUMNS = [c.name for c in deal_items.c if c.name != "deal_id"]


def _values(product: Product) -> dict[str, Any]:
    return {
        "code": product.code,
        "name": product.name,
        "type": product.type,
        "unit": product.unit,
        "price": product.price,
        "currency": product.currency,
        "vat_rate": product.vat_rate,
        "characteristics": product.characteristics,
        "active": product.active,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


async def insert_product(conn: AsyncConnection, product: Product) -> int | None:
    """The new product's id; None when its code is taken."""
    query = (
        insert(products)
        .values(**_values(product))
        .on_conflict_do_nothing(index_elements=[products.c.code])
        .returning(products.c.id)
    )
    found = (await conn.execute(query)).scalar()
    return None if found is None else int(found)


async def save_product(conn: AsyncConnection, product: Product) -> bool:
    """False when another product has its code."""
    taken = sa.select(products.c.id).where(
        products.c.code == product.code, products.c.id != product.id
    )
    if (await conn.execute(taken)).first() is not None:
        return False
    values = _values(product)
    del values["created_at"]
    await conn.execute(products.update().where(products.c.id == product.id).values(**values))
    return True


async def get_product(
    conn: AsyncConnection, product_id: int, *, for_update: bool = False
) -> Product | None:
    query = sa.select(products).where(products.c.id == product_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _product(row) if row else None


async def list_products(
    conn: AsyncConnection,
    *,
    q: str,
    type_: str,
    active: bool | None,
    before_id: int | None,
    limit: int,
) -> list[Product]:
    query = sa.select(products).order_by(products.c.id.desc()).limit(limit)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(products.c.code.ilike(pattern), products.c.name.ilike(pattern)))
    if type_:
        query = query.where(products.c.type == type_)
    if active is not None:
        query = query.where(products.c.active.is_(active))
    if before_id is not None:
        query = query.where(products.c.id < before_id)
    return [_product(r) for r in (await conn.execute(query)).all()]


async def terms_of(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, ProductTerms]:
    """What lines take from these products, by id (missing ones are absent)."""
    if not ids:
        return {}
    query = sa.select(products).where(products.c.id.in_(sorted(set(ids))))
    return {
        r.id: ProductTerms(r.id, r.code, r.name, r.unit, r.price, r.currency, r.vat_rate, r.active)
        for r in (await conn.execute(query)).all()
    }


async def items_of(conn: AsyncConnection, deal_id: int) -> list[LineItem]:
    query = sa.select(deal_items).where(deal_items.c.deal_id == deal_id)
    rows = (await conn.execute(query.order_by(deal_items.c.position))).all()
    return [
        LineItem(
            **{c: getattr(r, c) for c in _ITEM_COLUMNS}
            | {"discount_type": DiscountType(r.discount_type)}
        )
        for r in rows
    ]


async def has_items(conn: AsyncConnection, deal_id: int) -> bool:
    query = sa.select(deal_items.c.position).where(deal_items.c.deal_id == deal_id).limit(1)
    return (await conn.execute(query)).first() is not None


async def replace_items(conn: AsyncConnection, deal_id: int, lines: Sequence[LineItem]) -> None:
    await conn.execute(deal_items.delete().where(deal_items.c.deal_id == deal_id))
    if lines:
        rows = [
            {"deal_id": deal_id, **{c: getattr(x, c) for c in _ITEM_COLUMNS}}
            | {"discount_type": x.discount_type.value}
            for x in lines
        ]
        await conn.execute(deal_items.insert(), rows)


def _product(row: sa.Row[Any]) -> Product:
    return Product(
        id=row.id,
        code=row.code,
        name=row.name,
        type=row.type,
        unit=row.unit,
        price=row.price,
        currency=row.currency,
        vat_rate=row.vat_rate,
        characteristics=dict(row.characteristics),
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
