"""gRPC servicer of ReportsService (served by the deals process): proto <-> domain only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import deals_pb2
from dealflow.deals.v1 import reports_pb2 as pb
from dealflow.deals.v1 import reports_pb2_grpc as pb_grpc

from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.deals.api_mappers import deal_pb, with_links
from services.deals.domain.funnel import Funnel, Outcome, Period, StageRow, Tally, sum_text
from services.deals.reports_repository import Scope
from services.deals.reports_service import ReportsService
from services.deals.service import DealsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def scope_of(f: pb.ReportFilter) -> Scope:
    return Scope(
        period=Period.of_dates(f.date_from, f.date_to),
        manager_id=optional_id(f.manager_id, "manager_id"),
        department_id=optional_id(f.department_id, "department_id"),
    )


def count_pb(t: Tally) -> pb.Count:
    sums = [pb.Sum(currency=c, amount=sum_text(a)) for c, a in sorted(t.sums.items())]
    return pb.Count(deals=t.deals, sums=sums)


def stage_pb(r: StageRow) -> pb.FunnelStage:
    counts: dict[str, Any] = {o.value: count_pb(r.counts[o]) for o in Outcome}
    out = pb.FunnelStage(
        stage_id=str(r.stage.id),
        name=r.stage.name,
        semantic=r.stage.semantic.value,
        position=r.stage.position,
        passes=r.passes,
        conversion_to_next=r.conversion_to_next,
        conversion_from_first=r.conversion_from_first,
        **counts,
    )
    if r.median_seconds is not None:
        out.median_seconds = r.median_seconds
    if r.p90_seconds is not None:
        out.p90_seconds = r.p90_seconds
    return out


def funnel_pb(f: Funnel) -> pb.Funnel:
    lost = [
        pb.LostRow(
            month=row.month.strftime("%Y-%m"),
            stage_id=str(row.stage.id),
            reason=row.stage.name,
            date_from=row.period.start.date().isoformat(),
            date_to=row.period.last_day.isoformat(),
            lost=count_pb(row.lost),
        )
        for row in f.lost
    ]
    return pb.Funnel(stages=[stage_pb(r) for r in f.stages], lost=lost)


class ReportsApi(pb_grpc.ReportsServiceServicer):  # type: ignore[misc]
    def __init__(self, service: ReportsService, deals: DealsService) -> None:
        self._service = service
        self._deals = deals

    async def GetFunnel(self, request: pb.ReportFilter, context: Ctx) -> pb.Funnel:
        funnel = await self._service.funnel(
            actor_id=actor_id(context),
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            scope=scope_of(request),
        )
        return funnel_pb(funnel)

    async def ListFunnelDeals(
        self, request: pb.ListFunnelDealsRequest, context: Ctx
    ) -> deals_pb2.ListDealsResponse:
        page = await self._service.funnel_deals(
            actor_id=actor_id(context),
            pipeline_id=parse_id(request.filter.pipeline_id, "pipeline_id"),
            scope=scope_of(request.filter),
            stage_id=parse_id(request.stage_id, "funnel_stage_id"),
            outcome=request.outcome,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        found = await with_links(self._deals.automation.links_of, [deal_pb(d) for d in page.items])
        return deals_pb2.ListDealsResponse(deals=found, next_cursor=page.next_cursor)

    async def GetManagerActivity(
        self, request: pb.ReportFilter, context: Ctx
    ) -> pb.ManagerActivity:
        rows = await self._service.manager_activity(
            actor_id=actor_id(context),
            pipeline_id=optional_id(request.pipeline_id, "pipeline_id"),
            scope=scope_of(request),
        )
        out = pb.ManagerActivity()
        for r in rows:
            row = out.rows.add(
                manager_id=str(r.manager_id),
                created=r.created,
                won=count_pb(r.won),
                lost=count_pb(r.lost),
            )
            if r.average_cycle_seconds is not None:
                row.average_cycle_seconds = r.average_cycle_seconds
        return out

    async def GetTimeInStage(self, request: pb.TimeInStageRequest, context: Ctx) -> pb.TimeInStage:
        page = await self._service.time_in_stage(
            actor_id=actor_id(context),
            pipeline_id=parse_id(request.filter.pipeline_id, "pipeline_id"),
            scope=scope_of(request.filter),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.TimeInStage(
            deals=[
                pb.DealTimes(
                    deal_id=str(t.deal_id),
                    title=t.title,
                    responsible_id=str(t.responsible_id),
                    stages=[
                        pb.StageTime(stage_id=str(s.stage_id), seconds=s.seconds, visits=s.visits)
                        for s in t.stages
                    ],
                )
                for t in page.items
            ],
            next_cursor=page.next_cursor,
        )


def register_reports(server: grpc.aio.Server, deals: DealsService) -> str:
    """Add ReportsService next to DealsService; its full name (for health and reflection)."""
    service = ReportsService(deals.engine, deals.access, clock=deals.clock)
    pb_grpc.add_ReportsServiceServicer_to_server(ReportsApi(service, deals), server)
    return str(pb.DESCRIPTOR.services_by_name["ReportsService"].full_name)
