"""A deal's contacts, its company and the lead it came from (`deal_parties`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.errors import FieldProblem, NotFound, ValidationFailed
from services.deals import leads_repository as repo
from services.deals import repository
from services.deals.leads_service import LeadsService
from services.deals.tables import outbox


class DealPartiesService:
    def __init__(self, leads: LeadsService) -> None:
        self._leads = leads

    async def deal_parties(self, *, actor_id: int | None, deal_id: int) -> dict[str, list[int]]:
        async with self._leads._engine.connect() as conn:
            await self._visible_deal(conn, actor_id, deal_id)
            return await repo.deal_parties_of(conn, deal_id)

    async def link_deal(
        self, *, actor_id: int | None, deal_id: int, contact_ids: list[int], company_id: int | None
    ) -> dict[str, list[int]]:
        async with UnitOfWork(self._leads._engine, outbox) as uow:
            await self._visible_deal(uow.conn, actor_id, deal_id)
            guard = await self._leads._guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_EDIT, "your role may not change deals")
            for i, contact_id in enumerate(contact_ids):
                try:
                    await self._leads.contacts.visible_contact(uow.conn, actor_id, contact_id)
                except NotFound:
                    raise ValidationFailed(
                        FieldProblem(f"contact_ids[{i}]", "is not a contact you see")
                    ) from None
                await repo.link_deal(uow.conn, deal_id, "contact", contact_id)
            if company_id is not None:
                await self._leads.contacts.visible_company(
                    uow.conn, actor_id, company_id, "company_id"
                )
                await repo.link_deal(uow.conn, deal_id, "company", company_id)
            return await repo.deal_parties_of(uow.conn, deal_id)

    async def _visible_deal(
        self, conn: AsyncConnection, actor_id: int | None, deal_id: int
    ) -> None:
        deal = await repository.get_deal(conn, deal_id)
        guard = await self._leads._guard(conn, actor_id)
        if deal is None or (
            guard is not None
            and not guard.sees(pipeline_id=deal.pipeline_id, responsible_id=deal.responsible_id)
        ):
            raise NotFound(f"deal {deal_id} not found")
