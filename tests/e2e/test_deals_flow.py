"""Deals end to end through the gateway: pipeline, fields, deal, a move refused for a
missing required field, the move after filling it, timeline, notification, NATS event."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from deploy.local.stack import Stack
from services.common.events import Envelope
from tests.e2e.conftest import eventually, login, problem


async def create_user(admin: httpx.AsyncClient, *roles: str) -> dict[str, Any]:
    email = f"{roles[0]}-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery"
    resp = await admin.post(
        "/users",
        json={
            "email": email,
            "name": email.split("@")[0],
            "password": password,
            "roles": list(roles),
        },
    )
    assert resp.status_code == 201, resp.text
    return {**resp.json(), "email": email, "password": password}


async def sales_pipeline(admin: httpx.AsyncClient) -> dict[str, Any]:
    resp = await admin.post(
        "/pipelines",
        json={
            "name": f"Sales {uuid.uuid4().hex[:6]}",
            "stages": [
                {"name": "New", "semantic": "in_progress"},
                {"name": "Contract", "semantic": "in_progress"},
                {"name": "Won", "semantic": "won"},
                {"name": "Lost", "semantic": "lost"},
            ],
        },
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def test_deal_lifecycle_through_the_gateway(stack: Stack, admin: httpx.AsyncClient) -> None:
    pipeline = await sales_pipeline(admin)
    new, contract = pipeline["stages"][0]["id"], pipeline["stages"][1]["id"]
    resp = await admin.post(
        f"/pipelines/{pipeline['id']}/fields",
        json={"code": "inn", "name": "INN", "type": "string", "required_on_stages": [contract]},
    )
    assert resp.status_code == 201, resp.text

    manager = await create_user(admin, "manager")
    as_manager = await login(stack.gateway_url, manager["email"], manager["password"])
    resp = await as_manager.post(
        "/deals",
        json={"pipeline_id": pipeline["id"], "title": "Pens for Acme", "amount": "1500.50"},
    )
    assert resp.status_code == 201, resp.text
    deal = resp.json()
    assert deal["stage_id"] == new and deal["version"] >= 1
    assert deal["responsible_id"] == manager["id"]

    resp = await as_manager.post(f"/deals/{deal['id']}/move", json={"stage_id": contract})
    assert resp.status_code == 422
    assert [e["field"] for e in problem(resp)["errors"]] == ["fields.inn"]

    resp = await as_manager.patch(
        f"/deals/{deal['id']}",
        json={"fields": {"inn": "7707083893"}},
        headers={"If-Match": str(deal["version"])},
    )
    assert resp.status_code == 200, resp.text
    resp = await as_manager.patch(
        f"/deals/{deal['id']}", json={"title": "stale"}, headers={"If-Match": str(deal["version"])}
    )
    assert resp.status_code == 409, "a stale version must be refused"

    resp = await as_manager.post(f"/deals/{deal['id']}/move", json={"stage_id": contract})
    assert resp.status_code == 200, resp.text
    assert resp.json()["stage_id"] == contract

    timeline = (await as_manager.get(f"/deals/{deal['id']}/timeline")).json()["items"]
    kinds = [entry["kind"] for entry in timeline]
    assert "stage_changed" in kinds and "created" in kinds

    async def notified() -> list[dict[str, Any]]:
        items = (await as_manager.get("/notifications")).json()["items"]
        return [n for n in items if str(n.get("deal_id")) == str(deal["id"])]

    await eventually(notified, what="a notification for the responsible manager")

    event = await stage_changed_event(stack.nats_url, deal["id"])
    assert event.data["before"]["stage_id"] == str(new)
    assert event.data["after"]["stage_id"] == str(contract)
    assert event.data["seconds_in_previous_stage"] >= 0
    assert event.actor == str(manager["id"])
    await as_manager.aclose()


async def stage_changed_event(nats_url: str, deal_id: int) -> Envelope:
    """The deal's stage_changed event as a JetStream consumer sees it."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            "deals.deal.stage_changed",
            stream="DEALS",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )

        async def found() -> Envelope | None:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
                return None
            for msg in msgs:
                event = Envelope.from_json(msg.data)
                assert msg.headers and msg.headers.get("Nats-Msg-Id") == str(event.id)
                if event.subject == f"deal/{deal_id}":
                    return event
            return None

        return await eventually(found, what="the stage_changed event on JetStream")
    finally:
        await nc.close()


async def test_admin_lists_drive_lookups(admin: httpx.AsyncClient) -> None:
    code = f"directions_{uuid.uuid4().hex[:6]}"
    operator = await create_user(admin, "operator")
    resp = await admin.post(
        "/lists",
        json={
            "code": code,
            "name": "Shipping directions",
            "columns": [
                {"code": "direction", "name": "Direction", "type": "string"},
                {"code": "operator", "name": "Operator", "type": "user"},
            ],
        },
    )
    assert resp.status_code == 201, resp.text
    assert code in [item["code"] for item in (await admin.get("/lists")).json()]
    resp = await admin.post(
        f"/lists/{code}/items", json={"values": {"direction": "North", "operator": operator["id"]}}
    )
    assert resp.status_code == 201, resp.text
    item = resp.json()
    resp = await admin.patch(
        f"/lists/{code}/items/{item['id']}", json={"values": {"direction": "North-West"}}
    )
    assert resp.status_code == 200, resp.text
    rows = (await admin.get(f"/lists/{code}/items")).json()["items"]
    assert [r["values"]["direction"] for r in rows] == ["North-West"]
    resp = await admin.post(f"/lists/{code}/items", json={"values": {"colour": "red"}})
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"].endswith("colour")
