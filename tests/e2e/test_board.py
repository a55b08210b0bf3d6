"""The board (/app) and the API docs (/docs) in a real browser against the whole stack,
offline from everything but the stack: SM-2 done entirely through the board (the manager
signs in, creates the deal, starts the process and answers its tasks; the head of sales
confirms), a refused drag showing the missing field on the card, the docs rendering their
operations. Screenshots go to docs/board/ (shown in the README)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from deploy.local.stack import Stack
from tests.e2e.browser import chromium, offline_context
from tests.e2e.test_blueprints import BLUEPRINTS, YAML

SHOTS = Path(__file__).parents[2] / "docs" / "board"
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


async def sign_in(page: Page, base: str, who: tuple[str, str]) -> None:
    await page.goto(f"{base}/app/")
    await page.get_by_label("E-mail").fill(who[0])
    await page.get_by_label("Password").fill(who[1])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("navigation", name="Main")).to_be_visible()


async def new_deal(page: Page, title: str) -> str:
    """A deal made with the board's form in the Sales pipeline; its card is shown."""
    await page.get_by_label("Pipeline").select_option(label="Sales")
    # (choosing another pipeline shows its board: wait for it before using its form)
    await expect(page.get_by_role("heading", name="Sales", exact=True, level=1)).to_be_visible()
    await page.get_by_label("Title of a new deal").fill(title)
    await page.get_by_role("button", name="Create deal").click()
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url.rsplit("/", 1)[1]


async def task_form(page: Page, kind: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    """The answer form of my open task of `kind`, refreshing My tasks until it is there
    (the process creates it asynchronously)."""
    await page.get_by_role("link", name="My tasks").click()
    await expect(page.get_by_role("heading", name="My tasks", level=1)).to_be_visible()
    form = page.locator(f'form[data-kind="{kind}"]')
    deadline = time.monotonic() + timeout
    while not await _shown(page, form):
        assert time.monotonic() < deadline, f"no open task {kind}"
        await asyncio.sleep(0.3)
        await page.get_by_role("button", name="Refresh").click()
    return form


async def _shown(page: Page, form) -> bool:  # type: ignore[no-untyped-def]
    await expect(page.locator("[aria-busy]")).to_have_count(0)
    return bool(await form.count())


async def answer(form, outcome: str, **fields: str) -> None:  # type: ignore[no-untyped-def]
    await form.get_by_label("Outcome").select_option(outcome)
    for label, value in fields.items():
        await form.get_by_label(label).fill(value)
    await form.get_by_role("button", name="Answer").click()
    await expect(form.get_by_role("status")).to_have_text(f"Answered: {outcome}")


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
