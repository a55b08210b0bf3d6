"""Users, departments, roles, tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from services.common.protoconv import from_struct
from services.gateway.schemas.common import Input, RecordId, id_or_none, timestamp

Level = Literal["none", "own", "department", "all"]
Scope = Literal["read", "write", "leads"]


def _read_only() -> list[Scope]:
    return ["read"]


class UserIn(Input):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(min_length=1, max_length=300)
    password: str = Field(min_length=1, max_length=1024)
    roles: list[str] = Field(default_factory=list, max_length=50)
    department_id: RecordId | None = None


class UserPatch(Input):
    """Only the fields present change; `null` clears department or substitute."""

    # None only stands for "not given": these have no empty value to set.
    name: Annotated[str, Field(min_length=1, max_length=300)] | SkipJsonSchema[None] = None
    roles: Annotated[list[str], Field(min_length=1, max_length=50)] | SkipJsonSchema[None] = None
    department_id: RecordId | None = None
    active: bool | SkipJsonSchema[None] = None
    absent: bool | SkipJsonSchema[None] = None
    substitute_id: RecordId | None = None
    password: Annotated[str, Field(min_length=1, max_length=1024)] | SkipJsonSchema[None] = None

    @field_validator("name", "roles", "active", "absent", "password")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null (leave it out to keep it)")
        return value


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    roles: list[str]
    department_id: int | None
    active: bool
    absent: bool = False
    substitute_id: int | None = None

    @classmethod
    def of(cls, msg: Any) -> UserOut:
        return cls(
            id=int(msg.id),
            email=msg.email,
            name=msg.name,
            roles=list(msg.roles),
            department_id=id_or_none(msg.department_id),
            active=msg.active,
            absent=msg.absent,
            substitute_id=id_or_none(msg.substitute_id),
        )


class MeOut(UserOut):
    permissions: list[str]


class DepartmentIn(Input):
    name: str = Field(min_length=1, max_length=300)
    parent_id: RecordId | None = None
    head_id: RecordId | None = None


class DepartmentPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=300)
    parent_id: RecordId | None = None
    head_id: RecordId | None = None


class DepartmentOut(BaseModel):
    id: int
    name: str
    parent_id: int | None
    head_id: int | None

    @classmethod
    def of(cls, msg: Any) -> DepartmentOut:
        return cls(
            id=int(msg.id),
            name=msg.name,
            parent_id=id_or_none(msg.parent_id),
            head_id=id_or_none(msg.head_id),
        )


class PipelineAccessIn(Input):
    pipeline_id: RecordId
    visibility: Level
    move_to_stage_ids: list[RecordId] = Field(default_factory=list, max_length=500)


class RoleIn(Input):
    name: str = Field("", max_length=300)
    visibility: Level
    permissions: list[str] = Field(default_factory=list, max_length=100)
    pipelines: list[PipelineAccessIn] = Field(default_factory=list, max_length=500)


class RoleOut(BaseModel):
    code: str
    name: str
    visibility: str
    permissions: list[str]
    pipelines: list[dict[str, Any]]

    @classmethod
    def of(cls, msg: Any) -> RoleOut:
        return cls(
            code=msg.code,
            name=msg.name,
            visibility=msg.visibility,
            permissions=list(msg.permissions),
            pipelines=[
                {
                    "pipeline_id": int(p.pipeline_id),
                    "visibility": p.visibility,
                    "move_to_stage_ids": [int(s) for s in p.move_to_stage_ids],
                }
                for p in msg.pipelines
            ],
        )


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


class RefreshIn(Input):
    refresh_token: str = Field(min_length=1, max_length=200)


class ApiTokenIn(Input):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(default_factory=_read_only, max_length=3)
    days: int = Field(0, ge=0, le=3650, description="0: never expires")
    user_id: RecordId | None = Field(None, description="an admin may issue for another user")


class ApiTokenOut(BaseModel):
    id: int
    user_id: int
    name: str
    scopes: list[str]
    token: str | None = Field(None, description="the secret; shown only once, on creation")
    created_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> ApiTokenOut:
        return cls(
            id=int(msg.id),
            user_id=int(msg.user_id),
            name=msg.name,
            scopes=list(msg.scopes),
            token=msg.token or None,
            created_at=timestamp(msg, "created_at"),
            expires_at=timestamp(msg, "expires_at"),
            revoked_at=timestamp(msg, "revoked_at"),
            last_used_at=timestamp(msg, "last_used_at"),
        )


class AuditEntryOut(BaseModel):
    id: int
    at: datetime | None
    actor_id: int | None
    action: str
    subject_type: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source: str
    client_address: str

    @classmethod
    def of(cls, msg: Any) -> AuditEntryOut:
        return cls(
            id=int(msg.id),
            at=timestamp(msg, "at"),
            actor_id=id_or_none(msg.actor_id),
            action=msg.action,
            subject_type=msg.subject_type,
            subject_id=msg.subject_id,
            before=from_struct(msg.before) if msg.HasField("before") else None,
            after=from_struct(msg.after) if msg.HasField("after") else None,
            source=msg.source,
            client_address=msg.client_address,
        )
