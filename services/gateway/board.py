"""The board: a small web front end at /app (plain ES modules in board/, no build step)
that uses the public REST API only; `config.json` tells it where the Temporal UI is."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

BOARD_DIR = Path(__file__).parent / "board"


def install(app: FastAPI) -> None:
    @app.get("/app/config.json", include_in_schema=False)
    async def board_config(request: Request) -> dict[str, str]:
        settings = request.app.state.settings
        return {
            "temporal_ui": settings.temporal_ui_url.rstrip("/"),
            "namespace": settings.temporal_namespace,
        }

    @app.get("/app", include_in_schema=False)
    async def board_root() -> RedirectResponse:
        return RedirectResponse("/app/")

    app.mount("/app", StaticFiles(directory=BOARD_DIR, html=True), name="board")
