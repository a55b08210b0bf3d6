"""gRPC servicer of ProductsService (served by the deals process): proto <-> domain."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import products_pb2 as pb
from dealflow.deals.v1 import products_pb2_grpc as pb_grpc

from services.common.grpc_server import actor_id
from services.common.ids import parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import to_timestamp
from services.deals.domain.line_items import LineItem, Totals
from services.deals.domain.products import Product
from services.deals.products_service import DealItems, ProductsService
from services.deals.service import DealsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
_VALUES = ("code", "name", "type", "unit", "price", "currency", "vat_rate", "active")


def product_pb(p: Product) -> pb.Product:
    return pb.Product(
        id=str(p.id),
        code=p.code,
        name=p.name,
        type=p.type,
        unit=p.unit,
        price=format(p.price, "f"),
        currency=p.currency,
        vat_rate=format(p.vat_rate, "f"),
        characteristics=p.characteristics,
        active=p.active,
        created_at=to_timestamp(p.created_at),
        updated_at=to_timestamp(p.updated_at),
    )


def _values(msg: pb.ProductValues) -> dict[str, Any]:
    return {name: getattr(msg, name) for name in _VALUES if msg.HasField(name)}


def _item_pb(x: LineItem) -> pb.DealItem:
    return pb.DealItem(
        position=x.position,
        product_id=str(x.product_id),
        product_code=x.product_code,
        product_name=x.product_name,
        unit=x.unit,
        quantity=format(x.quantity, "f"),
        price=format(x.price, "f"),
        currency=x.currency,
        discount=format(x.discount, "f"),
        discount_type=x.discount_type.value,
        discount_amount=format(x.discount_amount, "f"),
        vat_rate=format(x.vat_rate, "f"),
        net=format(x.net, "f"),
        vat=format(x.vat, "f"),
        total=format(x.total, "f"),
    )


def _totals_pb(t: Totals) -> pb.DealTotals:
    return pb.DealTotals(
        currency=t.currency,
        gross=format(t.gross, "f"),
        discount=format(t.discount, "f"),
        net=format(t.net, "f"),
        vat=format(t.vat, "f"),
        total=format(t.total, "f"),
    )


def deal_items_pb(found: DealItems) -> pb.DealItems:
    return pb.DealItems(
        deal_id=str(found.deal_id),
        items=[_item_pb(x) for x in found.items],
        totals=_totals_pb(found.totals),
    )


def _row(msg: pb.DealItemInput) -> dict[str, Any]:
    return {
        "product_id": msg.product_id,
        "quantity": msg.quantity,
        "price": msg.price,
        "currency": msg.currency,
        "discount": msg.discount,
        "discount_type": msg.discount_type,
        "vat_rate": msg.vat_rate,
    }


class ProductsApi(pb_grpc.ProductsServiceServicer):  # type: ignore[misc]
    def __init__(self, service: ProductsService) -> None:
        self._service = service

    async def CreateProduct(self, request: pb.CreateProductRequest, context: Ctx) -> pb.Product:
        created = await self._service.create_product(
            actor_id=actor_id(context),
            values=_values(request.values),
            characteristics=dict(request.characteristics),
        )
        return product_pb(created)

    async def UpdateProduct(self, request: pb.UpdateProductRequest, context: Ctx) -> pb.Product:
        updated = await self._service.update_product(
            actor_id=actor_id(context),
            product_id=parse_id(request.id, "id"),
            values=_values(request.values),
            characteristics=(
                dict(request.characteristics) if request.set_characteristics else None
            ),
        )
        return product_pb(updated)

    async def GetProduct(self, request: pb.GetProductRequest, context: Ctx) -> pb.Product:
        return product_pb(await self._service.get_product(product_id=parse_id(request.id, "id")))

    async def ListProducts(
        self, request: pb.ListProductsRequest, context: Ctx
    ) -> pb.ListProductsResponse:
        page = await self._service.list_products(
            q=request.q,
            type_=request.type,
            active=request.active if request.HasField("active") else None,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListProductsResponse(
            products=[product_pb(p) for p in page.items], next_cursor=page.next_cursor
        )

    async def GetDealItems(self, request: pb.GetDealItemsRequest, context: Ctx) -> pb.DealItems:
        found = await self._service.deal_items(
            actor_id=actor_id(context), deal_id=parse_id(request.deal_id, "deal_id")
        )
        return deal_items_pb(found)

    async def PutDealItems(self, request: pb.PutDealItemsRequest, context: Ctx) -> pb.DealItems:
        found = await self._service.put_deal_items(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            rows=[_row(x) for x in request.items],
        )
        return deal_items_pb(found)


def register_products(server: grpc.aio.Server, deals: DealsService) -> str:
    """Add ProductsService next to DealsService; its full name (for health and reflection)."""
    pb_grpc.add_ProductsServiceServicer_to_server(ProductsApi(ProductsService(deals)), server)
    return str(pb.DESCRIPTOR.services_by_name["ProductsService"].full_name)
