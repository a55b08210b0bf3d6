"""Tokens: issued for a password the deals service accepts, required everywhere else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dealflow.deals.v1 import deals_pb2

from services.common.errors import Unauthenticated
from services.gateway.auth import Principal, issue_token
from tests.unit.gateway.conftest import SECRET, USER_ID, World


async def test_token_issued_for_good_password_and_accepted(world: World) -> None:
    user = deals_pb2.User(id=str(USER_ID), email="ann@alfa.test", name="Ann", roles=["sales"])
    world.deals.answers["Authenticate"] = user
    world.deals.answers["GetUser"] = user

    reply = await world.http.post(
        "/api/v1/auth/token", data={"username": "ann@alfa.test", "password": "pw"}
    )

    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    sent = world.deals.called("Authenticate")[0].request
    assert (sent.email, sent.password) == ("ann@alfa.test", "pw")

    me = await world.http.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == USER_ID
    # the acting user travels to the service with every call
    assert ("x-actor-id", str(USER_ID)) in world.deals.called("GetUser")[0].metadata


async def test_wrong_password_is_a_401_problem(world: World) -> None:
    world.deals.answers["Authenticate"] = Unauthenticated("wrong e-mail or password")

    reply = await world.http.post(
        "/api/v1/auth/token", data={"username": "ann@alfa.test", "password": "nope"}
    )

    assert reply.status_code == 401
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["www-authenticate"] == "Bearer"
    assert reply.json()["detail"] == "wrong e-mail or password"


async def test_missing_token_is_a_401_problem(world: World) -> None:
    reply = await world.http.get("/api/v1/deals/42")

    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == "Bearer"
    assert reply.json()["title"] == "Unauthorized"
    assert world.deals.calls == []


async def test_forged_token_is_refused(world: World) -> None:
    forged = issue_token(Principal(USER_ID, frozenset({"admin"})), secret="z" * 40, minutes=5)

    reply = await world.http.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})

    assert reply.status_code == 401
    assert reply.json()["detail"] == "the token is not valid"


async def test_garbage_token_is_refused(world: World) -> None:
    reply = await world.http.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"})

    assert reply.status_code == 401


async def test_expired_token_is_refused(world: World) -> None:
    old = datetime.now(UTC) - timedelta(hours=2)
    token = issue_token(Principal(USER_ID, frozenset()), secret=SECRET, minutes=30, now=old)

    reply = await world.http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert reply.status_code == 401
    assert reply.json()["detail"] == "the token has expired"


async def test_non_admin_cannot_create_pipeline(world: World) -> None:
    reply = await world.http.post(
        "/api/v1/pipelines",
        json={"name": "Sales", "stages": [{"name": "New", "semantic": "in_progress"}]},
        headers=world.auth(),
    )

    assert reply.status_code == 403
    assert reply.headers["content-type"] == "application/problem+json"
    assert world.deals.calls == []


async def test_admin_creates_pipeline(world: World) -> None:
    world.deals.answers["CreatePipeline"] = deals_pb2.Pipeline(
        id="3",
        name="Sales",
        stages=[deals_pb2.Stage(id="11", name="New", semantic="in_progress", position=0)],
    )

    reply = await world.http.post(
        "/api/v1/pipelines",
        json={"name": "Sales", "stages": [{"name": "New", "semantic": "in_progress"}]},
        headers=world.auth(1, admin=True),
    )

    assert reply.status_code == 201
    assert reply.json() == {
        "id": 3,
        "name": "Sales",
        "stages": [{"id": 11, "name": "New", "semantic": "in_progress", "position": 0}],
        "fields": [],
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/pipelines/3/stages", {"name": "Won", "semantic": "won"}),
        ("/api/v1/pipelines/3/fields", {"code": "inn", "name": "INN", "type": "string"}),
        (
            "/api/v1/lists",
            {"code": "ops", "name": "Operators", "columns": [{"code": "dir", "name": "Direction"}]},
        ),
        ("/api/v1/lists/ops/items", {"values": {"dir": "north"}}),
        ("/api/v1/users", {"email": "bob@alfa.test", "name": "Bob", "password": "pw"}),
    ],
)
async def test_only_admins_change_configuration(world: World, path: str, body: dict) -> None:  # type: ignore[type-arg]
    reply = await world.http.post(path, json=body, headers=world.auth())

    assert reply.status_code == 403
    assert world.deals.calls == []
