"""Activities over the deals service's leads for a process on a lead: read it, close it as
lost with the reason, convert it into a deal for someone. Each is safe to retry: a retry
that finds its change made (the lead lost already, converted already) is done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dealflow.deals.v1 import crm_pb2, crm_pb2_grpc, deals_pb2, deals_pb2_grpc
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.activities.leads_types import ConvertLeadInput, LeadInfo, LeadRefInput, LoseLeadInput
from workflows.activities.services import _call


def _lead(lead: Any) -> LeadInfo:
    return LeadInfo(
        id=lead.id,
        pipeline_id=lead.pipeline_id,
        stage_id=lead.stage_id,
        stage_semantic=lead.stage_semantic,
        title=lead.title,
        responsible_id=lead.responsible_id,
        deal_id=lead.deal_id,
    )


class LeadActivities:
    def __init__(
        self, crm: crm_pb2_grpc.CrmServiceStub, deals: deals_pb2_grpc.DealsServiceStub
    ) -> None:
        self._crm = crm
        self._deals = deals

    def all(self) -> list[Callable[..., Any]]:
        return [self.get_lead, self.lose_lead, self.convert_lead]

    @activity.defn(name="get_lead")
    async def get_lead(self, inp: LeadRefInput) -> LeadInfo:
        return _lead(await _call(self._crm.GetLead, crm_pb2.GetLeadRequest(id=inp.lead_id)))

    @activity.defn(name="lose_lead")
    async def lose_lead(self, inp: LoseLeadInput) -> LeadInfo:
        lead = await _call(self._crm.GetLead, crm_pb2.GetLeadRequest(id=inp.lead_id))
        if lead.stage_semantic == "lost":
            return _lead(lead)
        funnel = await _call(
            self._deals.GetPipeline, deals_pb2.GetPipelineRequest(id=lead.pipeline_id)
        )
        lost = next((s.id for s in funnel.stages if s.semantic == "lost"), "")
        if not lost:
            raise ApplicationError(
                f"the lead funnel {funnel.name!r} has no lost stage",
                type="ValidationFailed",
                non_retryable=True,
            )
        moved = await _call(
            self._crm.MoveLead,
            crm_pb2.MoveLeadRequest(id=inp.lead_id, stage_id=lost, comment=inp.reason),
        )
        return _lead(moved)

    @activity.defn(name="convert_lead")
    async def convert_lead(self, inp: ConvertLeadInput) -> LeadInfo:
        lead = await _call(self._crm.GetLead, crm_pb2.GetLeadRequest(id=inp.lead_id))
        if lead.deal_id:  # converted already (a retry after a lost answer)
            return _lead(lead)
        reply = await _call(
            self._crm.ConvertLead,
            crm_pb2.ConvertLeadRequest(
                id=inp.lead_id, pipeline_id=inp.pipeline_id, responsible_id=inp.responsible_id
            ),
        )
        return _lead(reply.lead)
