"""Deals through the gateway: ids as numbers, money as strings, versions as ETags, and
every service error as a problem."""

from __future__ import annotations

import pytest
from dealflow.deals.v1 import deals_pb2

from services.common.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from services.common.grpc_client import ServiceUnavailable
from tests.unit.gateway.conftest import USER_ID, World, deal_msg


async def test_create_deal_answers_201_with_etag(world: World) -> None:
    world.deals.answers["CreateDeal"] = deal_msg(version=1)

    reply = await world.http.post(
        "/api/v1/deals",
        json={
            "pipeline_id": 3,
            "title": "Cement for Alfa",
            "amount": "1500.50",
            "fields": {"inn": "7701234567"},
        },
        headers=world.auth(),
    )

    assert reply.status_code == 201
    body = reply.json()
    assert (body["id"], body["stage_id"], body["version"]) == (42, 11, 1)
    assert body["amount"] == "1500.50"
    assert reply.headers["etag"] == 'W/"1"'
    sent = world.deals.called("CreateDeal")[0].request
    assert sent.pipeline_id == "3"
    assert dict(sent.fields) == {"inn": "7701234567"}


async def test_unknown_body_field_is_refused(world: World) -> None:
    reply = await world.http.post(
        "/api/v1/deals",
        json={"pipeline_id": 3, "title": "x", "colour": "red"},
        headers=world.auth(),
    )

    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in reply.json()["errors"]] == ["colour"]
    assert world.deals.business_calls() == []


async def test_malformed_json_is_a_422_problem(world: World) -> None:
    reply = await world.http.post(
        "/api/v1/deals",
        content=b'{"pipeline_id": 3,',
        headers={**world.auth(), "Content-Type": "application/json"},
    )

    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["errors"][0]["message"].startswith("the body is not valid JSON")


async def test_get_missing_deal_is_404_problem(world: World) -> None:
    world.deals.answers["GetDeal"] = NotFound("deal 9 not found")

    reply = await world.http.get("/api/v1/deals/9", headers=world.auth())

    assert reply.status_code == 404
    assert reply.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "deal 9 not found",
        "errors": [],
    }


async def test_get_deal_has_weak_etag(world: World) -> None:
    world.deals.answers["GetDeal"] = deal_msg(version=5)

    reply = await world.http.get("/api/v1/deals/42", headers=world.auth())

    assert reply.headers["etag"] == 'W/"5"'
    assert reply.json()["responsible_id"] == USER_ID


async def test_move_names_each_missing_required_field(world: World) -> None:
    world.deals.answers["MoveDeal"] = ValidationFailed(
        [
            FieldProblem("fields.inn", "required on stage Contract"),
            FieldProblem("fields.kpp", "required on stage Contract"),
        ]
    )

    reply = await world.http.post(
        "/api/v1/deals/42/move", json={"stage_id": 12}, headers=world.auth()
    )

    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    errors = reply.json()["errors"]
    assert errors[0] == {"field": "fields.inn", "message": "required on stage Contract"}
    assert errors[1]["field"] == "fields.kpp"


@pytest.mark.parametrize("if_match", ['W/"3"', '"3"', "3"])
async def test_patch_sends_the_if_match_version(world: World, if_match: str) -> None:
    world.deals.answers["UpdateDeal"] = deal_msg(version=4, title="New title")

    reply = await world.http.patch(
        "/api/v1/deals/42",
        json={"title": "New title", "fields": {"inn": None}},
        headers={**world.auth(), "If-Match": if_match},
    )

    assert reply.status_code == 200
    assert reply.headers["etag"] == 'W/"4"'
    sent = world.deals.called("UpdateDeal")[0].request
    assert sent.expected_version == 3
    assert list(sent.set_fields) == ["title"]  # only what the body holds changes


async def test_patch_with_stale_version_is_409(world: World) -> None:
    world.deals.answers["UpdateDeal"] = Conflict("deal 42 is at version 4, not 3")

    reply = await world.http.patch(
        "/api/v1/deals/42", json={"title": "x"}, headers={**world.auth(), "If-Match": 'W/"3"'}
    )

    assert reply.status_code == 409
    assert reply.json()["detail"] == "deal 42 is at version 4, not 3"


async def test_patch_without_if_match_is_428(world: World) -> None:
    reply = await world.http.patch("/api/v1/deals/42", json={"title": "x"}, headers=world.auth())

    assert reply.status_code == 428
    assert "If-Match required" in reply.json()["detail"]
    assert world.deals.business_calls() == []


async def test_patch_with_unreadable_if_match_is_422(world: World) -> None:
    reply = await world.http.patch(
        "/api/v1/deals/42", json={"title": "x"}, headers={**world.auth(), "If-Match": "abc"}
    )

    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "If-Match"


async def test_unavailable_service_is_503_with_retry_after(world: World) -> None:
    world.deals.answers["GetDeal"] = ServiceUnavailable("deals: connection refused")

    reply = await world.http.get("/api/v1/deals/42", headers=world.auth())

    assert reply.status_code == 503
    assert reply.headers["retry-after"] == "7"
    assert reply.headers["content-type"] == "application/problem+json"


async def test_list_deals_pages_and_limits(world: World) -> None:
    world.deals.answers["ListDeals"] = deals_pb2.ListDealsResponse(
        deals=[deal_msg()], next_cursor="NDE"
    )

    reply = await world.http.get(
        "/api/v1/deals", params={"pipeline_id": 3, "q": "alfa"}, headers=world.auth()
    )

    assert reply.status_code == 200
    assert reply.json()["next_cursor"] == "NDE"
    assert [d["id"] for d in reply.json()["items"]] == [42]
    sent = world.deals.called("ListDeals")[0].request
    assert (sent.pipeline_id, sent.q, sent.limit) == ("3", "alfa", 50)


async def test_limit_out_of_range_is_422_naming_limit(world: World) -> None:
    reply = await world.http.get("/api/v1/deals", params={"limit": 500}, headers=world.auth())

    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "limit"


async def test_unexpected_error_is_a_500_problem(world: World) -> None:
    world.deals.answers["GetDeal"] = RuntimeError("boom")

    reply = await world.http.get("/api/v1/deals/42", headers=world.auth())

    assert reply.status_code == 500
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["detail"] == "internal error"  # nothing internal leaks


async def test_unknown_route_is_a_404_problem(world: World) -> None:
    reply = await world.http.get("/api/v1/nowhere", headers=world.auth())

    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"


async def test_the_list_takes_the_funnels_parameters_by_their_names(world: World) -> None:
    # They come through an async dependency (funnel_query) with the class's signature.
    world.deals.answers["ListDeals"] = deals_pb2.ListDealsResponse(deals=[deal_msg()])

    listed = await world.http.get("/api/v1/deals?pipeline_id=1", headers=world.auth())
    stray = await world.http.get(
        "/api/v1/deals?from=2026-01-01&funnel_outcome=lost", headers=world.auth()
    )
    malformed = await world.http.get("/api/v1/deals?to=someday", headers=world.auth())

    assert listed.status_code == 200, listed.text
    assert [d["id"] for d in listed.json()["items"]] == [42]
    assert stray.status_code == 422
    assert sorted(e["field"] for e in stray.json()["errors"]) == ["from", "funnel_outcome"]
    assert malformed.status_code == 422
    assert "to" in malformed.text
    assert len(world.deals.called("ListDeals")) == 1
