"""Leadership alerts (SN-9): what is still in the first stage of every pipeline and lead
funnel (`GET /api/v1/reports/first-stage`, as far as the caller sees; the end-of-day check
sends the same to the heads), and an admin's request to run a check now."""

from __future__ import annotations

from typing import Any, Literal

from dealflow.deals.v1 import activities_pb2 as pb
from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.common.protoconv import from_struct
from services.gateway.deps import Activities, AdminUser, CurrentUser, TemporalClient
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.rate_limit import expensive
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Input
from workflows.alerts_api import ask_alert_check

router = APIRouter(prefix=API_PREFIX, tags=["reports"], responses=COMMON_RESPONSES)


class StageRecordOut(BaseModel):
    record: str  # deal | lead
    id: int
    title: str
    responsible_id: int


class FirstStageOut(BaseModel):
    pipeline_id: int
    pipeline: str
    kind: str  # deal | lead
    stage_id: int
    stage: str
    records: list[StageRecordOut]

    @classmethod
    def of(cls, raw: dict[str, Any]) -> FirstStageOut:
        return cls(
            pipeline_id=int(raw["pipeline_id"]),
            pipeline=raw["pipeline"],
            kind=raw["kind"],
            stage_id=int(raw["stage_id"]),
            stage=raw["stage"],
            records=[StageRecordOut(**r) for r in raw["records"]],
        )


@router.get("/reports/first-stage", dependencies=[Depends(expensive)], responses=responses(429))
async def first_stage(_: CurrentUser, activities: Activities) -> list[FirstStageOut]:
    """Per pipeline and lead funnel, its first stage and the deals and leads still in it
    (at the close of the working day it should be empty)."""
    reply = await activities.FirstStage(pb.FirstStageRequest())
    return [FirstStageOut.of(from_struct(s)) for s in reply.stages]


class CheckIn(Input):
    check: Literal["digest", "unplanned", "first_stage"]


@router.post("/alerts/checks", status_code=202, responses=responses(403))
async def run_check(body: CheckIn, _: AdminUser, temporal: TemporalClient) -> dict[str, str]:
    """Run one alert check now (the heads' digest, the no-next-activity check, or the
    end-of-day first-stage check), as its time would."""
    await ask_alert_check(temporal, body.check)
    return {"check": body.check, "status": "asked"}
