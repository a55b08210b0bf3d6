"""Tokens: issued for a password the deals service accepts, required everywhere else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dealflow.deals.v1 import access_pb2, deals_pb2

from services.common.errors import TooManyAttempts, Unauthenticated
from services.gateway.auth import Principal, issue_token
from tests.unit.gateway.conftest import SECRET, USER_ID, World


async def test_token_issued_for_good_password_and_accepted(world: World) -> None:
    user = deals_pb2.User(id=str(USER_ID), email="ann@alfa.test", name="Ann", roles=["sales"])
    world.deals.answers["Authenticate"] = user
    world.deals.answers["GetUser"] = user
    world.deals.answers["StartSession"] = access_pb2.Session(
        id="s1", user_id=str(USER_ID), refresh_token="r1", roles=["sales"]
    )

    reply = await world.http.post(
        "/api/v1/auth/token", data={"username": "ann@alfa.test", "password": "pw"}
    )

    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_token"] == "r1"
    sent = world.deals.called("Authenticate")[0].request
    assert (sent.email, sent.password) == ("ann@alfa.test", "pw")

    me = await world.http.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == USER_ID
    # the acting user travels to the service with every call; the session is checked
    assert ("x-actor-id", str(USER_ID)) in world.deals.called("GetUser")[0].metadata
    assert world.deals.called("GetAccess")[0].request.session_id == "s1"
    assert me.json()["permissions"] == ["deals.create", "deals.edit", "deals.move", "files.upload"]


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
    assert world.deals.business_calls() == []


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
    assert world.deals.business_calls() == []


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
        "kind": "deal",
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
    assert world.deals.business_calls() == []


async def test_an_ended_session_is_refused_even_with_a_live_token(world: World) -> None:
    world.deals.answers["GetAccess"] = Unauthenticated("the session has ended")

    reply = await world.http.get("/api/v1/me", headers=world.auth())

    assert reply.status_code == 401
    assert reply.json()["detail"] == "the session has ended"


async def test_too_many_failed_sign_ins_is_429_with_retry_after(world: World) -> None:
    refusal = TooManyAttempts("too many failed sign-ins; try again later")
    refusal.retry_after_seconds = 900
    world.deals.answers["Authenticate"] = refusal

    reply = await world.http.post("/api/v1/auth/token", data={"username": "a@b.c", "password": "x"})

    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "900"
    assert reply.headers["content-type"] == "application/problem+json"


async def test_a_read_only_api_token_may_read_but_not_write(world: World) -> None:
    world.deals.answers["VerifyApiToken"] = access_pb2.ApiToken(
        id="5", user_id=str(USER_ID), name="bi", scopes=["read"]
    )
    world.deals.answers["ListDeals"] = deals_pb2.ListDealsResponse()
    headers = {"Authorization": "Bearer dfk_secret"}

    assert (await world.http.get("/api/v1/deals", headers=headers)).status_code == 200
    written = await world.http.post(
        "/api/v1/deals", json={"pipeline_id": 1, "title": "x"}, headers=headers
    )

    assert written.status_code == 403
    assert written.json()["detail"] == "this API token may only read"
    assert world.deals.called("CreateDeal") == []


async def test_logout_ends_the_session_and_forgets_the_token_at_once(world: World) -> None:
    world.deals.answers["EndSession"] = access_pb2.EndSessionResponse()
    world.deals.answers["GetUser"] = deals_pb2.User(id=str(USER_ID), email="a@b.c")
    headers = world.auth()
    assert (await world.http.get("/api/v1/me", headers=headers)).status_code == 200

    assert (await world.http.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    world.deals.answers["GetAccess"] = Unauthenticated("the session has ended")

    assert world.deals.called("EndSession")[0].request.session_id == f"s{USER_ID}"
    assert (await world.http.get("/api/v1/me", headers=headers)).status_code == 401


def test_a_verified_token_is_not_verified_again_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.gateway import auth

    principal = Principal(id=USER_ID, session_id="s1", roles=frozenset({"sales"}))
    token = issue_token(principal, secret=SECRET, minutes=1)
    first = auth.decode_token(token, secret=SECRET)
    verified: list[str] = []

    def verify(token: str, secret: str) -> tuple[auth.Claims, float]:
        verified.append(secret)
        raise Unauthenticated("the token has expired")

    monkeypatch.setattr(auth, "_verify", verify)
    assert auth.decode_token(token, secret=SECRET) == first
    with pytest.raises(Unauthenticated):  # under another secret it is verified again
        auth.decode_token(token, secret="another secret")
    assert verified == ["another secret"]
    monkeypatch.setattr(auth.time, "time", lambda: datetime.now(UTC).timestamp() + 61)
    with pytest.raises(Unauthenticated, match="expired"):
        auth.decode_token(token, secret=SECRET)
    assert verified == ["another secret", SECRET]
