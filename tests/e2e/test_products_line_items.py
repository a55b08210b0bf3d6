"""The product catalogue and a deal's line items end to end: products with characteristics
from admin lists, priced lines with exact totals, the deal's amount following its lines,
and bad rows refused by name with nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from deploy.local.stack import Stack
from services.common.events import Envelope
from tests.e2e.conftest import eventually, login, problem
from tests.e2e.test_deals_flow import create_user, sales_pipeline


async def _list(admin: httpx.AsyncClient, code: str, rows: list[dict[str, str]]) -> None:
    columns = [{"code": "value", "name": "Value"}, {"code": "type", "name": "Type"}]
    resp = await admin.post("/lists", json={"code": code, "name": code, "columns": columns})
    assert resp.status_code == 201, resp.text
    for row in rows:
        resp = await admin.post(f"/lists/{code}/items", json={"values": row})
        assert resp.status_code == 201, resp.text


async def make_product(admin: httpx.AsyncClient, **values: Any) -> dict[str, Any]:
    body = {"code": f"P-{uuid.uuid4().hex[:8]}", "name": "Pen", "type": "pen", **values}
    resp = await admin.post("/products", json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def test_products_catalogue(stack: Stack, admin: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:6]
    materials, sizes = f"materials_{tag}", f"sizes_{tag}"
    await _list(
        admin,
        materials,
        [{"value": "cotton", "type": "tshirt"}, {"value": "steel", "type": "mug"}],
    )
    await _list(admin, sizes, [{"value": "XL", "type": ""}])
    shirt = await make_product(
        admin,
        type="tshirt",
        name="T-shirt",
        unit="pcs",
        price="450.00",
        vat_rate="20",
        characteristics={materials: "cotton", sizes: "XL"},
    )
    assert shirt["characteristics"] == {materials: "cotton", sizes: "XL"}
    assert (shirt["price"], shirt["currency"], shirt["vat_rate"]) == ("450.00", "RUB", "20")

    # a material of another type, a list that does not exist, a bad price: each named
    resp = await admin.post(
        "/products",
        json={
            "code": f"X-{tag}",
            "name": "X",
            "type": "tshirt",
            "price": "1.005",
            "characteristics": {materials: "steel", f"nope_{tag}": "a"},
        },
    )
    assert resp.status_code == 422, resp.text
    fields = {e["field"] for e in problem(resp)["errors"]}
    assert fields == {"price"} or fields == {
        f"characteristics.{materials}",
        f"characteristics.nope_{tag}",
    }
    resp = await admin.post(
        "/products",
        json={
            "code": f"X-{tag}",
            "name": "X",
            "type": "tshirt",
            "price": "1.00",
            "characteristics": {materials: "steel", f"nope_{tag}": "a"},
        },
    )
    assert resp.status_code == 422
    assert {e["field"] for e in problem(resp)["errors"]} == {
        f"characteristics.{materials}",
        f"characteristics.nope_{tag}",
    }
    assert (await admin.get("/products", params={"q": f"X-{tag}"})).json()["items"] == []

    resp = await admin.post(
        "/products", json={"code": shirt["code"], "name": "Y", "type": "y", "price": "1"}
    )
    assert resp.status_code == 409, "a product code is unique"

    resp = await admin.patch(f"/products/{shirt['id']}", json={"price": "470.00", "active": False})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["price"], resp.json()["active"]) == ("470.00", False)
    resp = await admin.patch(f"/products/{shirt['id']}", json={"type": "mug"})
    assert resp.status_code == 422, "cotton is not a material of mugs"
    assert (await admin.get(f"/products/{shirt['id']}")).json()["type"] == "tshirt"

    for _ in range(3):
        await make_product(admin, type=f"page_{tag}", price="1.00")
    first = (await admin.get("/products", params={"type": f"page_{tag}", "limit": 2})).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await admin.get(
        "/products", params={"type": f"page_{tag}", "limit": 2, "cursor": first["next_cursor"]}
    )
    assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    inactive = (await admin.get("/products", params={"q": shirt["code"], "active": False})).json()
    assert [p["id"] for p in inactive["items"]] == [shirt["id"]]

    manager = await create_user(admin, "manager")
    as_manager = await login(stack.gateway_url, manager["email"], manager["password"])
    try:
        assert (await as_manager.get(f"/products/{shirt['id']}")).status_code == 200
        resp = await as_manager.patch(f"/products/{shirt['id']}", json={"name": "mine"})
        assert resp.status_code == 403, "only admins change the catalogue"
    finally:
        await as_manager.aclose()


async def test_deal_line_items(stack: Stack, admin: httpx.AsyncClient) -> None:
    pipeline = await sales_pipeline(admin)
    deal = (
        await admin.post(
            "/deals", json={"pipeline_id": pipeline["id"], "title": "Merch", "amount": "1"}
        )
    ).json()
    pens = await make_product(admin, price="12.50", vat_rate="20")
    bags = await make_product(admin, price="99.99", vat_rate="10", unit="pcs")
    usd = await make_product(admin, price="5.00", currency="USD")
    path = f"/deals/{deal['id']}/items"
    assert (await admin.get(path)).json()["items"] == []

    resp = await admin.put(
        path,
        json={
            "items": [
                {"product_id": pens["id"], "quantity": "3", "discount": "5"},
                {
                    "product_id": bags["id"],
                    "quantity": 7,
                    "discount": "15",
                    "discount_type": "percent",
                },
                {"product_id": usd["id"], "quantity": "2", "price": "450.00"},
            ]
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [(x["net"], x["vat"], x["total"]) for x in body["items"]] == [
        ("32.50", "6.50", "39.00"),
        ("594.94", "59.49", "654.43"),
        ("900.00", "0.00", "900.00"),
    ]
    assert body["items"][1]["discount_amount"] == "104.99"
    assert body["items"][0]["product_code"] == pens["code"]
    assert body["totals"] == {
        "currency": "RUB",
        "gross": "1637.43",
        "discount": "109.99",
        "net": "1527.44",
        "vat": "65.99",
        "total": "1593.43",
    }
    card = (await admin.get(f"/deals/{deal['id']}")).json()
    assert card["amount"] == "1593.43", "the deal's amount follows its line items"
    assert (await admin.get(path)).json() == body

    bad_rows = {
        "items": [
            {"product_id": pens["id"], "quantity": "1"},
            {"product_id": pens["id"], "quantity": "-2"},
            {"product_id": pens["id"], "quantity": "2", "discount": "25.01"},
            {"product_id": pens["id"], "quantity": "1", "currency": "USD"},
            {"product_id": usd["id"], "quantity": "1"},
        ]
    }
    resp = await admin.put(path, json=bad_rows)
    assert resp.status_code == 422, resp.text
    assert {e["field"] for e in problem(resp)["errors"]} == {
        "items[1].quantity",
        "items[2].discount",
        "items[3].currency",
        "items[4].price",
    }
    assert (await admin.get(path)).json() == body, "a refused put stores nothing"
    assert (await admin.get(f"/deals/{deal['id']}")).json()["amount"] == "1593.43"

    version = str((await admin.get(f"/deals/{deal['id']}")).json()["version"])
    resp = await admin.patch(
        f"/deals/{deal['id']}", json={"amount": "5"}, headers={"If-Match": version}
    )
    assert resp.status_code == 422
    assert [e["field"] for e in problem(resp)["errors"]] == ["amount"]

    resp = await admin.put(path, json={"items": [{"product_id": pens["id"], "quantity": "1"}]})
    assert resp.json()["totals"]["total"] == "15.00"
    assert (await admin.get(f"/deals/{deal['id']}")).json()["amount"] == "15.00"

    changed = await _event(stack.nats_url, "deals.deal.items_changed", f"deal/{deal['id']}")
    assert changed.data["totals"]["total"] in ("1593.43", "15.00")

    outsider = await create_user(admin, "manager")
    as_outsider = await login(stack.gateway_url, outsider["email"], outsider["password"])
    try:
        assert (await as_outsider.get(path)).status_code == 404
    finally:
        await as_outsider.aclose()


async def _event(nats_url: str, subject: str, record: str) -> Envelope:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            subject, stream="DEALS", config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )

        async def found() -> Envelope | None:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):
                return None
            events = [Envelope.from_json(m.data) for m in msgs]
            return next((e for e in events if e.subject == record), None)

        return await eventually(found, what=f"{subject} of {record}")
    finally:
        await nc.close()
