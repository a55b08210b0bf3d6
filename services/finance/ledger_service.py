"""Read side and housekeeping: a deal's figures, the payment schedule (and its reset) and
the margin report."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from services.common.access import Permission
from services.common.db import PendingEvent
from services.common.errors import FieldProblem, ValidationFailed
from services.finance import ledger_repository as ledger_repo
from services.finance.context import Context, actor_of, require, require_visible, scope_of
from services.finance.domain.money import DealMoney
from services.finance.domain.reports import MarginRow, check_period
from services.finance.domain.schedule import ScheduleEntry
from services.finance.events import SCHEDULE_RESET
from services.finance.tables import deal_money


class LedgerService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def deal_money(self, *, actor_id: int | None, deal_id: int) -> DealMoney:
        """The deal's figures; zeros for a deal with no money recorded yet."""
        access = await self._ctx.access(actor_id)
        async with self._ctx.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(deal_money).where(deal_money.c.deal_id == deal_id))
            ).first()
        if row is None:
            if access is not None and self._ctx.deal_owner is not None:
                require_visible(access, await self._ctx.deal_owner(deal_id), f"deal {deal_id}")
            return DealMoney.empty(deal_id)
        if row.owner_id is not None:
            require_visible(access, row.owner_id, f"deal {deal_id}")
        return DealMoney(row.deal_id, row.currency, row.revenue, row.costs)

    async def schedule(
        self, *, actor_id: int | None, date_from: date | None, date_to: date | None
    ) -> list[ScheduleEntry]:
        """What is due in the period (by due date), with running totals in creation order
        since the last reset, over the entries the caller sees."""
        access = await self._ctx.access(actor_id)
        if date_from and date_to and date_from > date_to:
            raise ValidationFailed(FieldProblem("date_from", "must not be after date_to"))
        async with self._ctx.engine.connect() as conn:
            mark = await ledger_repo.last_reset(conn)
            return await ledger_repo.schedule(
                conn,
                scope=scope_of(access),
                date_from=date_from,
                date_to=date_to,
                after_entry_id=mark,
            )

    async def reset_schedule(self, *, actor_id: int | None) -> int:
        """Restart the running totals from the next entry on (an admin's housekeeping)."""
        access = await self._ctx.access(actor_id)
        require(access, Permission.SCHEDULE_RESET)
        async with self._ctx.uow() as uow:
            mark = await ledger_repo.reset_schedule(uow.conn, actor_of(access), self._ctx.clock())
            uow.emit(
                PendingEvent(
                    SCHEDULE_RESET,
                    "payment-schedule",
                    {"after_entry_id": str(mark)},
                    actor="" if actor_id is None else str(actor_id),
                )
            )
        return mark

    async def margin(
        self, *, actor_id: int | None, date_from: date | None, date_to: date | None
    ) -> list[MarginRow]:
        """Revenue, costs and profit per manager in the period, for the managers the caller
        sees (a head: their department)."""
        access = await self._ctx.access(actor_id)
        require(access, Permission.REPORTS_MARGIN)
        start, end = check_period(date_from, date_to)
        async with self._ctx.engine.connect() as conn:
            return await ledger_repo.margin(
                conn, scope=scope_of(access), date_from=start, date_to=end
            )
