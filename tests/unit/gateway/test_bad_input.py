"""Bad input over REST (DESIGN rule 7): a clear 4xx problem naming what is wrong, and no
call to any service, so nothing is stored. Oversized bodies, malformed JSON, unknown
fields and out-of-range limits of the deals routes are in test_ops.py and test_deals.py."""

from __future__ import annotations

from typing import Any

import httpx

from tests.unit.gateway.conftest import World


def problem(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


async def test_null_for_a_user_field_that_has_no_empty_value_is_422(world: World) -> None:
    # `{"active": null}` once reached the proto as None: a 500.
    for name in ("active", "absent", "name", "roles", "password"):
        reply = await world.http.patch(
            "/api/v1/users/3", json={name: None}, headers=world.auth(admin=True)
        )

        assert fields(problem(reply, 422)) == [name]
    assert world.deals.business_calls() == []


async def test_malformed_json_is_a_422_naming_the_body(world: World) -> None:
    reply = await world.http.post(
        "/api/v1/deals",
        content=b'{"pipeline_id": 3, "title": ',
        headers={**world.auth(), "Content-Type": "application/json"},
    )

    body = problem(reply, 422)
    assert fields(body) == ["body"]
    assert body["errors"][0]["message"].startswith("the body is not valid JSON")
    assert world.deals.business_calls() == []


async def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(world: World) -> None:
    # FastAPI answers bytes it cannot decode with a bare 400 the schema did not document.
    reply = await world.http.post(
        "/api/v1/deals",
        content=b"\xff\xfe{\x00",
        headers={**world.auth(), "Content-Type": "application/json"},
    )

    assert fields(problem(reply, 422)) == ["body"]
    assert world.deals.business_calls() == []


async def test_a_number_for_a_date_is_422_not_a_unix_time(world: World) -> None:
    # `?date_to=0` was read as 1970-01-01 and answered 200.
    for path, name in [
        ("/api/v1/payments?date_to=0", "date_to"),
        ("/api/v1/payment-schedule?date_from=1.5", "date_from"),
        ("/api/v1/audit?until=0.5", "until"),
        ("/api/v1/contracts?created_to=20260101", "created_to"),
    ]:
        reply = await world.http.get(path, headers=world.auth(admin=True))

        assert fields(problem(reply, 422)) == [name], path
    reply = await world.http.post(
        "/api/v1/expenses",
        json={"purpose": "Taxi", "amount": "10.00", "due_date": 0},
        headers=world.auth(admin=True),
    )
    assert fields(problem(reply, 422)) == ["due_date"]
    assert world.deals.business_calls() == []


async def test_a_method_the_path_does_not_take_is_405_listing_every_method_it_does(
    world: World,
) -> None:
    # GET and POST of one path are two routes; the 405 listed only the first one's.
    reply = await world.http.request("OPTIONS", "/api/v1/deals", headers=world.auth())

    problem(reply, 405)
    assert reply.headers["allow"] == "GET, POST"
    reply = await world.http.delete("/api/v1/deals/42", headers=world.auth())
    problem(reply, 405)
    assert reply.headers["allow"] == "GET, PATCH"


async def test_a_stage_position_past_the_protos_int32_is_422(world: World) -> None:
    # It reached the proto's int32 field unchecked: a 500.
    reply = await world.http.post(
        "/api/v1/pipelines/3/stages",
        json={"name": "Later", "position": 2**31},
        headers=world.auth(admin=True),
    )

    assert fields(problem(reply, 422)) == ["position"]
    assert world.deals.business_calls() == []
