"""Idempotency-Key through the real middleware over the in-memory store: a retry replays
the first answer (errors included) and calls no service again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.common.errors import FieldProblem, ValidationFailed
from services.common.grpc_client import ServiceUnavailable
from services.gateway.auth import Principal, issue_token
from services.gateway.idempotency import fingerprint, install
from services.gateway.idempotency_store import KeyScope, MemoryStore, StoreUnavailable
from services.gateway.settings import GatewaySettings
from tests.unit.gateway.conftest import ADMIN_ID, SECRET, World, deal_msg

DEAL = {"pipeline_id": 3, "title": "Cement for Alfa"}


def keyed(world: World, key: str, user_id: int = 7) -> dict[str, str]:
    return {**world.auth(user_id), "Idempotency-Key": key}


async def test_retry_with_the_same_key_replays_the_first_answer(world: World) -> None:
    world.deals.answers["CreateDeal"] = deal_msg(version=1)

    first = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-1"))
    world.deals.answers["CreateDeal"] = deal_msg(id="43", version=1)  # a second create would differ
    again = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-1"))

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(world.deals.called("CreateDeal")) == 1


async def test_the_same_json_in_another_layout_is_the_same_request(world: World) -> None:
    world.deals.answers["CreateDeal"] = deal_msg(version=1)
    headers = {**keyed(world, "k-2"), "Content-Type": "application/json"}

    await world.http.post(
        "/api/v1/deals", content=b'{"pipeline_id":3,"title":"T"}', headers=headers
    )
    again = await world.http.post(
        "/api/v1/deals", content=b'{ "title": "T",\n "pipeline_id": 3 }', headers=headers
    )

    assert again.status_code == 201
    assert len(world.deals.called("CreateDeal")) == 1


async def test_same_key_with_another_body_is_422(world: World) -> None:
    world.deals.answers["CreateDeal"] = deal_msg(version=1)
    await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-3"))

    other = await world.http.post(
        "/api/v1/deals", json={**DEAL, "title": "Other"}, headers=keyed(world, "k-3")
    )

    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(world.deals.called("CreateDeal")) == 1


async def test_errors_are_replayed_too(world: World) -> None:
    world.deals.answers["CreateDeal"] = ValidationFailed(FieldProblem("title", "is too long"))
    first = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-4"))
    world.deals.answers["CreateDeal"] = deal_msg(version=1)

    again = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-4"))

    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/problem+json"
    assert len(world.deals.called("CreateDeal")) == 1


async def test_a_503_is_not_kept_so_the_retry_runs(world: World) -> None:
    world.deals.answers["CreateDeal"] = ServiceUnavailable("deals is down")
    first = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-5"))
    world.deals.answers["CreateDeal"] = deal_msg(version=1)

    again = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-5"))

    assert (first.status_code, again.status_code) == (503, 201)
    assert len(world.deals.called("CreateDeal")) == 2


async def test_keys_are_per_user(world: World) -> None:
    world.deals.answers["CreateDeal"] = deal_msg(version=1)

    mine = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-6", 7))
    theirs = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-6", 8))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert len(world.deals.called("CreateDeal")) == 2


async def test_concurrent_requests_with_one_key_make_one_result() -> None:
    """Five at once: one runs (slowly), four wait for its answer and replay it."""
    release = asyncio.Event()
    runs = 0

    async def slow_create(request: Request) -> JSONResponse:
        nonlocal runs
        runs += 1
        await release.wait()
        return JSONResponse({"id": runs}, status_code=201)

    app = FastAPI()
    app.post("/api/v1/things")(slow_create)
    settings = GatewaySettings(jwt_secret=SECRET)
    install(app, settings, MemoryStore())
    token = issue_token(Principal(7, frozenset()), secret=SECRET, minutes=5)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k-7"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        posts = [
            asyncio.create_task(http.post("/api/v1/things", json={"a": 1}, headers=headers))
            for _ in range(5)
        ]
        while runs == 0:  # the first is running; the others are polling the store
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        release.set()
        replies = await asyncio.gather(*posts)

    assert [r.status_code for r in replies] == [201] * 5
    assert {r.text for r in replies} == {'{"id":1}'}
    assert sum("idempotent-replayed" in r.headers for r in replies) == 4
    assert runs == 1


async def test_without_a_key_every_post_runs(world: World) -> None:
    world.deals.answers["CreateDeal"] = deal_msg(version=1)

    for _ in range(2):
        await world.http.post("/api/v1/deals", json=DEAL, headers=world.auth())

    assert len(world.deals.called("CreateDeal")) == 2


async def test_a_malformed_key_is_422(world: World) -> None:
    reply = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "x" * 256))

    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "Idempotency-Key"
    assert world.deals.calls == []


async def test_without_a_valid_token_the_route_answers_401(world: World) -> None:
    reply = await world.http.post(
        "/api/v1/deals", json=DEAL, headers={"Idempotency-Key": "k-8", "Authorization": "Bearer x"}
    )

    assert reply.status_code == 401


async def test_an_unreachable_store_answers_503_and_runs_nothing(world: World) -> None:
    async def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("the idempotency store is unavailable")

    store = _memory_store(world)
    store.claim = down  # type: ignore[method-assign]
    reply = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-9"))

    assert reply.status_code == 503
    assert reply.headers["retry-after"] == "7"
    assert reply.headers["content-type"] == "application/problem+json"
    assert world.deals.calls == []


async def test_a_key_expires_after_its_ttl(world: World) -> None:
    world.deals.answers["CreateDeal"] = deal_msg(version=1)
    store = _memory_store(world)
    await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-10"))

    later = store.now() + store.ttl + timedelta(seconds=1)
    store.now = lambda: later
    await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-10"))

    assert store.ttl >= timedelta(hours=24)
    assert len(world.deals.called("CreateDeal")) == 2


async def test_a_dead_owner_s_key_is_taken_over_after_its_lease(world: World) -> None:
    world.deals.answers["CreateDeal"] = deal_msg(version=1)
    store = _memory_store(world)
    where = KeyScope("user:7", "POST", "/api/v1/deals", "k-11")
    print_ = fingerprint(b"", b'{"pipeline_id":3,"title":"Cement for Alfa"}')
    await store.claim(where, print_, lease=timedelta(seconds=-1))  # an owner that died

    reply = await world.http.post("/api/v1/deals", json=DEAL, headers=keyed(world, "k-11"))

    assert reply.status_code == 201
    assert len(world.deals.called("CreateDeal")) == 1


async def test_an_admin_post_s_domain_error_is_kept(world: World) -> None:
    world.deals.answers["CreateList"] = ValidationFailed(FieldProblem("code", "taken"))
    headers = {**world.auth(ADMIN_ID, admin=True), "Idempotency-Key": "k-12"}
    body = {"code": "x", "name": "X", "columns": [{"code": "op", "name": "Operator"}]}
    first = await world.http.post("/api/v1/lists", json=body, headers=headers)
    again = await world.http.post("/api/v1/lists", json=body, headers=headers)

    assert first.status_code == again.status_code == 422
    assert len(world.deals.called("CreateList")) == 1


async def test_openapi_documents_the_header_on_every_creating_post(world: World) -> None:
    schema = (await world.http.get("/openapi.json")).json()

    posts = {
        path: ops["post"]
        for path, ops in schema["paths"].items()
        if "post" in ops and path != "/api/v1/auth/token"
    }
    assert "/api/v1/deals" in posts
    for path, post in posts.items():
        names = [p["name"] for p in post.get("parameters", [])]
        assert "Idempotency-Key" in names, path
    token = schema["paths"]["/api/v1/auth/token"]["post"]
    assert "Idempotency-Key" not in [p["name"] for p in token.get("parameters", [])]


def _memory_store(world: World) -> MemoryStore:
    store = world.app.state.idempotency_store
    assert isinstance(store, MemoryStore)
    return store
