"""The processes of a lead (declared `starts="lead"`): start one, list them, read one."""

from __future__ import annotations

from dealflow.deals.v1 import crm_pb2
from fastapi import APIRouter

from services.common.access import Permission
from services.gateway.deps import Crm, CurrentUser, Processes, Settings, TemporalClient
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.deals import (
    LeadProcessStarted,
    ProcessDetail,
    ProcessIn,
    ProcessOut,
)
from workflows.api import TooManyRuns

router = APIRouter(prefix=API_PREFIX + "/leads", tags=["processes"], responses=COMMON_RESPONSES)


@router.post("/{lead_id}/processes", status_code=201, responses=responses(403, 404, 409))
async def start_lead_process(
    lead_id: int,
    body: ProcessIn,
    user: CurrentUser,
    crm: Crm,
    temporal: TemporalClient,
    processes: Processes,
    settings: Settings,
    key: CreationKey,
) -> LeadProcessStarted:
    lead = await crm.GetLead(crm_pb2.GetLeadRequest(id=str(lead_id)))
    if not user.can(Permission.DEALS_EDIT):
        raise Problem(403, f"starting a process needs the {Permission.DEALS_EDIT} permission")
    try:
        started = await processes.start_lead_process(
            temporal,
            lead_id=str(lead_id),
            pipeline_id=lead.pipeline_id,
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
    return LeadProcessStarted(
        workflow_id=started.workflow_id, process=body.process, lead_id=lead_id
    )


@router.get("/{lead_id}/processes", responses=responses(404))
async def list_lead_processes(
    lead_id: int, _: CurrentUser, crm: Crm, temporal: TemporalClient, processes: Processes
) -> list[ProcessOut]:
    await crm.GetLead(crm_pb2.GetLeadRequest(id=str(lead_id)))
    found = await processes.list_lead_processes(temporal, str(lead_id))
    return [ProcessOut.model_validate(p) for p in found]


@router.get("/{lead_id}/processes/{lead_run_id:path}", responses=responses(404))
async def get_lead_process(
    lead_id: int,
    lead_run_id: str,
    _: CurrentUser,
    crm: Crm,
    temporal: TemporalClient,
    processes: Processes,
) -> ProcessDetail:
    """One run of the lead's processes (its workflow id) with everything it recorded."""
    await crm.GetLead(crm_pb2.GetLeadRequest(id=str(lead_id)))
    found = await processes.get_lead_run(temporal, str(lead_id), lead_run_id)
    if found is None:
        raise Problem(404, f"lead {lead_id} has no process {lead_run_id!r}")
    return ProcessDetail.model_validate(found)
