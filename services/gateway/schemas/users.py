"""Users and tokens."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.gateway.schemas.common import Input, RecordId, id_or_none


class UserIn(Input):
    email: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(min_length=1)
    password: str = Field(min_length=1)
    roles: list[str] = []
    department_id: RecordId | None = None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    roles: list[str]
    department_id: int | None
    active: bool

    @classmethod
    def of(cls, msg: Any) -> UserOut:
        return cls(
            id=int(msg.id),
            email=msg.email,
            name=msg.name,
            roles=list(msg.roles),
            department_id=id_or_none(msg.department_id),
            active=msg.active,
        )


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
