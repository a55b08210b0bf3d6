"""The processes of a deal: start one, list them (Temporal workflows, through the client)."""

from __future__ import annotations

from typing import Literal

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter

from services.common.access import Permission
from services.gateway.deps import CurrentUser, Deals, Processes, Settings, TemporalClient
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.deals import (
    ProcessDetail,
    ProcessIn,
    ProcessKind,
    ProcessOut,
    ProcessStarted,
)
from workflows.api import TooManyRuns, process_catalog

router = APIRouter(prefix=API_PREFIX + "/deals", tags=["processes"], responses=COMMON_RESPONSES)
catalog = APIRouter(
    prefix=API_PREFIX + "/processes", tags=["processes"], responses=COMMON_RESPONSES
)


@catalog.get("")
async def list_process_kinds(
    _: CurrentUser, on: Literal["deal", "lead"] = "deal"
) -> list[ProcessKind]:
    """The processes a deal (`?on=lead`: a lead) can start, with their declared params."""
    return [ProcessKind.model_validate(p) for p in process_catalog(on)]


@router.post("/{deal_id}/processes", status_code=201, responses=responses(403, 404, 409))
async def start_process(
    deal_id: int,
    body: ProcessIn,
    user: CurrentUser,
    deals: Deals,
    temporal: TemporalClient,
    processes: Processes,
    settings: Settings,
    key: CreationKey,
) -> ProcessStarted:
    # The deal must exist and be visible to the caller before a process hangs off it.
    deal = await deals.GetDeal(deals_pb2.GetDealRequest(id=str(deal_id)))
    if not user.can(Permission.DEALS_EDIT):  # a process changes the deal it hangs off
        raise Problem(403, f"starting a process needs the {Permission.DEALS_EDIT} permission")
    try:
        # A retry with the request's Idempotency-Key finds the run it started (its memo),
        # even when the gateway died before keeping the first answer.
        started = await processes.start_process_once(
            temporal,
            deal_id=str(deal_id),
            pipeline_id=deal.pipeline_id,
            process=body.process,
            params=body.params,
            initiator_id=str(user.id),
            task_queue=settings.task_queue,
            start_key=key,
        )
    except ValueError as exc:
        raise Problem(422, str(exc)) from exc
    except TooManyRuns as exc:
        raise Problem(409, str(exc)) from exc
    return ProcessStarted(workflow_id=started.workflow_id, process=body.process, deal_id=deal_id)


@router.get("/{deal_id}/processes", responses=responses(404))
async def list_processes(
    deal_id: int,
    _: CurrentUser,
    deals: Deals,
    temporal: TemporalClient,
    processes: Processes,
) -> list[ProcessOut]:
    await deals.GetDeal(deals_pb2.GetDealRequest(id=str(deal_id)))
    found = await processes.list_processes(temporal, str(deal_id))
    return [ProcessOut.model_validate(p) for p in found]


@router.get("/{deal_id}/processes/{workflow_id:path}", responses=responses(404))
async def get_process(
    deal_id: int,
    workflow_id: str,
    _: CurrentUser,
    deals: Deals,
    temporal: TemporalClient,
    processes: Processes,
) -> ProcessDetail:
    """One run of the deal's processes with everything it recorded so far."""
    await deals.GetDeal(deals_pb2.GetDealRequest(id=str(deal_id)))
    found = await processes.get_run(temporal, str(deal_id), workflow_id)
    if found is None:
        raise Problem(404, f"deal {deal_id} has no process {workflow_id!r}")
    return ProcessDetail.model_validate(found)
