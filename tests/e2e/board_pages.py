"""The board's pages as the browser tests use them: signing in, a new deal from the board,
an open task's answer form (refreshing My tasks until the process made it), answering it."""

from __future__ import annotations

import asyncio
import time

from playwright.async_api import Page, expect


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
