"""The records automation rules run on: deals (pipelines) and leads (lead funnels). The
engine (planning, the run log) reads a record through this one shape; the run log keeps a
run under `deal_id` or `lead_id`."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.errors import NotFound
from services.deals import leads_repository, repository
from services.deals.automation_tables import automation_runs
from services.deals.domain.leads import Lead


class Record(Protocol):
    """What the engine reads of a deal or a lead."""

    @property
    def id(self) -> int: ...
    @property
    def stage_id(self) -> int: ...
    @property
    def responsible_id(self) -> int: ...
    def attributes(self) -> dict[str, Any]: ...


def record_values(record: Record) -> dict[str, Any]:
    """What conditions, mappings and date offsets read of a record."""
    return {**record.attributes(), "stage_id": str(record.stage_id)}


def kind_of(record: Record) -> str:
    return "lead" if isinstance(record, Lead) else "deal"


def runs_of(record: Record) -> sa.ColumnElement[bool]:
    """The run log's rows of the record."""
    column = automation_runs.c.lead_id if kind_of(record) == "lead" else automation_runs.c.deal_id
    return column == record.id


def owner(record: Record) -> dict[str, int]:
    """The run log's columns naming the record."""
    return {f"{kind_of(record)}_id": record.id}


async def load_record(conn: AsyncConnection, *, deal_id: int | None, lead_id: int | None) -> Record:
    """The lead when `lead_id` is given, else the deal; NotFound when it is gone."""
    if lead_id is not None:
        lead = await leads_repository.get_lead(conn, lead_id)
        if lead is None:
            raise NotFound(f"lead {lead_id} not found")
        return lead
    deal = await repository.get_deal(conn, deal_id or 0)
    if deal is None:
        raise NotFound(f"deal {deal_id} not found")
    return deal
