"""Admin-editable lists (e.g. shipping direction -> operator) and their rows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.common.protoconv import from_struct
from services.gateway.schemas.common import Input


class ColumnIn(Input):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: str = Field("string", description="string | number | user | bool")


class ListIn(Input):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    columns: list[ColumnIn] = Field(min_length=1)


class ListItemIn(Input):
    values: dict[str, Any]


class ColumnOut(BaseModel):
    code: str
    name: str
    type: str


class ListOut(BaseModel):
    code: str
    name: str
    columns: list[ColumnOut]

    @classmethod
    def of(cls, msg: Any) -> ListOut:
        return cls(
            code=msg.code,
            name=msg.name,
            columns=[ColumnOut(code=c.code, name=c.name, type=c.type) for c in msg.columns],
        )


class ListItemOut(BaseModel):
    id: int
    list_code: str
    values: dict[str, Any]

    @classmethod
    def of(cls, msg: Any) -> ListItemOut:
        return cls(id=int(msg.id), list_code=msg.list_code, values=from_struct(msg.values))
