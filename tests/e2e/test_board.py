"""The board (/app) and the API docs (/docs) in a real browser against the whole stack,
offline from everything but the stack: SM-2 done entirely through the board (the manager
signs in, creates the deal, starts the process and answers its tasks; the head of sales
confirms), a refused drag showing the missing field on the card; a deal moved by someone
else moving on an open board (live events); line items edited on the card, a 422 in its
row; the chat; the funnel's counts opening exactly their drill-down lists; the docs
rendering their operations. Screenshots go to a scratch folder, or to the README's with
BOARD_SCREENSHOTS=docs/board."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from deploy.local.stack import Stack
from tests.e2e.board_pages import answer, new_deal, sign_in, task_form
from tests.e2e.browser import chromium, offline_context
from tests.e2e.conftest import login
from tests.e2e.test_blueprints import BLUEPRINTS, YAML

# The screenshots go to a scratch folder, so `make test` leaves the tree clean;
# BOARD_SCREENSHOTS=docs/board refreshes the README's.
SHOTS = Path(os.environ.get("BOARD_SCREENSHOTS") or tempfile.mkdtemp(prefix="board-shots-"))
SHOTS.mkdir(parents=True, exist_ok=True)
MANAGER = ("anna@agency.example", "dealflow-demo")
HEAD = ("head.sales@agency.example", "dealflow-demo")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


@pytest.fixture
async def agency(blueprint_admin: httpx.AsyncClient) -> httpx.AsyncClient:
    resp = await blueprint_admin.post(
        "/blueprints", content=(BLUEPRINTS / "ad-agency.yaml").read_bytes(), headers=YAML
    )
    assert resp.status_code == 200, resp.text
    return blueprint_admin


async def test_sm_2_sample_return_through_the_board(
    blueprint_stack: Stack, agency: httpx.AsyncClient, browser: Browser
) -> None:
    base = blueprint_stack.gateway_url
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, offline = await offline_context(browser, base, viewport={"width": 1400, "height": 900})
    page = offline.watch(await context.new_page())
    await sign_in(page, base, MANAGER)
    deal_id = await new_deal(page, "Samples for Acme")

    await page.get_by_label("Start a process").select_option("sample_return")
    back_by = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
    await page.get_by_label("return_by").fill(back_by)
    await page.get_by_role("button", name="Start").click()
    await expect(
        page.locator(f'[data-workflow-id="deal-{deal_id}/sample-return/1"]')
    ).to_be_visible(timeout=20_000)
    ui_link = page.get_by_role("link", name=f"deal-{deal_id}/sample-return/1 in the Temporal UI")
    assert "/namespaces/default/workflows/" in (await ui_link.get_attribute("href") or "")

    today = datetime.now(UTC).date().isoformat()
    form = await task_form(page, "sample_return.hand_over")
    await page.screenshot(path=SHOTS / "my-tasks.png", full_page=True)
    await answer(form, "handed", **{"Handed on": today})
    await answer(await task_form(page, "sample_return.control"), "returned")

    head = await context.browser.new_context()  # type: ignore[union-attr]
    await head.route("**/*", offline.handle)
    head_page = await head.new_page()
    await sign_in(head_page, base, HEAD)
    await answer(await task_form(head_page, "sample_return.confirm"), "confirmed")
    await head.close()

    form = await task_form(page, "sample_return.send_back")
    await answer(form, "sent", **{"Sent on": today, "Tracking": "CDEK 123"})

    async def completed() -> bool:
        run = (
            await agency.get(f"/deals/{deal_id}/processes/deal-{deal_id}/sample-return/1")
        ).json()
        return bool(run.get("status") == "completed")

    deadline = time.monotonic() + 20
    while not await completed():
        assert time.monotonic() < deadline, "the process did not complete"
        await asyncio.sleep(0.3)
    await page.goto(f"{base}/app/#/deals/{deal_id}")
    timeline = page.get_by_role("list", name="Timeline")
    await expect(timeline).to_contain_text("sent back", ignore_case=True)
    await page.screenshot(path=SHOTS / "deal-card.png", full_page=True)
    assert offline.refused == [], offline.refused
    await context.close()


async def test_a_refused_drag_shows_the_missing_field(
    blueprint_stack: Stack, agency: httpx.AsyncClient, browser: Browser
) -> None:
    base = blueprint_stack.gateway_url
    context, offline = await offline_context(browser, base, viewport={"width": 1400, "height": 900})
    page = offline.watch(await context.new_page())
    await sign_in(page, base, MANAGER)
    await new_deal(page, "Pens without an INN")
    await page.get_by_role("link", name="← Sales").click()

    card = page.locator("li.card", has_text="Pens without an INN")
    contract = page.locator("section.column", has=page.get_by_role("heading", name="Contract"))
    # from the card's title strip (its stage picker is a control of its own)
    await card.drag_to(contract.locator(".cards"), source_position={"x": 8, "y": 6})
    await expect(card.get_by_role("alert")).to_contain_text("fields.client_inn")
    await expect(page.locator("section.column", has_text="New").first).to_contain_text(
        "Pens without an INN"
    )
    await expect(card.get_by_role("alert")).to_contain_text("Client INN")
    await page.screenshot(path=SHOTS / "board-refused-move.png")

    # With the INN filled on the deal's card, the same drag moves it.
    await card.get_by_role("link", name="Pens without an INN").click()
    await page.get_by_text("Edit fields").click()
    await page.get_by_label("Client INN").fill("7701234567")
    await page.get_by_role("button", name="Save fields").click()
    await expect(page.locator("dl.fields")).to_contain_text("7701234567")
    back = page.get_by_role("link", name="← Sales")
    await expect(back, f"the page said: {offline.troubles}").to_be_visible()
    await back.click()
    await card.drag_to(contract.locator(".cards"), source_position={"x": 8, "y": 6})
    await expect(contract).to_contain_text("Pens without an INN")
    await expect(card.get_by_role("alert")).to_have_count(0)

    # The keyboard way: the card's stage picker.
    await card.get_by_label("Stage of Pens without an INN").select_option(label="Clarifying")
    await card.get_by_role("button", name="Move").click()
    clarifying = page.locator("section.column", has=page.get_by_role("heading", name="Clarifying"))
    await expect(clarifying).to_contain_text("Pens without an INN")

    phone, _ = await offline_context(browser, base, viewport={"width": 390, "height": 844})
    small = await phone.new_page()
    await sign_in(small, base, MANAGER)
    await small.get_by_label("Pipeline").select_option(label="Sales")
    await expect(small.get_by_role("heading", name="Sales", exact=True, level=1)).to_be_visible()
    await expect(small.locator("li.card", has_text="Pens without an INN")).to_be_visible()
    await small.screenshot(path=SHOTS / "board-phone.png")
    await phone.close()
    assert offline.refused == [], offline.refused
    await context.close()


async def sales(client: httpx.AsyncClient) -> dict[str, Any]:
    pipelines = (await client.get("/pipelines")).json()
    return next(p for p in pipelines if p["name"] == "Sales")


def stage_id(pipeline: dict[str, Any], name: str) -> int:
    return int(next(s["id"] for s in pipeline["stages"] if s["name"] == name))


async def test_a_deal_moved_by_someone_else_moves_on_an_open_board(
    blueprint_stack: Stack, agency: httpx.AsyncClient, browser: Browser
) -> None:
    base = blueprint_stack.gateway_url
    manager, head = await login(base, *MANAGER), await login(base, *HEAD)
    pipeline = await sales(manager)
    made = await manager.post(
        "/deals", json={"pipeline_id": pipeline["id"], "title": "Mugs for Gamma"}
    )
    assert made.status_code == 201, made.text
    deal_id = made.json()["id"]
    context, offline = await offline_context(browser, base, viewport={"width": 1400, "height": 900})
    page = offline.watch(await context.new_page())
    await sign_in(page, base, MANAGER)
    await page.get_by_label("Pipeline").select_option(label="Sales")
    card = page.locator("li.card", has_text="Mugs for Gamma")
    new = page.locator("section.column", has=page.get_by_role("heading", name="New"))
    await expect(new.locator(".cards")).to_contain_text("Mugs for Gamma")
    await expect(page.locator('body[data-live="ready"]')).to_have_count(1)

    moved = await head.post(
        f"/deals/{deal_id}/move", json={"stage_id": stage_id(pipeline, "Clarifying")}
    )
    assert moved.status_code == 200, moved.text
    clarifying = page.locator("section.column", has=page.get_by_role("heading", name="Clarifying"))
    await expect(clarifying.locator(".cards")).to_contain_text("Mugs for Gamma")
    await expect(card.get_by_label("Stage of Mugs for Gamma")).to_have_value(
        str(stage_id(pipeline, "Clarifying"))
    )
    await page.screenshot(path=SHOTS / "board-live.png")

    # The open card follows too: the head's move and the head's chat message show on it.
    await card.get_by_role("link", name="Mugs for Gamma").click()
    await expect(page.get_by_role("heading", name="Mugs for Gamma")).to_be_visible()
    back = await head.post(f"/deals/{deal_id}/move", json={"stage_id": stage_id(pipeline, "New")})
    assert back.status_code == 200, back.text
    await expect(page.get_by_text("Stage: New")).to_be_visible()
    posted = await head.post(f"/deals/{deal_id}/chat", json={"body": "Anna, call them today"})
    assert posted.status_code == 201, posted.text
    await expect(page.get_by_role("list", name="Chat messages")).to_contain_text(
        "Anna, call them today"
    )
    product = {"code": f"MUG-{time.time_ns()}", "name": "Mug", "type": "mug", "price": "100"}
    made_product = await agency.post("/products", json=product)
    assert made_product.status_code == 201, made_product.text
    items = [{"product_id": made_product.json()["id"], "quantity": "2"}]
    assert (await head.put(f"/deals/{deal_id}/items", json={"items": items})).status_code == 200
    await expect(page.locator('[data-total="net"]')).to_have_text("200.00")
    assert offline.refused == [], offline.refused
    await context.close()
    await manager.aclose()
    await head.aclose()


async def test_line_items_and_the_chat_on_the_deal_card(
    blueprint_stack: Stack, agency: httpx.AsyncClient, browser: Browser
) -> None:
    base = blueprint_stack.gateway_url
    product = {"code": f"PEN-{time.time_ns()}", "name": "Pen with a logo", "type": "pen",
               "price": "25.00", "currency": "RUB", "vat_rate": "20"}  # fmt: skip
    assert (await agency.post("/products", json=product)).status_code == 201
    context, offline = await offline_context(browser, base, viewport={"width": 1400, "height": 900})
    page = offline.watch(await context.new_page())
    await sign_in(page, base, MANAGER)
    deal_id = await new_deal(page, "Pens for Beta")

    await page.get_by_text("Add a line").click()
    await page.get_by_label("Product of the new line").select_option(
        label="Pen with a logo (25.00 RUB)"
    )
    await page.get_by_label("Quantity of the new line").fill("10")
    await page.get_by_role("button", name="Add line").click()
    total = page.locator('[data-total="total"]')
    await expect(total).to_have_text("300.00")  # 10 × 25.00 + 20 % VAT

    quantity = page.get_by_label("Quantity of row 1 (Pen with a logo)")
    await quantity.fill("0")
    await page.get_by_role("button", name="Save line items").click()
    row = page.locator('tr[data-position="1"]')
    await expect(row.get_by_role("alert")).to_contain_text("items[0].quantity")
    await expect(quantity).to_have_attribute("aria-invalid", "true")
    await quantity.fill("12")
    await page.get_by_label("Discount of row 1 (Pen with a logo)").fill("10")
    await page.get_by_role("button", name="Save line items").click()
    await expect(total).to_have_text("348.00")  # (12 × 25.00 − 10.00) + 20 % VAT
    await expect(row.get_by_role("alert")).to_have_count(0)
    lines = (await agency.get(f"/deals/{deal_id}/items")).json()
    assert lines["totals"]["total"] == "348.00", lines
    await expect(page.get_by_text("348.00 RUB")).to_be_visible()  # the deal's amount, live

    await page.get_by_label("Message", exact=True).fill("Layout v1 is ready")
    await page.get_by_role("button", name="Post", exact=True).click()
    messages = page.get_by_role("list", name="Chat messages")
    await expect(messages).to_contain_text("Layout v1 is ready")
    await expect(messages).to_contain_text("Anna Kuznetsova")
    chat = (await agency.get(f"/deals/{deal_id}/chat")).json()
    assert chat["items"][0]["body"] == "Layout v1 is ready", chat

    # The folder: a file in its root, one in a sub-folder (opened on demand).
    layouts = await agency.post(f"/deals/{deal_id}/folder/folders", json={"name": "Layouts"})
    assert layouts.status_code == 201, layouts.text
    for name, folder in (("brief.pdf", None), ("layout-v1.pdf", layouts.json()["id"])):
        data = {"deal_id": str(deal_id)} | ({"folder_id": str(folder)} if folder else {})
        files = {"file": (name, b"%PDF-1.4 a test", "application/pdf")}
        assert (await agency.post("/files", data=data, files=files)).status_code == 201
    await page.reload()
    folder = page.get_by_role("region", name="Files")
    await expect(folder.get_by_role("link", name="brief.pdf")).to_be_visible()
    await folder.get_by_text("Layouts").click()
    await expect(folder.get_by_role("link", name="layout-v1.pdf")).to_be_visible()
    await page.screenshot(path=SHOTS / "deal-items-chat.png", full_page=True)
    assert offline.refused == [], offline.refused
    await context.close()


async def test_a_funnel_count_opens_exactly_its_drill_down(
    blueprint_stack: Stack, agency: httpx.AsyncClient, browser: Browser
) -> None:
    base = blueprint_stack.gateway_url
    manager = await login(base, *MANAGER)
    pipeline = await sales(manager)
    for title in ("Caps for Delta", "Bags for Epsilon"):
        made = (
            await manager.post("/deals", json={"pipeline_id": pipeline["id"], "title": title})
        ).json()
        moved = await manager.post(
            f"/deals/{made['id']}/move", json={"stage_id": stage_id(pipeline, "Clarifying")}
        )
        assert moved.status_code == 200, moved.text
    today = datetime.now(UTC).date()
    period = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
    report = (
        await manager.get("/reports/funnel", params={"pipeline_id": pipeline["id"], **period})
    ).json()
    new = next(s for s in report["stages"] if s["name"] == "New")
    href = new["moved_on"]["href"]
    expected = [
        d["title"] for d in (await manager.get(href.removeprefix("/api/v1"))).json()["items"]
    ]
    assert {"Caps for Delta", "Bags for Epsilon"} <= set(expected)

    context, offline = await offline_context(browser, base, viewport={"width": 1400, "height": 900})
    page = offline.watch(await context.new_page())
    await sign_in(page, base, MANAGER)
    await page.get_by_role("link", name="Funnel", exact=True).click()
    # (the board stays shown, with its own Pipeline picker, until the report has loaded)
    await expect(page.get_by_role("heading", name="Funnel:")).to_be_visible()
    await page.get_by_label("Pipeline").select_option(label="Sales")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("heading", name="Funnel: Sales")).to_be_visible()
    await page.screenshot(path=SHOTS / "funnel.png", full_page=True)
    link = page.get_by_role("link", name=f"New, moved on: {new['moved_on']['deals']} deals")
    await link.click()
    rows = page.get_by_role("list", name="Deals behind the count").get_by_role("link")
    await expect(rows).to_have_text(expected)
    assert page.url.endswith("#/reports/deals?" + href.split("?", 1)[1])
    await rows.filter(has_text="Caps for Delta").click()
    await expect(page.get_by_role("heading", name="Caps for Delta")).to_be_visible()
    assert offline.refused == [], offline.refused
    await context.close()
    await manager.aclose()


async def test_the_api_docs_render_offline(blueprint_stack: Stack, browser: Browser) -> None:
    base = blueprint_stack.gateway_url
    context, offline = await offline_context(browser, base)
    page = await context.new_page()
    await page.goto(f"{base}/docs")
    operations = page.locator(".opblock")
    await expect(operations.first).to_be_visible(timeout=20_000)
    assert await operations.count() > 50
    await expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/blueprints")
    ).to_be_visible()
    assert offline.refused == [], f"the docs asked for {offline.refused}"
    await context.close()
