"""Lead funnels through the gateway: `kind` goes to the service and back, and the list
filters by it."""

from __future__ import annotations

from dealflow.deals.v1 import deals_pb2

from tests.unit.gateway.conftest import World


async def test_a_lead_funnel_is_created_with_its_kind_and_listed_by_it(world: World) -> None:
    world.deals.answers["CreatePipeline"] = deals_pb2.Pipeline(id="4", name="Leads", kind="lead")
    made = await world.http.post(
        "/api/v1/pipelines",
        json={"name": "Leads", "kind": "lead", "stages": [{"name": "Spam", "semantic": "spam"}]},
        headers=world.auth(1, admin=True),
    )
    assert (made.status_code, made.json()["kind"]) == (201, "lead")
    (call,) = world.deals.called("CreatePipeline")
    assert (call.request.kind, call.request.stages[0].semantic) == ("lead", "spam")

    world.deals.answers["ListPipelines"] = deals_pb2.ListPipelinesResponse(
        pipelines=[deals_pb2.Pipeline(id="3", name="Sales"), made_pb()]
    )
    leads = await world.http.get("/api/v1/pipelines?kind=lead", headers=world.auth())
    assert [p["id"] for p in leads.json()] == [4]
    every = await world.http.get("/api/v1/pipelines", headers=world.auth())
    assert [(p["id"], p["kind"]) for p in every.json()] == [(3, "deal"), (4, "lead")]
    wrong = await world.http.post(
        "/api/v1/pipelines",
        json={"name": "X", "kind": "contact", "stages": [{"name": "A"}]},
        headers=world.auth(1, admin=True),
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "kind"


def made_pb() -> deals_pb2.Pipeline:
    return deals_pb2.Pipeline(id="4", name="Leads", kind="lead")
