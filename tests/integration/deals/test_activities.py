"""Activities, reminder plans and the alert checks of the deals service through gRPC over
real PostgreSQL: the events a done activity emits (and a planned one does not), activities
on a lead's timeline and on a contact, a reminder refused once a logged call moved the
channel on or the plan stopped, and the alert checks at injected times: the head hears of a
deal with no next activity only past the grace period, a client idle for the stale days is
in the digest, a repeated check owes the same keys."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from dealflow.deals.v1 import activities_pb2 as apb
from dealflow.deals.v1 import activities_pb2_grpc, crm_pb2_grpc
from dealflow.deals.v1 import crm_pb2 as cpb
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import NotFound, ValidationFailed
from services.common.grpc_client import call, channel
from services.common.protoconv import from_struct, to_struct, to_timestamp
from services.deals.main import start_server
from services.deals.service import DealsService
from services.deals.tables import outbox

pytestmark = pytest.mark.integration

Stub = activities_pb2_grpc.ActivitiesServiceStub


@pytest.fixture(scope="module")
async def deals_channel(service: DealsService) -> AsyncIterator[grpc.aio.Channel]:
    server, port = await start_server(service)
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield chan
    await chan.close()
    await server.stop(None)


@pytest.fixture(scope="module")
def acts(deals_channel: grpc.aio.Channel) -> Stub:
    return activities_pb2_grpc.ActivitiesServiceStub(deals_channel)


async def people(stub: pb_grpc.DealsServiceStub, admin: pb.User) -> tuple[str, str]:
    """A manager in a department a head leads: (manager id, head id)."""
    tag = uuid.uuid4().hex[:6]
    head = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email=f"h-{tag}@x.test", name="Head", password="correct horse", roles=["head_of_sales"]
        ),
        actor=admin.id,
    )
    department = await call(
        stub.CreateDepartment,
        pb.CreateDepartmentRequest(name=f"Sales {tag}", head_id=head.id),
        actor=admin.id,
    )
    manager = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email=f"m-{tag}@x.test",
            name="Manager",
            password="correct horse",
            roles=["manager"],
            department_id=department.id,
        ),
        actor=admin.id,
    )
    return manager.id, head.id


async def a_deal(stub: pb_grpc.DealsServiceStub, admin: pb.User, manager: str) -> pb.Deal:
    pipeline = await call(
        stub.CreatePipeline,
        pb.CreatePipelineRequest(
            name=f"P {uuid.uuid4().hex[:6]}", stages=[pb.StageInput(name="New")]
        ),
        actor=admin.id,
    )
    return await call(
        stub.CreateDeal,
        pb.CreateDealRequest(pipeline_id=pipeline.id, title="Acme", responsible_id=manager),
        actor=manager,
    )


async def events_of(engine: AsyncEngine, subject: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(outbox.c.type).where(outbox.c.subject == subject))
        return [r.type for r in rows]


async def alerts(acts: Stub, check: str, now: datetime) -> list[dict[str, Any]]:
    request = apb.CheckAlertsRequest(
        check=check, now=to_timestamp(now), stale_days=14, grace_hours=24
    )
    return [from_struct(a) for a in (await call(acts.CheckAlerts, request)).alerts]


async def test_a_done_activity_emits_the_events_a_planned_one_does_not(
    stub: pb_grpc.DealsServiceStub, acts: Stub, admin: pb.User, engine: AsyncEngine
) -> None:
    manager, _ = await people(stub, admin)
    deal = await a_deal(stub, admin, manager)
    plan = from_struct(
        (
            await call(
                acts.CreatePlan,
                apb.CreatePlanRequest(
                    plan=to_struct(
                        {"deal_id": deal.id, "frequencies": {"calls": {"count": 1, "per": "month"}}}
                    )
                ),
                actor=manager,
            )
        ).plan
    )
    due = to_timestamp(datetime.now(UTC) + timedelta(days=1))
    planned = await call(
        acts.CreateActivity,
        apb.CreateActivityRequest(deal_id=deal.id, kind="meeting", due_at=due),
        actor=manager,
    )
    assert await events_of(engine, f"deal/{deal.id}") == ["deals.deal.created"]
    done = await call(
        acts.CompleteActivity,
        apb.CompleteActivityRequest(id=planned.id, outcome="ok"),
        actor=manager,
    )
    again = await call(
        acts.CompleteActivity, apb.CompleteActivityRequest(id=planned.id), actor=manager
    )
    assert (done.status, again.done_at) == ("done", done.done_at)
    assert sorted(await events_of(engine, f"deal/{deal.id}")) == [
        "deals.deal.activity_logged",
        "deals.deal.created",
    ]
    assert await events_of(engine, f"reminder_plan/{plan['id']}") == [
        "deals.reminder_plan.changed",  # made
        "deals.reminder_plan.changed",  # a meeting done on its deal
    ]

    # The plan's call reminder: due at once; refused once a logged call moved the clock on.
    first = datetime.fromisoformat(plan["next_due"]["calls"])
    await call(
        acts.CreateActivity,
        apb.CreateActivityRequest(deal_id=deal.id, kind="call", status="done"),
        actor=manager,
    )
    skipped = await call(
        acts.CreateReminder,
        apb.CreateReminderRequest(
            plan_id=plan["id"], channel="calls", due_at=to_timestamp(first), idempotency_key="k1"
        ),
    )
    assert skipped.id == ""
    view = from_struct(
        (await call(acts.GetPlan, apb.GetPlanRequest(id=plan["id"]), actor=manager)).plan
    )
    later = datetime.fromisoformat(view["next_due"]["calls"])
    assert later > first + timedelta(days=30)
    made = await call(
        acts.CreateReminder,
        apb.CreateReminderRequest(
            plan_id=plan["id"], channel="calls", due_at=to_timestamp(later), idempotency_key="k2"
        ),
    )
    assert (made.kind, made.status, made.plan_id, made.assignee_id) == (
        "call",
        "planned",
        plan["id"],
        manager,
    )
    await call(
        acts.UpdatePlan,
        apb.UpdatePlanRequest(id=plan["id"], changes=to_struct({"status": "stopped"})),
        actor=manager,
    )
    stopped = await call(
        acts.CreateReminder,
        apb.CreateReminderRequest(
            plan_id=plan["id"], channel="calls", due_at=to_timestamp(later), idempotency_key="k3"
        ),
    )
    assert stopped.id == ""
    with pytest.raises(ValidationFailed):
        await call(
            acts.UpdatePlan,
            apb.UpdatePlanRequest(
                id=plan["id"], changes=to_struct({"frequencies": {"calls": {"count": 0}}})
            ),
            actor=manager,
        )


async def test_activities_on_a_lead_and_a_contact(
    stub: pb_grpc.DealsServiceStub, acts: Stub, admin: pb.User, deals_channel: grpc.aio.Channel
) -> None:
    crm = crm_pb2_grpc.CrmServiceStub(deals_channel)
    manager, _ = await people(stub, admin)
    funnel = await call(
        stub.CreatePipeline,
        pb.CreatePipelineRequest(
            name=f"L {uuid.uuid4().hex[:6]}", kind="lead", stages=[pb.StageInput(name="New")]
        ),
        actor=admin.id,
    )
    lead = await call(
        crm.CreateLead, cpb.CreateLeadRequest(pipeline_id=funnel.id, title="Web"), actor=manager
    )
    await call(
        acts.CreateActivity,
        apb.CreateActivityRequest(lead_id=lead.id, kind="email", status="done", subject="Offer"),
        actor=manager,
    )
    entries = await call(
        crm.GetLeadTimeline, cpb.GetLeadTimelineRequest(lead_id=lead.id), actor=manager
    )
    assert "email" in [e.kind for e in entries.entries]
    contact = await call(
        crm.CreateContact,
        cpb.CreateContactRequest(name=f"Ann {uuid.uuid4().hex[:4]}"),
        actor=manager,
    )
    await call(
        acts.CreateActivity,
        apb.CreateActivityRequest(contact_id=contact.id, kind="call", status="done"),
        actor=manager,
    )
    listed = await call(
        acts.ListActivities, apb.ListActivitiesRequest(contact_id=contact.id), actor=manager
    )
    assert [a.kind for a in listed.activities] == ["call"]
    other, _ = await people(stub, admin)
    with pytest.raises(NotFound):
        await call(
            acts.ListActivities, apb.ListActivitiesRequest(contact_id=contact.id), actor=other
        )
    with pytest.raises(ValidationFailed):
        await call(
            acts.CreateActivity,
            apb.CreateActivityRequest(deal_id="1", lead_id=lead.id, kind="call", status="done"),
            actor=manager,
        )


async def test_the_head_hears_only_past_the_grace_period_and_of_idle_clients(
    stub: pb_grpc.DealsServiceStub, acts: Stub, admin: pb.User
) -> None:
    manager, head = await people(stub, admin)
    deal = await a_deal(stub, admin, manager)
    now = datetime.now(UTC)

    def mine(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted(
            (a["user_id"], a["key"].rsplit("/", 1)[1]) for a in found if a["deal_id"] == deal.id
        )

    assert mine(await alerts(acts, "unplanned", now)) == [(manager, "manager")]
    later = await alerts(acts, "unplanned", now + timedelta(hours=25))
    assert mine(later) == sorted([(manager, "manager"), (head, "head")])
    again = await alerts(acts, "unplanned", now + timedelta(hours=26))
    assert {a["key"] for a in again} >= {a["key"] for a in later if a["deal_id"] == deal.id}

    def digest_of(found: list[dict[str, Any]]) -> str:
        return "".join(a["body"] for a in found if a["user_id"] == head)

    assert f"#{deal.id} " not in digest_of(await alerts(acts, "digest", now))
    idle = digest_of(await alerts(acts, "digest", now + timedelta(days=15)))
    assert f"#{deal.id} Acme — Manager: no activity for 15 days" in idle
    # A planned call: the manager's alert stops; once it is overdue, the head's digest says so.
    due = now + timedelta(days=1)
    await call(
        acts.CreateActivity,
        apb.CreateActivityRequest(deal_id=deal.id, kind="call", due_at=to_timestamp(due)),
        actor=manager,
    )
    assert mine(await alerts(acts, "unplanned", now + timedelta(hours=25))) == []
    assert "overdue" in digest_of(await alerts(acts, "digest", now + timedelta(days=2)))


async def test_a_plan_on_a_client_counts_the_client_s_activities(
    stub: pb_grpc.DealsServiceStub, acts: Stub, admin: pb.User, deals_channel: grpc.aio.Channel
) -> None:
    crm = crm_pb2_grpc.CrmServiceStub(deals_channel)
    manager, _ = await people(stub, admin)
    contact = await call(
        crm.CreateContact,
        cpb.CreateContactRequest(name=f"Bo {uuid.uuid4().hex[:4]}"),
        actor=manager,
    )
    raw = {
        "contact_id": contact.id,
        "needs": ["tiles"],
        "frequencies": {"letters": {"count": 1, "per": "month"}},
    }
    plan = from_struct(
        (
            await call(acts.CreatePlan, apb.CreatePlanRequest(plan=to_struct(raw)), actor=manager)
        ).plan
    )
    first = datetime.fromisoformat(plan["next_due"]["letters"])
    made = await call(
        acts.CreateReminder,
        apb.CreateReminderRequest(
            plan_id=plan["id"],
            channel="letters",
            due_at=to_timestamp(first),
            idempotency_key=f"c-{plan['id']}",
        ),
    )
    assert (made.contact_id, made.kind, made.subject) == (
        contact.id,
        "email",
        "Write to the client: tiles",
    )
    await call(acts.CompleteActivity, apb.CompleteActivityRequest(id=made.id), actor=manager)
    view = from_struct(
        (await call(acts.GetPlan, apb.GetPlanRequest(id=plan["id"]), actor=manager)).plan
    )
    done = datetime.fromisoformat(view["next_due"]["letters"]) - timedelta(days=365.25 / 12)
    assert done > first  # one month after the letter was done, not after it was due
    listed = await call(acts.ListPlans, apb.ListPlansRequest(contact_id=contact.id), actor=manager)
    assert [from_struct(p)["id"] for p in listed.plans] == [plan["id"]]
