"""The product catalogue (everyone reads, admins change) and a deal's line items."""

from __future__ import annotations

from typing import Annotated

from dealflow.deals.v1 import products_pb2 as pb
from fastapi import APIRouter, Query

from services.gateway.deps import AdminUser, CurrentUser, Products
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.products import (
    DealItemsIn,
    DealItemsOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    decimal_text,
)

router = APIRouter(prefix=API_PREFIX, tags=["products"], responses=COMMON_RESPONSES)


def _values(body: ProductPatch) -> pb.ProductValues:
    return pb.ProductValues(**body.values())


@router.post("/products", status_code=201, responses=responses(403, 409))
async def create_product(body: ProductIn, _: AdminUser, products: Products) -> ProductOut:
    created = await products.CreateProduct(
        pb.CreateProductRequest(values=_values(body), characteristics=body.characteristics or {})
    )
    return ProductOut.of(created)


@router.get("/products")
async def list_products(
    _: CurrentUser,
    products: Products,
    q: Annotated[str, Query(max_length=200)] = "",
    type: Annotated[str, Query(max_length=63)] = "",
    active: bool | None = None,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ProductOut]:
    reply = await products.ListProducts(
        pb.ListProductsRequest(q=q, type=type, active=active, cursor=cursor, limit=limit)
    )
    return Page(
        items=[ProductOut.of(p) for p in reply.products],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.get("/products/{product_id}", responses=responses(404))
async def get_product(product_id: RecordId, _: CurrentUser, products: Products) -> ProductOut:
    return ProductOut.of(await products.GetProduct(pb.GetProductRequest(id=str(product_id))))


@router.patch("/products/{product_id}", responses=responses(403, 404, 409))
async def update_product(
    product_id: RecordId, body: ProductPatch, _: AdminUser, products: Products
) -> ProductOut:
    updated = await products.UpdateProduct(
        pb.UpdateProductRequest(
            id=str(product_id),
            values=_values(body),
            set_characteristics=body.characteristics is not None,
            characteristics=body.characteristics or {},
        )
    )
    return ProductOut.of(updated)


@router.get("/deals/{deal_id}/items", responses=responses(404))
async def deal_items(deal_id: RecordId, _: CurrentUser, products: Products) -> DealItemsOut:
    """The deal's line items and totals."""
    found = await products.GetDealItems(pb.GetDealItemsRequest(deal_id=str(deal_id)))
    return DealItemsOut.of(found)


@router.put("/deals/{deal_id}/items", responses=responses(403, 404))
async def put_deal_items(
    deal_id: RecordId, body: DealItemsIn, _: CurrentUser, products: Products
) -> DealItemsOut:
    """Replace the deal's line items; the totals and the deal's amount follow at once. A bad
    row answers 422 naming it (`items[2].discount`) and nothing is stored."""
    rows = [
        pb.DealItemInput(
            product_id=str(x.product_id),
            quantity=decimal_text(x.quantity),
            price=decimal_text(x.price),
            currency=x.currency or "",
            discount=decimal_text(x.discount),
            discount_type=x.discount_type or "",
            vat_rate=decimal_text(x.vat_rate),
        )
        for x in body.items
    ]
    found = await products.PutDealItems(pb.PutDealItemsRequest(deal_id=str(deal_id), items=rows))
    return DealItemsOut.of(found)
