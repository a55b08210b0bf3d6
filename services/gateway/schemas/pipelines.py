"""Pipelines, their stages and custom field definitions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.gateway.schemas.common import Input, RecordId, id_or_none, ids, str_or_none


class StageIn(Input):
    name: str = Field(min_length=1)
    semantic: str = Field(
        "in_progress", description="in_progress | won | lost (| spam in a lead funnel)"
    )


class StageAdd(StageIn):
    position: int | None = Field(None, ge=0, lt=2**31, description="0-based; omitted: at the end")


class PipelineIn(Input):
    name: str = Field(min_length=1)
    kind: Literal["deal", "lead"] = Field("deal", description="lead: a lead funnel")
    stages: list[StageIn] = Field(min_length=1)


class FieldIn(Input):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: str = Field(
        description="string | text | number | money | date | datetime | bool | enum | "
        "user | file | list_item"
    )
    required_on_stages: list[RecordId] = []
    options: list[str] = []
    list_code: str | None = None


class StageOut(BaseModel):
    id: int
    name: str
    semantic: str
    position: int

    @classmethod
    def of(cls, msg: Any) -> StageOut:
        return cls(id=int(msg.id), name=msg.name, semantic=msg.semantic, position=msg.position)


class FieldOut(BaseModel):
    id: int
    pipeline_id: int | None
    code: str
    name: str
    type: str
    required_on_stages: list[int]
    options: list[str]
    list_code: str | None

    @classmethod
    def of(cls, msg: Any) -> FieldOut:
        return cls(
            id=int(msg.id),
            pipeline_id=id_or_none(msg.pipeline_id),
            code=msg.code,
            name=msg.name,
            type=msg.type,
            required_on_stages=ids(msg.required_on_stages),
            options=list(msg.options),
            list_code=str_or_none(msg.list_code),
        )


class PipelineOut(BaseModel):
    id: int
    name: str
    kind: str
    stages: list[StageOut]
    fields: list[FieldOut]

    @classmethod
    def of(cls, msg: Any) -> PipelineOut:
        return cls(
            id=int(msg.id),
            name=msg.name,
            kind=msg.kind or "deal",
            stages=[StageOut.of(s) for s in msg.stages],
            fields=[FieldOut.of(f) for f in msg.fields],
        )
