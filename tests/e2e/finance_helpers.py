"""Shared steps of the finance scenarios: users, a deal, an issued invoice, events."""

from __future__ import annotations

import time
from typing import Any

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from deploy.local.stack import Stack
from services.common.events import Envelope
from tests.e2e.conftest import eventually, login
from tests.e2e.test_deals_flow import create_user, sales_pipeline


async def people(stack: Stack, admin: httpx.AsyncClient, *roles: str) -> list[Any]:
    """(user, signed-in client) per role."""
    out = []
    for role in roles:
        user = await create_user(admin, role)
        out.append((user, await login(stack.gateway_url, user["email"], user["password"])))
    return out


async def deal_of(admin: httpx.AsyncClient, manager: httpx.AsyncClient, title: str) -> Any:
    pipeline = await sales_pipeline(admin)
    resp = await manager.post("/deals", json={"pipeline_id": pipeline["id"], "title": title})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def issued_invoice(
    manager: httpx.AsyncClient, accountant: httpx.AsyncClient, deal_id: int, lines: list[Any]
) -> Any:
    resp = await manager.post(
        "/invoices",
        json={"deal_id": deal_id, "counterparty": "Acme LLC", "currency": "RUB", "lines": lines},
    )
    assert resp.status_code == 201, resp.text
    draft = resp.json()
    assert draft["status"] == "draft"
    resp = await accountant.post(
        f"/invoices/{draft['id']}/issue",
        json={
            "number": f"SM-{draft['id']}-{time.time_ns()}",
            "due_date": "2026-12-15",
            "file": f"files/invoice-{draft['id']}.pdf",
        },
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


async def finance_events(nats_url: str, subject: str, type_: str, count: int) -> list[Envelope]:
    """At least `count` events of a type for a subject on JetStream (waits for them), then
    whatever else arrives within a second, so a duplicate would be seen."""
    nc = await nats.connect(nats_url)
    found: list[Envelope] = []
    try:
        sub = await nc.jetstream().pull_subscribe(
            type_, stream="FINANCE", config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )

        async def fetch() -> bool:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
                return len(found) >= count
            for msg in msgs:
                event = Envelope.from_json(msg.data)
                if event.subject == subject:
                    found.append(event)
                await msg.ack()
            return False

        await eventually(fetch, what=f"{count} {type_} events for {subject}")
        return found
    finally:
        await nc.close()
