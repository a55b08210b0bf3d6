"""B1's baseline: a bare FastAPI endpoint doing the row update and the history insert of a
stage move with psycopg directly on the same PostgreSQL (no gRPC hop, no domain rules, no
outbox, no auth). Run as `python -m tests.bench.bare_app PORT CONNINFO`, served by uvicorn
as the gateway is.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

POOL_SIZE = 10  # the deals service's engine pool size

MOVE = """
UPDATE deals.deals SET stage_id = %(stage)s, version = version + 1, updated_at = now(),
       stage_entered_at = now()
 WHERE id = %(id)s
RETURNING id, pipeline_id, stage_id, title, responsible_id, version
"""
CLOSE_VISIT = """
UPDATE deals.stage_history SET left_at = now() WHERE deal_id = %(id)s AND left_at IS NULL
"""
OPEN_VISIT = """
INSERT INTO deals.stage_history (deal_id, stage_id, entered_at) VALUES (%(id)s, %(stage)s, now())
"""


class Move(BaseModel):
    stage_id: int


def make_app(conninfo: str) -> FastAPI:
    pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for _ in range(POOL_SIZE):
            pool.put_nowait(await psycopg.AsyncConnection.connect(conninfo))
        yield
        while not pool.empty():
            await pool.get_nowait().close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/deals/{deal_id}/move")
    async def move(deal_id: int, body: Move) -> dict[str, Any]:
        conn = await pool.get()
        try:
            async with conn.transaction():
                args = {"id": deal_id, "stage": body.stage_id}
                row = await (await conn.execute(MOVE, args)).fetchone()
                if row is None:
                    raise HTTPException(404, "no such deal")
                await conn.execute(CLOSE_VISIT, args)
                await conn.execute(OPEN_VISIT, args)
        finally:
            pool.put_nowait(conn)
        keys = ("id", "pipeline_id", "stage_id", "title", "responsible_id", "version")
        return dict(zip(keys, row, strict=True))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    port, conninfo = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(make_app(conninfo), host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
