"""Pipelines, stages and custom fields; only admins change them."""

from __future__ import annotations

from typing import Literal

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter

from services.gateway.deps import AdminUser, CurrentUser, Deals
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.pipelines import FieldIn, FieldOut, PipelineIn, PipelineOut, StageAdd

router = APIRouter(prefix=API_PREFIX + "/pipelines", tags=["pipelines"], responses=COMMON_RESPONSES)


@router.post("", status_code=201, responses=responses(403, 409))
async def create_pipeline(body: PipelineIn, _: AdminUser, deals: Deals) -> PipelineOut:
    pipeline = await deals.CreatePipeline(
        deals_pb2.CreatePipelineRequest(
            name=body.name,
            kind=body.kind,
            stages=[deals_pb2.StageInput(name=s.name, semantic=s.semantic) for s in body.stages],
        )
    )
    return PipelineOut.of(pipeline)


@router.get("")
async def list_pipelines(
    _: CurrentUser, deals: Deals, kind: Literal["deal", "lead"] | None = None
) -> list[PipelineOut]:
    """Every pipeline, or those of one kind (`lead`: the lead funnels)."""
    reply = await deals.ListPipelines(deals_pb2.ListPipelinesRequest())
    found = [PipelineOut.of(p) for p in reply.pipelines]
    return [p for p in found if kind is None or p.kind == kind]


@router.get("/{pipeline_id}", responses=responses(404))
async def get_pipeline(pipeline_id: int, _: CurrentUser, deals: Deals) -> PipelineOut:
    return PipelineOut.of(
        await deals.GetPipeline(deals_pb2.GetPipelineRequest(id=str(pipeline_id)))
    )


@router.post("/{pipeline_id}/stages", status_code=201, responses=responses(403, 404, 409))
async def add_stage(pipeline_id: int, body: StageAdd, _: AdminUser, deals: Deals) -> PipelineOut:
    request = deals_pb2.AddStageRequest(
        pipeline_id=str(pipeline_id),
        stage=deals_pb2.StageInput(name=body.name, semantic=body.semantic),
    )
    if body.position is not None:
        request.position = body.position
    return PipelineOut.of(await deals.AddStage(request))


@router.post("/{pipeline_id}/fields", status_code=201, responses=responses(403, 404, 409))
async def create_field(pipeline_id: int, body: FieldIn, _: AdminUser, deals: Deals) -> FieldOut:
    field = await deals.CreateField(
        deals_pb2.CreateFieldRequest(
            pipeline_id=str(pipeline_id),
            code=body.code,
            name=body.name,
            type=body.type,
            required_on_stages=[str(s) for s in body.required_on_stages],
            options=body.options,
            list_code=body.list_code or "",
            formula=body.formula or "",
            currency=body.currency or "",
            required_to_leave=[str(s) for s in body.required_to_leave],
        )
    )
    return FieldOut.of(field)
