"""The contract registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.gateway.schemas.common import Amount, Input, IsoDate, RecordId, id_or_none, timestamp


class ContractTypeIn(Input):
    name: str = Field(min_length=1, max_length=300)
    template_code: str = Field("", description="the approval chain its contracts go through")


class ContractTypeOut(BaseModel):
    code: str
    name: str
    template_code: str


class ContractIn(Input):
    deal_id: RecordId
    type_code: str = Field(min_length=1)
    counterparty_kind: Literal["client", "supplier"]
    counterparty_name: str = Field(min_length=1, max_length=500)
    title: str = ""
    number: str = ""
    amount: Amount | None = None
    currency: str = ""
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    manager_id: RecordId | None = None


class ContractPatch(Input):
    title: str | None = None
    number: str | None = None
    amount: Amount | None = None
    currency: str | None = None
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    counterparty_name: str | None = None


class ContractStatusIn(Input):
    status: Literal["sent", "signed"]


class ContractDocumentIn(Input):
    file_id: RecordId
    kind: Literal["draft", "signed_scan"] = "draft"


class ContractDocumentOut(BaseModel):
    id: int
    version: int
    file_id: int
    kind: str
    uploaded_by: int | None
    created_at: datetime | None


class ContractOut(BaseModel):
    id: int
    deal_id: int
    type_code: str
    counterparty_kind: str
    counterparty_name: str
    title: str
    number: str
    amount: str | None
    currency: str
    starts_on: date | None
    ends_on: date | None
    status: str
    manager_id: int | None
    approval_id: int | None
    documents: list[ContractDocumentOut]
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> ContractOut:
        return cls(
            id=int(msg.id),
            deal_id=int(msg.deal_id),
            type_code=msg.type_code,
            counterparty_kind=msg.counterparty_kind,
            counterparty_name=msg.counterparty_name,
            title=msg.title,
            number=msg.number,
            amount=msg.amount or None,
            currency=msg.currency,
            starts_on=date.fromisoformat(msg.starts_on) if msg.starts_on else None,
            ends_on=date.fromisoformat(msg.ends_on) if msg.ends_on else None,
            status=msg.status,
            manager_id=id_or_none(msg.manager_id),
            approval_id=id_or_none(msg.request_id),
            documents=[
                ContractDocumentOut(
                    id=int(d.id),
                    version=d.version,
                    file_id=int(d.file_id),
                    kind=d.kind,
                    uploaded_by=id_or_none(d.uploaded_by),
                    created_at=timestamp(d, "created_at"),
                )
                for d in msg.documents
            ],
            created_at=timestamp(msg, "created_at"),
            updated_at=timestamp(msg, "updated_at"),
        )
