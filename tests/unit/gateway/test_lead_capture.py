"""POST /lead-capture: a leads-only API token (which may do nothing else), the honeypot,
the per-token rate limit (on an injected clock), duplicates and excluded senders."""

from __future__ import annotations

from typing import Any

from dealflow.deals.v1 import access_pb2, crm_pb2

from services.gateway.window_limit import WindowLimiter
from tests.unit.gateway.conftest import USER_ID, FakeStub, World

FORM = {"name": "Vera", "email": "vera@client.example", "message": "A stand, please"}
TOKEN = {"Authorization": "Bearer dfk_forms"}


def with_crm(world: World, *, scopes: tuple[str, ...] = ("leads",)) -> FakeStub:
    world.deals.answers["VerifyApiToken"] = access_pb2.ApiToken(
        id="9", user_id=str(USER_ID), name="site forms", scopes=list(scopes)
    )
    crm = FakeStub()
    world.app.state.clients.crm = crm
    crm.answers["CaptureLead"] = crm_pb2.CaptureLeadResponse(
        lead=crm_pb2.Lead(id="31"), contact_id="12"
    )
    return crm


async def test_a_leads_token_creates_leads_and_nothing_else(world: World) -> None:
    crm = with_crm(world)
    made = await world.http.post("/api/v1/lead-capture", json=FORM, headers=TOKEN)
    assert made.status_code == 201, made.text
    assert made.json() == {"lead_id": 31, "contact_id": 12, "duplicate": False}
    (call,) = crm.called("CaptureLead")
    assert (call.request.email, call.request.message) == ("vera@client.example", "A stand, please")
    assert ("x-actor-id", str(USER_ID)) in call.metadata

    for method, path in (("GET", "/api/v1/leads"), ("POST", "/api/v1/leads")):
        refused = await world.http.request(method, path, json={}, headers=TOKEN)
        assert refused.status_code == 403, path
        assert "may only create leads" in refused.json()["detail"]


async def test_a_read_token_may_not_capture(world: World) -> None:
    crm = with_crm(world, scopes=("read",))
    refused = await world.http.post("/api/v1/lead-capture", json=FORM, headers=TOKEN)
    assert refused.status_code == 403
    assert crm.called("CaptureLead") == []


async def test_the_honeypot_is_answered_as_if_taken_and_stores_nothing(world: World) -> None:
    crm = with_crm(world)
    bot = await world.http.post(
        "/api/v1/lead-capture", json={**FORM, "website": "http://spam"}, headers=TOKEN
    )
    assert bot.status_code == 202
    assert bot.json() == {"lead_id": None, "contact_id": None, "duplicate": False}
    assert crm.called("CaptureLead") == []


async def test_a_duplicate_joins_the_open_lead_and_an_excluded_sender_is_dropped(
    world: World,
) -> None:
    crm = with_crm(world)
    crm.answers["CaptureLead"] = crm_pb2.CaptureLeadResponse(
        lead=crm_pb2.Lead(id="31"), contact_id="12", duplicate=True
    )
    again = await world.http.post("/api/v1/lead-capture", json=FORM, headers=TOKEN)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    crm.answers["CaptureLead"] = crm_pb2.CaptureLeadResponse(excluded=True)
    dropped = await world.http.post("/api/v1/lead-capture", json=FORM, headers=TOKEN)
    assert (dropped.status_code, dropped.json()["lead_id"]) == (202, None)


async def test_each_token_is_rate_limited_on_its_own(world: World) -> None:
    crm = with_crm(world)
    now = [1000.0]
    world.app.state.lead_capture_limiter = WindowLimiter(2, window=60, clock=lambda: now[0])
    statuses = [
        (await world.http.post("/api/v1/lead-capture", json=FORM, headers=TOKEN)).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    limited = await world.http.post("/api/v1/lead-capture", json=FORM, headers=TOKEN)
    assert limited.headers["Retry-After"] == "60"
    other: dict[str, Any] = {"Authorization": "Bearer dfk_other"}
    assert (
        await world.http.post("/api/v1/lead-capture", json=FORM, headers=other)
    ).status_code == 201
    now[0] += 60.5
    assert (
        await world.http.post("/api/v1/lead-capture", json=FORM, headers=TOKEN)
    ).status_code == 201
    assert len(crm.called("CaptureLead")) == 4


def test_the_window_counts_only_the_last_minute() -> None:
    now = [0.0]
    limiter = WindowLimiter(3, window=60, clock=lambda: now[0])
    assert [limiter.take("t") for _ in range(3)] == [None, None, None]
    now[0] = 59.0
    assert limiter.take("t") == 1.0
    now[0] = 60.0
    assert limiter.take("t") is None  # the first call left the window
    assert limiter.take("u") is None
