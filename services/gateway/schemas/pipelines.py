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
    formula: str | None = Field(
        None,
        max_length=500,
        description="a computed, read-only number or money field: + - * /, parentheses, "
        "round, min, max over number and money fields",
        examples=["income_estimate - cost_estimate"],
    )
    currency: str | None = Field(None, description="a money field's own currency")
    required_to_leave: list[RecordId] = Field(
        [], description="stages the deal may not leave while this field is empty"
    )


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
    formula: str | None = None
    currency: str | None = None
    required_to_leave: list[int] = []

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
            formula=str_or_none(msg.formula),
            currency=str_or_none(msg.currency),
            required_to_leave=ids(msg.required_to_leave),
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
