"""Reports: the funnel (with drill-down links to the deals list), manager activity, time in
stage per deal, and deal margin per manager (SM-8). Each counts what the caller may see, and
each comes as JSON, CSV (`Accept: text/csv`) or XLSX (the spreadsheet type)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from dealflow.deals.v1 import reports_pb2
from dealflow.finance.v1 import finance_pb2 as pb
from fastapi import APIRouter, Depends, Query, Request

from services.common.errors import FieldProblem
from services.gateway.deps import CurrentUser, Finance, Reports
from services.gateway.exports import CONTENT, Table, export, wanted
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.rate_limit import expensive
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import IsoDate, RecordId
from services.gateway.schemas.finance import MarginRowOut
from services.gateway.schemas.reports import (
    FunnelOut,
    ManagerActivityOut,
    ManagerOut,
    ReportQuery,
    TimeInStageOut,
)

# Reports are expensive: each call counts against the caller's limit (429 past it).
router = APIRouter(
    prefix=API_PREFIX + "/reports",
    tags=["reports"],
    responses={**COMMON_RESPONSES, **responses(429)},
    dependencies=[Depends(expensive)],
)

From = Annotated[IsoDate, Query(alias="from", description="first day (UTC), included")]
To = Annotated[IsoDate, Query(alias="to", description="last day (UTC), included")]
OptionalId = RecordId | None
TableName = Annotated[str, Query(description="CSV: which table (default: the first)")]
Limit = Annotated[int, Query(ge=1, le=200)]


def _period_and_owners(
    date_from: From,
    date_to: To,
    manager_id: OptionalId = None,
    department_id: OptionalId = None,
) -> ReportQuery:
    """The filters every report takes; each route adds its pipeline."""
    return ReportQuery(
        date_from=date_from, date_to=date_to, manager_id=manager_id, department_id=department_id
    )


Filters = Annotated[ReportQuery, Depends(_period_and_owners)]


def _filter(q: ReportQuery) -> reports_pb2.ReportFilter:
    return reports_pb2.ReportFilter(
        pipeline_id=str(q.pipeline_id or ""),
        date_from=q.date_from.isoformat(),
        date_to=q.date_to.isoformat(),
        manager_id=str(q.manager_id or ""),
        department_id=str(q.department_id or ""),
    )


def _answer(request: Request, body: Any, tables: list[Table], name: str, table: str) -> Any:
    kind = wanted(request)
    return body if kind is None else export(kind, tables, name=name, table=table)


@router.get("/funnel", response_model=FunnelOut, responses={**CONTENT, **responses(404)})
async def funnel(
    request: Request,
    _: CurrentUser,
    reports: Reports,
    pipeline_id: RecordId,
    filters: Filters,
    table: TableName = "",
) -> Any:
    """Per stage, in order: deals that passed it in the period and where they went (moved on,
    back, lost, out, still there), with sums per currency, conversions, time in stage, passes
    and unique deals; lost deals per month and reason. Every count links to its deals."""
    q = filters.model_copy(update={"pipeline_id": pipeline_id})
    body = FunnelOut.of(q, await reports.GetFunnel(_filter(q)))
    return _answer(request, body, body.tables(), "funnel", table)


@router.get("/managers", response_model=ManagerActivityOut, responses={**CONTENT, **responses(404)})
async def manager_activity(
    request: Request,
    _: CurrentUser,
    reports: Reports,
    filters: Filters,
    pipeline_id: OptionalId = None,
) -> Any:
    """Per manager: deals created, won and lost in the period with their sums, and the
    average cycle (creation to close) of the deals closed in it."""
    q = filters.model_copy(update={"pipeline_id": pipeline_id})
    reply = await reports.GetManagerActivity(_filter(q))
    body = ManagerActivityOut(query=q, rows=[ManagerOut.of(r) for r in reply.rows])
    return _answer(request, body, body.tables(), "managers", "")


@router.get(
    "/time-in-stage", response_model=TimeInStageOut, responses={**CONTENT, **responses(404)}
)
async def time_in_stage(
    request: Request,
    _: CurrentUser,
    reports: Reports,
    pipeline_id: RecordId,
    filters: Filters,
    cursor: str = "",
    limit: Limit = 50,
) -> Any:
    """Per deal that passed a stage in the period: the time it spent in each stage (all its
    visits; an open one up to now), newest deal first, one page at a time."""
    q = filters.model_copy(update={"pipeline_id": pipeline_id})
    request_pb = reports_pb2.TimeInStageRequest(filter=_filter(q), cursor=cursor, limit=limit)
    body = TimeInStageOut.of(q, await reports.GetTimeInStage(request_pb))
    return _answer(request, body, body.tables(), "time-in-stage", "")


@router.get("/margin", response_model=list[MarginRowOut], responses={**CONTENT, **responses(403)})
async def margin(
    request: Request,
    _: CurrentUser,
    finance: Finance,
    date_from: IsoDate | None = None,
    date_to: IsoDate | None = None,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: Annotated[IsoDate | None, Query(alias="to")] = None,
    manager_id: OptionalId = None,
) -> Any:
    """Revenue, costs, profit and profit % per manager recorded in the period (payments by
    their date), for the managers the caller sees. The period: `from`/`to` (or
    `date_from`/`date_to`)."""
    first, last = _period(from_ or date_from, to or date_to)
    reply = await finance.GetMarginReport(
        pb.GetMarginReportRequest(date_from=first.isoformat(), date_to=last.isoformat())
    )
    rows = [MarginRowOut.of(r) for r in reply.rows]
    rows = [r for r in rows if manager_id is None or r.manager_id == manager_id]
    columns = list(MarginRowOut.model_fields)
    table = Table("margin", columns, [[getattr(r, c) for c in columns] for r in rows])
    return _answer(request, rows, [table], "margin", "")


def _period(first: date | None, last: date | None) -> tuple[date, date]:
    missing = [FieldProblem(n, "required") for n, v in (("from", first), ("to", last)) if not v]
    if first is None or last is None:
        raise Problem(422, "the period is required", errors=missing)
    return first, last
