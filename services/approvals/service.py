"""Approval requests of a deal (read side; chains land with their issue)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.approvals.tables import requests
from services.common.pagination import Page, decode_cursor, encode_cursor


@dataclass(frozen=True)
class ApprovalRequest:
    id: int
    deal_id: int
    template_code: str
    status: str


class ApprovalsService:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list_requests(
        self, *, deal_id: int | None, cursor: str = "", limit: int = 50
    ) -> Page[ApprovalRequest]:
        """Requests newest first, optionally of one deal."""
        query = sa.select(requests).order_by(requests.c.id.desc()).limit(limit + 1)
        if deal_id is not None:
            query = query.where(requests.c.deal_id == deal_id)
        if cursor:
            query = query.where(requests.c.id < decode_cursor(cursor))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        items = [ApprovalRequest(r.id, r.deal_id, r.template_code, r.status) for r in rows]
        return Page.of(items, limit, key=lambda r: r.id)


__all__ = ["ApprovalRequest", "ApprovalsService", "encode_cursor"]
