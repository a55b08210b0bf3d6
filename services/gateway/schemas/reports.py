"""Report bodies (funnel, manager activity, time in stage) and their tables for CSV/XLSX."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from services.gateway.exports import Table
from services.gateway.routes import API_PREFIX

OUTCOMES = ("entered", "moved_on", "moved_back", "lost", "moved_out", "still_there")


class ReportQuery(BaseModel):
    """The filter a report was made with; drill-down links carry it on."""

    pipeline_id: int | None = None
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    manager_id: int | None = None
    department_id: int | None = None

    def deals_href(self, stage_id: int, outcome: str, *, within: tuple[str, str] = ("", "")) -> str:
        """GET /api/v1/deals listing exactly the deals behind a count."""
        params: dict[str, Any] = {
            "pipeline_id": self.pipeline_id,
            "funnel_stage_id": stage_id,
            "funnel_outcome": outcome,
            "from": within[0] or self.date_from.isoformat(),
            "to": within[1] or self.date_to.isoformat(),
            "responsible_id": self.manager_id,
            "department_id": self.department_id,
        }
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{API_PREFIX}/deals?{query}"


class SumOut(BaseModel):
    currency: str
    amount: str


class CountOut(BaseModel):
    deals: int
    sums: list[SumOut]
    href: str | None = None

    @classmethod
    def of(cls, m: Any, href: str | None = None) -> CountOut:
        sums = [SumOut(currency=s.currency, amount=s.amount) for s in m.sums]
        return cls(deals=m.deals, sums=sums, href=href)

    def sum_in(self, currency: str) -> Decimal:
        return sum((Decimal(s.amount) for s in self.sums if s.currency == currency), Decimal(0))


class FunnelStageOut(BaseModel):
    stage_id: int
    name: str
    semantic: str
    position: int
    passes: int
    unique_deals: int
    entered: CountOut
    moved_on: CountOut
    moved_back: CountOut
    lost: CountOut
    moved_out: CountOut
    still_there: CountOut
    conversion_to_next: str | None
    conversion_from_first: str | None
    median_seconds: float | None
    p90_seconds: float | None


class LostOut(BaseModel):
    month: str
    stage_id: int
    reason: str
    lost: CountOut


class FunnelOut(BaseModel):
    query: ReportQuery
    stages: list[FunnelStageOut]
    lost: list[LostOut]

    @classmethod
    def of(cls, query: ReportQuery, m: Any) -> FunnelOut:
        def stage(s: Any) -> FunnelStageOut:
            counts = {
                o: CountOut.of(getattr(s, o), query.deals_href(int(s.stage_id), o))
                for o in OUTCOMES
            }
            return FunnelStageOut(
                stage_id=int(s.stage_id),
                name=s.name,
                semantic=s.semantic,
                position=s.position,
                passes=s.passes,
                unique_deals=s.entered.deals,
                conversion_to_next=s.conversion_to_next or None,
                conversion_from_first=s.conversion_from_first or None,
                median_seconds=s.median_seconds if s.HasField("median_seconds") else None,
                p90_seconds=s.p90_seconds if s.HasField("p90_seconds") else None,
                **counts,
            )

        lost = [
            LostOut(
                month=r.month,
                stage_id=int(r.stage_id),
                reason=r.reason,
                lost=CountOut.of(
                    r.lost,
                    query.deals_href(int(r.stage_id), "entered", within=(r.date_from, r.date_to)),
                ),
            )
            for r in m.lost
        ]
        return cls(query=query, stages=[stage(s) for s in m.stages], lost=lost)

    def tables(self) -> list[Table]:
        currencies = _currencies([c for s in self.stages for c in _counts(s)])
        columns = ["stage_id", "stage", "semantic", "passes", "unique_deals"]
        for o in OUTCOMES:
            columns += [o, *(f"{o}_sum_{c}" for c in currencies)]
        columns += ["conversion_to_next", "conversion_from_first", "median_seconds", "p90_seconds"]
        rows = []
        for s in self.stages:
            row: list[Any] = [s.stage_id, s.name, s.semantic, s.passes, s.unique_deals]
            for count in _counts(s):
                row += [count.deals, *(count.sum_in(c) for c in currencies)]
            row += [s.conversion_to_next, s.conversion_from_first, s.median_seconds, s.p90_seconds]
            rows.append(row)
        lost_currencies = _currencies([r.lost for r in self.lost])
        lost = Table(
            "lost",
            ["month", "stage_id", "reason", "deals", *(f"sum_{c}" for c in lost_currencies)],
            [
                [r.month, r.stage_id, r.reason, r.lost.deals]
                + [r.lost.sum_in(c) for c in lost_currencies]
                for r in self.lost
            ],
        )
        return [Table("stages", columns, rows), lost]


def _counts(s: FunnelStageOut) -> list[CountOut]:
    return [getattr(s, o) for o in OUTCOMES]


def _currencies(counts: list[CountOut]) -> list[str]:
    return sorted({x.currency for c in counts for x in c.sums})


class ManagerOut(BaseModel):
    manager_id: int
    created: int
    won: CountOut
    lost: CountOut
    average_cycle_seconds: float | None
    deals_href: str

    @classmethod
    def of(cls, m: Any) -> ManagerOut:
        return cls(
            manager_id=int(m.manager_id),
            created=m.created,
            won=CountOut.of(m.won),
            lost=CountOut.of(m.lost),
            average_cycle_seconds=(
                m.average_cycle_seconds if m.HasField("average_cycle_seconds") else None
            ),
            deals_href=f"{API_PREFIX}/deals?responsible_id={int(m.manager_id)}",
        )


class ManagerActivityOut(BaseModel):
    query: ReportQuery
    rows: list[ManagerOut]

    def tables(self) -> list[Table]:
        currencies = _currencies([c for r in self.rows for c in (r.won, r.lost)])
        columns = ["manager_id", "created", "won", *(f"won_sum_{c}" for c in currencies)]
        columns += ["lost", *(f"lost_sum_{c}" for c in currencies), "average_cycle_seconds"]
        rows = [
            [r.manager_id, r.created, r.won.deals, *(r.won.sum_in(c) for c in currencies)]
            + [r.lost.deals, *(r.lost.sum_in(c) for c in currencies), r.average_cycle_seconds]
            for r in self.rows
        ]
        return [Table("managers", columns, rows)]


class StageTimeOut(BaseModel):
    stage_id: int
    seconds: float
    visits: int


class DealTimesOut(BaseModel):
    deal_id: int
    title: str
    responsible_id: int
    href: str
    stages: list[StageTimeOut]


class TimeInStageOut(BaseModel):
    query: ReportQuery
    items: list[DealTimesOut]
    next_cursor: str | None = None

    @classmethod
    def of(cls, query: ReportQuery, m: Any) -> TimeInStageOut:
        items = [
            DealTimesOut(
                deal_id=int(d.deal_id),
                title=d.title,
                responsible_id=int(d.responsible_id),
                href=f"{API_PREFIX}/deals/{int(d.deal_id)}",
                stages=[
                    StageTimeOut(stage_id=int(s.stage_id), seconds=s.seconds, visits=s.visits)
                    for s in d.stages
                ],
            )
            for d in m.deals
        ]
        return cls(query=query, items=items, next_cursor=m.next_cursor or None)

    def tables(self) -> list[Table]:
        stage_ids = sorted({s.stage_id for d in self.items for s in d.stages})
        columns = ["deal_id", "title", "responsible_id"]
        columns += [f"stage_{i}_seconds" for i in stage_ids]
        rows = []
        for d in self.items:
            seconds = {s.stage_id: s.seconds for s in d.stages}
            rows.append(
                [d.deal_id, d.title, d.responsible_id, *(seconds.get(i) for i in stage_ids)]
            )
        return [Table("time_in_stage", columns, rows)]
