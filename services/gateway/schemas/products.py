"""The product catalogue and a deal's line items. Money, quantities and rates are decimal
strings (a number is taken too, and read as the decimal it prints as)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.gateway.schemas.common import Amount, Input, timestamp

Decimalish = str | int | float


def decimal_text(value: Decimalish | None) -> str:
    """What the service reads ("" when not given): a float as the decimal it prints as."""
    if value is None or isinstance(value, bool):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


class ProductPatch(Input):
    code: str | None = Field(None, max_length=64, examples=["PEN-BLUE"])
    name: str | None = Field(None, max_length=300)
    type: str | None = Field(None, max_length=63, description="a lower-case code: `tshirt`")
    unit: str | None = Field(None, max_length=20, examples=["pcs"])
    price: Amount | None = None
    currency: str | None = Field(None, max_length=3, examples=["RUB"])
    vat_rate: Amount | None = Field(None, description="percent: 0, 10, 20")
    characteristics: dict[str, str] | None = Field(
        None,
        description="admin list code → one of its values (for the product's type): "
        '`{"materials": "cotton", "sizes": "XL"}`; replaces the old ones',
    )
    active: bool | None = None

    def values(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self.model_dump(exclude_unset=True).items()
            if k != "characteristics" and v is not None
        }


class ProductIn(ProductPatch):
    code: str = Field(min_length=1, max_length=64, examples=["PEN-BLUE"])
    name: str = Field(min_length=1, max_length=300)
    type: str = Field(min_length=1, max_length=63)
    price: Amount


class ProductOut(BaseModel):
    id: int
    code: str
    name: str
    type: str
    unit: str
    price: str
    currency: str
    vat_rate: str
    characteristics: dict[str, str]
    active: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> ProductOut:
        return cls(
            id=int(msg.id),
            code=msg.code,
            name=msg.name,
            type=msg.type,
            unit=msg.unit,
            price=msg.price,
            currency=msg.currency,
            vat_rate=msg.vat_rate,
            characteristics=dict(msg.characteristics),
            active=msg.active,
            created_at=timestamp(msg, "created_at"),
            updated_at=timestamp(msg, "updated_at"),
        )


class DealItemIn(Input):
    product_id: int | str = Field(description="the product's id")
    quantity: Decimalish = Field(examples=["10"])
    price: Decimalish | None = Field(None, description="default: the product's price")
    currency: str | None = Field(None, description="must be the deal's (the default)")
    discount: Decimalish | None = Field(None, description="an amount, or a percent")
    discount_type: str | None = Field(None, description="amount (default) | percent")
    vat_rate: Decimalish | None = Field(None, description="percent; default: the product's")


class DealItemsIn(Input):
    items: list[DealItemIn] = Field(max_length=500)


class DealItemOut(BaseModel):
    position: int
    product_id: int
    product_code: str
    product_name: str
    unit: str
    quantity: str
    price: str
    currency: str
    discount: str
    discount_type: str
    discount_amount: str
    vat_rate: str
    net: str = Field(description="quantity × price − discount, rounded to the kopeck")
    vat: str
    total: str = Field(description="net + VAT")


class DealTotalsOut(BaseModel):
    currency: str
    gross: str
    discount: str
    net: str
    vat: str
    total: str


class DealItemsOut(BaseModel):
    deal_id: int
    items: list[DealItemOut]
    totals: DealTotalsOut

    @classmethod
    def of(cls, msg: Any) -> DealItemsOut:
        t = msg.totals
        return cls(
            deal_id=int(msg.deal_id),
            items=[
                DealItemOut(
                    position=x.position,
                    product_id=int(x.product_id),
                    product_code=x.product_code,
                    product_name=x.product_name,
                    unit=x.unit,
                    quantity=x.quantity,
                    price=x.price,
                    currency=x.currency,
                    discount=x.discount,
                    discount_type=x.discount_type,
                    discount_amount=x.discount_amount,
                    vat_rate=x.vat_rate,
                    net=x.net,
                    vat=x.vat,
                    total=x.total,
                )
                for x in msg.items
            ],
            totals=DealTotalsOut(
                currency=t.currency,
                gross=t.gross,
                discount=t.discount,
                net=t.net,
                vat=t.vat,
                total=t.total,
            ),
        )
