"""JUG-1 with its real lead activities against the real deals service (in-process gRPC,
real PostgreSQL) on Temporal's time-skipping server (tasks faked): no answer → the manager
tries again only once the delay has passed, up to the configured number of tries, then the
manager decides; a refusal closes the real lead as lost with the reason on its timeline;
a positive answer converts it into a deal for the employee it is handed to."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
import pytest
from dealflow.deals.v1 import crm_pb2 as cpb
from dealflow.deals.v1 import crm_pb2_grpc as cpb_grpc
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.common.db import create_engine
from services.common.grpc_client import call, channel
from services.deals.main import start_server
from services.deals.service import DealsService
from tests.unit.workflows.fakes import MANAGER, start_env, state
from tests.unit.workflows.lead_proposal_fakes import FEEDBACK, GO_ON, PROPOSAL, Driver, lead_fakes
from workflows.activities.leads import LeadActivities
from workflows.activities.types import UserInfo
from workflows.api import WORKFLOWS
from workflows.kit.contracts import ProcessInput
from workflows.processes.lead_proposal import LeadProposal, LeadProposalResult

pytestmark = pytest.mark.integration
LEAD_ACTIVITIES = {"get_lead", "lose_lead", "convert_lead"}


@dataclass
class Deals:
    deals: Any
    crm: Any
    user_id: str
    funnel: Any


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_env()
    yield environment
    await environment.shutdown()


@pytest.fixture(scope="module")
async def deals(database_url: str) -> AsyncIterator[Deals]:
    engine = create_engine(database_url, pool_size=4)
    server, port = await start_server(DealsService(engine))
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    stub, crm = pb_grpc.DealsServiceStub(chan), cpb_grpc.CrmServiceStub(chan)
    user = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email="am@example.com", name="Am", password="pw pw pw pw", roles=["admin"]
        ),  # fmt: skip
    )
    funnel = await call(
        stub.CreatePipeline,
        pb.CreatePipelineRequest(
            name=f"Leads {uuid.uuid4().hex[:6]}",
            kind="lead",
            stages=[
                pb.StageInput(name="Proposal"),
                pb.StageInput(name="Won", semantic="won"),
                pb.StageInput(name="Refused", semantic="lost"),
            ],
        ),
    )
    deal_stages = [pb.StageInput(name="New")]
    await call(stub.CreatePipeline, pb.CreatePipelineRequest(name="Deals", stages=deal_stages))
    yield Deals(stub, crm, user.id, funnel)
    await chan.close()
    await server.stop(None)
    await engine.dispose()


async def _lead(d: Deals, title: str) -> Any:
    request = cpb.CreateLeadRequest(pipeline_id=d.funnel.id, title=title, responsible_id=d.user_id)
    return await call(d.crm.CreateLead, request)


class Run:
    """A run of JUG-1 on a real lead: real lead activities, faked tasks and look-ups."""

    def __init__(self, env: WorkflowEnvironment, deals: Deals) -> None:
        self.env, self.deals, self.fakes = env, deals, lead_fakes()
        self.queue = f"tq-{uuid.uuid4().hex}"
        self.owner = UserInfo(deals.user_id, "Am")  # the lead's responsible: the manager

    def worker(self) -> Worker:
        real = LeadActivities(self.deals.crm, self.deals.deals).all()
        faked = [a for a in self.fakes.activities() if a.__name__ not in LEAD_ACTIVITIES]
        return Worker(
            self.env.client, task_queue=self.queue, workflows=WORKFLOWS, activities=faked + real
        )

    async def start(self, lead: Any, **params: Any) -> tuple[WorkflowHandle[Any, Any], Driver]:
        handle = await self.env.client.start_workflow(
            LeadProposal.run,
            ProcessInput("", lead.pipeline_id, MANAGER.id, params, lead_id=lead.id),
            id=f"lead-{lead.id}/lead-proposal/1",
            task_queue=self.queue,
        )
        return handle, Driver(handle, self.fakes)


async def test_retries_wait_for_the_delay_and_a_refusal_loses_the_real_lead(
    env: WorkflowEnvironment, deals: Deals
) -> None:
    lead = await _lead(deals, "JPoint booth")
    proposal = Run(env, deals)
    async with proposal.worker():
        handle, run = await proposal.start(lead, max_attempts=2, retry_after_hours=48)
        owner = proposal.owner
        await run.answer(PROPOSAL, owner, "sent")
        await run.answer(FEEDBACK, owner, "no_answer")
        await env.sleep(timedelta(hours=47))
        assert (await state(handle)).stage == "waiting"
        assert len(proposal.fakes.tasks_of(FEEDBACK)) == 1
        await env.sleep(timedelta(hours=2))
        await run.answer(FEEDBACK, owner, "no_answer")
        await run.answer(GO_ON, owner, "give_up", comment="unreachable since May")
        result: LeadProposalResult = await handle.result()

    assert result.outcome == "lost"
    lost = await call(deals.crm.GetLead, cpb.GetLeadRequest(id=lead.id))
    assert (lost.stage_id, lost.stage_semantic) == (deals.funnel.stages[2].id, "lost")
    timeline = await call(deals.crm.GetLeadTimeline, cpb.GetLeadTimelineRequest(lead_id=lead.id))
    assert any("unreachable since May" in e.text for e in timeline.entries)


async def test_positive_converts_the_real_lead_for_the_one_it_is_handed_to(
    env: WorkflowEnvironment, deals: Deals
) -> None:
    lead = await _lead(deals, "Meetup sponsor")
    proposal = Run(env, deals)
    async with proposal.worker():
        handle, run = await proposal.start(lead, hand_over_to=deals.user_id)
        await run.answer(PROPOSAL, proposal.owner, "sent")
        await run.answer(FEEDBACK, proposal.owner, "positive")
        result: LeadProposalResult = await handle.result()

    converted = await call(deals.crm.GetLead, cpb.GetLeadRequest(id=lead.id))
    assert result.deal_id and converted.deal_id == result.deal_id
    deal = await call(deals.deals.GetDeal, pb.GetDealRequest(id=result.deal_id))
    assert deal.responsible_id == deals.user_id and deal.title == "Meetup sponsor"
