"""gRPC method of SM-1's proposals report: the timeline's proposal entries of the deals the
caller sees, added up per manager (services/deals/domain/proposals.py). Mixed into
DealsApi."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
import sqlalchemy as sa
from dealflow.deals.v1 import deals_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.grpc_server import actor_id
from services.common.ids import optional_id
from services.common.protoconv import to_timestamp
from services.deals.domain.proposals import KINDS, ProposalEntry, ProposalRow, period
from services.deals.domain.proposals import proposal_report as add_up
from services.deals.tables import deals, timeline

if TYPE_CHECKING:
    from services.deals.service import DealsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


async def proposal_entries(
    conn: AsyncConnection, *, start: datetime, end: datetime, manager_id: int | None
) -> list[tuple[ProposalEntry, int, int]]:
    """The period's proposal entries, each with its deal's pipeline and responsible."""
    manager = timeline.c.data["manager_id"].astext
    query = (
        sa.select(
            timeline.c.deal_id,
            timeline.c.kind,
            timeline.c.data,
            timeline.c.created_at,
            deals.c.pipeline_id,
            deals.c.responsible_id,
        )
        .join(deals, deals.c.id == timeline.c.deal_id)
        .where(
            timeline.c.kind.in_(KINDS),
            timeline.c.created_at >= start,
            timeline.c.created_at < end,
        )
        .order_by(timeline.c.id)
    )
    if manager_id is not None:
        query = query.where(manager == str(manager_id))
    found = []
    for row in await conn.execute(query):
        data = row.data or {}
        entry = ProposalEntry(
            proposal=str(data.get("workflow_id") or f"deal-{row.deal_id}"),
            deal_id=row.deal_id,
            kind=row.kind,
            manager_id=str(data.get("manager_id") or row.responsible_id),
            at=row.created_at,
            reason=str(data.get("reason") or ""),
        )
        found.append((entry, row.pipeline_id, row.responsible_id))
    return found


def _row_pb(row: ProposalRow) -> pb.ProposalReportRow:
    return pb.ProposalReportRow(
        manager_id=row.manager_id,
        sent=row.sent,
        agreed=row.agreed,
        refused=row.refused,
        pending=row.pending,
        refusals=[
            pb.ProposalRefusal(deal_id=str(r.deal_id), reason=r.reason, at=to_timestamp(r.at))
            for r in row.refusals
        ],
    )


class ProposalReportApi:
    _service: DealsService

    async def GetProposalReport(
        self, request: pb.GetProposalReportRequest, context: Ctx
    ) -> pb.ProposalReport:
        start, end = period(request.date_from, request.date_to)
        manager = optional_id(request.manager_id, "manager_id")
        actor = actor_id(context)
        async with self._service.engine.connect() as conn:
            guard = None if actor is None else await self._service.access.cache.get(conn, actor)
            found = await proposal_entries(conn, start=start, end=end, manager_id=manager)
        seen = [
            entry
            for entry, pipeline_id, responsible_id in found
            if guard is None or guard.sees(pipeline_id=pipeline_id, responsible_id=responsible_id)
        ]
        return pb.ProposalReport(rows=[_row_pb(r) for r in add_up(seen)])
