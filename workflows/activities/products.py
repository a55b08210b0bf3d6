"""Activities over the deals service's product catalogue: a deal's priced line items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dealflow.deals.v1 import products_pb2 as pb
from dealflow.deals.v1 import products_pb2_grpc
from temporalio import activity

from workflows.activities.products_types import DealItemRow, DealItemsInfo, GetDealItemsInput
from workflows.activities.services import _call


class ProductActivities:
    def __init__(self, products: products_pb2_grpc.ProductsServiceStub) -> None:
        self._products = products

    def all(self) -> list[Callable[..., Any]]:
        return [self.get_deal_items]

    @activity.defn(name="get_deal_items")
    async def get_deal_items(self, inp: GetDealItemsInput) -> DealItemsInfo:
        found = await _call(
            self._products.GetDealItems, pb.GetDealItemsRequest(deal_id=inp.deal_id)
        )
        return DealItemsInfo(
            deal_id=found.deal_id,
            currency=found.totals.currency,
            items=[
                DealItemRow(
                    position=x.position,
                    product_id=x.product_id,
                    product_code=x.product_code,
                    product_name=x.product_name,
                    unit=x.unit,
                    quantity=x.quantity,
                    price=x.price,
                    discount_amount=x.discount_amount,
                    vat_rate=x.vat_rate,
                    net=x.net,
                    vat=x.vat,
                    total=x.total,
                    product_path=f"/api/v1/products/{x.product_id}",
                )
                for x in found.items
            ],
            net=found.totals.net,
            vat=found.totals.vat,
            total=found.totals.total,
        )
