"""A real browser for the board's tests: Playwright's bundled driver pointed at Debian's
`chromium` (installed with apt-get when it is missing), kept to the stack's own address:
every request elsewhere is refused and recorded, so a page that needs the internet fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> str:
    """Debian's chromium, installed when missing (the tests run as root on a fresh machine)."""
    found = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if found:
        return found
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    return shutil.which("chromium") or CHROMIUM


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    path = ensure_chromium()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Offline:
    """Requests to anywhere but the stack: refused, and kept for the test to check."""

    allowed: str  # host:port of the gateway
    refused: list[str] = field(default_factory=list)
    # what the pages said went wrong (a failed request, a script error), for a failure's message
    troubles: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("console", lambda m: m.type == "error" and self.troubles.append(m.text))
        page.on("pageerror", lambda e: self.troubles.append(f"script error: {e}"))
        page.on(
            "response",
            lambda r: (
                r.status >= 400 and self.troubles.append(f"{r.status} {r.request.method} {r.url}")
            ),
        )
        return page

    async def handle(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self.allowed or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            self.refused.append(url)
            await route.abort("internetdisconnected")


async def offline_context(
    browser: Browser, gateway_url: str, **options: object
) -> tuple[BrowserContext, Offline]:
    context = await browser.new_context(**options)  # type: ignore[arg-type]
    offline = Offline(urlsplit(gateway_url).netloc)
    await context.route("**/*", offline.handle)
    return context, offline
