"""The deals list's drill-down parameters: the funnel count whose deals to list."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from dealflow.deals.v1 import reports_pb2
from fastapi import Query

from services.common.errors import FieldProblem
from services.gateway.problems import Problem
from services.gateway.schemas.common import IsoDate, RecordId

_OUTCOMES = "entered, moved_on, moved_back, lost, moved_out, still_there"


class FunnelQuery:
    """`funnel_stage_id` and `funnel_outcome` name the count; `from`, `to` and
    `department_id` are the report's filter (`responsible_id` is its manager)."""

    def __init__(
        self,
        funnel_stage_id: Annotated[
            RecordId | None, Query(description="the funnel row's stage")
        ] = None,
        funnel_outcome: Annotated[
            str, Query(description=f"one of {_OUTCOMES}; default entered")
        ] = "",
        date_from: Annotated[IsoDate | None, Query(alias="from")] = None,
        date_to: Annotated[IsoDate | None, Query(alias="to")] = None,
        department_id: RecordId | None = None,
    ) -> None:
        self.funnel_stage_id = funnel_stage_id
        self.funnel_outcome = funnel_outcome
        self.date_from = date_from
        self.date_to = date_to
        self.department_id = department_id

    def require_absent(self) -> None:
        """Without funnel_stage_id, the report's parameters mean nothing: refuse them."""
        given = [
            name
            for name, value in (
                ("funnel_outcome", self.funnel_outcome),
                ("from", self.date_from),
                ("to", self.date_to),
                ("department_id", self.department_id),
            )
            if value
        ]
        if given:
            problems = [FieldProblem(n, "only with funnel_stage_id") for n in given]
            raise Problem(422, "a funnel filter needs funnel_stage_id", errors=problems)

    def request(
        self,
        pipeline_id: int | None,
        stage_id: int | None,
        responsible_id: int | None,
        q: str,
        *,
        cursor: str,
        limit: int,
    ) -> reports_pb2.ListFunnelDealsRequest:
        problems = [
            FieldProblem(name, "required with funnel_stage_id")
            for name, value in (
                ("pipeline_id", pipeline_id),
                ("from", self.date_from),
                ("to", self.date_to),
            )
            if value is None
        ]
        problems += [
            FieldProblem(name, "not with funnel_stage_id")
            for name, value in (("stage_id", stage_id), ("q", q))
            if value
        ]
        if problems or self.date_from is None or self.date_to is None:
            raise Problem(422, "the funnel drill-down needs its report's filter", errors=problems)
        return reports_pb2.ListFunnelDealsRequest(
            filter=reports_pb2.ReportFilter(
                pipeline_id=str(pipeline_id),
                date_from=self.date_from.isoformat(),
                date_to=self.date_to.isoformat(),
                manager_id=str(responsible_id or ""),
                department_id=str(self.department_id or ""),
            ),
            stage_id=str(self.funnel_stage_id),
            outcome=self.funnel_outcome,
            cursor=cursor,
            limit=limit,
        )


async def funnel_query(**params: Any) -> FunnelQuery:
    """FunnelQuery as the list route's dependency, solved in the event loop: FastAPI calls a
    class (a plain callable to it) in a worker thread, a thread hop on every list request.
    Its parameters are the class's own (the signature below)."""
    return FunnelQuery(**params)


setattr(funnel_query, "__signature__", inspect.signature(FunnelQuery, eval_str=True))  # noqa: B010
