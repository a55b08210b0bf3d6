"""Pipelines and deals rows <-> domain objects (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import UnitOfWork
from services.common.errors import AlreadyExists
from services.deals.domain.deals import Deal
from services.deals.domain.pipelines import (
    FieldDefinition,
    FieldType,
    Kind,
    Pipeline,
    Semantic,
    Stage,
    StageDraft,
)
from services.deals.domain.roles import Visible
from services.deals.tables import (
    deals,
    field_definitions,
    pipelines,
    stages,
)


# ---- pipelines ----
async def insert_pipeline(
    conn: AsyncConnection,
    *,
    name: str,
    drafts: list[StageDraft],
    now: datetime,
    kind: Kind = Kind.DEAL,
) -> int:
    insert_row = pipelines.insert().values(name=name, created_at=now, kind=kind.value)
    pipeline_id = int((await conn.execute(insert_row.returning(pipelines.c.id))).scalar_one())
    await conn.execute(
        stages.insert(),
        [
            {"pipeline_id": pipeline_id, "name": d.name, "semantic": d.semantic, "position": i}
            for i, d in enumerate(drafts)
        ],
    )
    return pipeline_id


async def pipeline_exists(conn: AsyncConnection, pipeline_id: int) -> bool:
    query = sa.select(pipelines.c.id).where(pipelines.c.id == pipeline_id)
    return (await conn.execute(query)).first() is not None


async def lock_pipeline(conn: AsyncConnection, pipeline_id: int) -> bool:
    """Serialize structural changes of one pipeline (stage positions, field codes)."""
    query = sa.select(pipelines.c.id).where(pipelines.c.id == pipeline_id).with_for_update()
    return (await conn.execute(query)).first() is not None


async def insert_stage(
    conn: AsyncConnection, *, pipeline_id: int, draft: StageDraft, position: int
) -> None:
    await conn.execute(
        stages.update()
        .where(stages.c.pipeline_id == pipeline_id, stages.c.position >= position)
        .values(position=stages.c.position + 1)
    )
    await conn.execute(
        stages.insert().values(
            pipeline_id=pipeline_id, name=draft.name, semantic=draft.semantic, position=position
        )
    )


async def insert_field(
    conn: AsyncConnection, definition: FieldDefinition, now: datetime
) -> FieldDefinition:
    row = (
        await conn.execute(
            insert(field_definitions)
            .values(
                pipeline_id=definition.pipeline_id,
                code=definition.code,
                name=definition.name,
                type=definition.type,
                required_on_stages=list(definition.required_on_stages),
                options=list(definition.options),
                list_code=definition.list_code,
                formula=definition.formula,
                currency=definition.currency,
                required_to_leave=list(definition.required_to_leave),
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(field_definitions)
        )
    ).first()
    if row is None:
        raise AlreadyExists(f"field {definition.code} exists in pipeline {definition.pipeline_id}")
    return _field(row)


async def load_pipelines(
    conn: AsyncConnection, pipeline_ids: list[int] | None = None
) -> list[Pipeline]:
    """Pipelines with their stages (by position) and fields; all of them when ids is None."""
    p_query = sa.select(pipelines).order_by(pipelines.c.id)
    s_query = sa.select(stages).order_by(stages.c.pipeline_id, stages.c.position, stages.c.id)
    f_query = sa.select(field_definitions).order_by(field_definitions.c.id)
    if pipeline_ids is not None:
        p_query = p_query.where(pipelines.c.id.in_(pipeline_ids))
        s_query = s_query.where(stages.c.pipeline_id.in_(pipeline_ids))
        f_query = f_query.where(field_definitions.c.pipeline_id.in_(pipeline_ids))
    stage_rows = (await conn.execute(s_query)).all()
    field_rows = (await conn.execute(f_query)).all()
    result = []
    for p in (await conn.execute(p_query)).all():
        result.append(
            Pipeline(
                id=p.id,
                name=p.name,
                stages=tuple(
                    Stage(s.id, s.name, Semantic(s.semantic), s.position)
                    for s in stage_rows
                    if s.pipeline_id == p.id
                ),
                fields=tuple(_field(f) for f in field_rows if f.pipeline_id == p.id),
                kind=Kind(p.kind),
                rules_version=p.rules_version,
            )
        )
    return result


async def get_pipeline(conn: AsyncConnection, pipeline_id: int) -> Pipeline | None:
    found = await load_pipelines(conn, [pipeline_id])
    return found[0] if found else None


def _field(row: sa.Row[Any]) -> FieldDefinition:
    return FieldDefinition(
        id=row.id,
        pipeline_id=row.pipeline_id,
        code=row.code,
        name=row.name,
        type=FieldType(row.type),
        required_on_stages=tuple(row.required_on_stages),
        options=tuple(row.options),
        list_code=row.list_code,
        formula=row.formula,
        currency=row.currency,
        required_to_leave=tuple(row.required_to_leave),
    )


# ---- deals ----
def deal_values(deal: Deal) -> dict[str, Any]:
    """A deal's row, but for its id (`DEAL_COLUMNS`)."""
    return {
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "title": deal.title,
        "responsible_id": deal.responsible_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "company_name": deal.company_name,
        "contact_name": deal.contact_name,
        "fields": deal.fields,
        "version": deal.version,
        "created_at": deal.created_at,
        "updated_at": deal.updated_at,
        "stage_entered_at": deal.stage_entered_at,
    }


# The deal's own columns: not `waiting_runs`, which the run log's trigger keeps.
DEAL_COLUMNS = tuple(c.name for c in deals.c if c.name not in ("id", "waiting_runs"))


async def insert_deal(conn: AsyncConnection, deal: Deal) -> int:
    query = deals.insert().values(**deal_values(deal)).returning(deals.c.id)
    return int((await conn.execute(query)).scalar_one())


_SAVE_DEAL = deals.update().where(deals.c.id == sa.bindparam("b_id"))  # SET: the parameters


async def save_deal(conn: AsyncConnection, deal: Deal) -> None:
    await conn.execute(_SAVE_DEAL, {**deal_values(deal), "b_id": deal.id})


def locked_in_stage(table: sa.Table) -> sa.Select[Any]:
    """A read of `table` (deals or leads) locking its rows, with their stage's semantic in a
    subquery, not a join: when a row was changed while we waited for its lock, PostgreSQL
    rechecks a join against the stage row it joined before the wait, so a record whose stage
    changed meanwhile would drop out of the answer ("not found" for a concurrent move)."""
    semantic = sa.select(stages.c.semantic).where(stages.c.id == table.c.stage_id)
    return sa.select(table, semantic.scalar_subquery().label("stage_semantic")).with_for_update(
        of=table
    )


_DEAL_SELECT = sa.select(deals, stages.c.semantic.label("stage_semantic")).join(
    stages, stages.c.id == deals.c.stage_id
)


# Built once: a statement built per call costs its construction and its cache key.
GET_DEAL = _DEAL_SELECT.where(deals.c.id == sa.bindparam("b_id", type_=deals.c.id.type))
_GET_DEAL_FOR_UPDATE = locked_in_stage(deals).where(
    deals.c.id == sa.bindparam("b_id", type_=deals.c.id.type)
)


async def get_deal(conn: AsyncConnection, deal_id: int, *, for_update: bool = False) -> Deal | None:
    query = _GET_DEAL_FOR_UPDATE if for_update else GET_DEAL
    row = (await conn.execute(query, {"b_id": deal_id})).first()
    return deal_of(row) if row else None


async def lock_deal_at_begin(uow: UnitOfWork, deal_id: int) -> Deal | None:
    """`get_deal(for_update=True)` as the unit of work's first statement, sent with its
    BEGIN (one round trip fewer; `UnitOfWork.read_at_begin`)."""
    rows = await uow.read_at_begin(_GET_DEAL_FOR_UPDATE, {"b_id": deal_id})
    return deal_of(rows[0]) if rows else None


@dataclass(frozen=True)
class DealFilter:
    pipeline_id: int | None = None
    stage_id: int | None = None
    responsible_id: int | None = None
    q: str = ""
    visible: Visible | None = None  # None: every deal (an internal caller)
    among: sa.Select[Any] | None = None  # deal ids a report selected (its drill-down)


async def list_deals(
    conn: AsyncConnection, where: DealFilter, *, before_id: int | None, limit: int
) -> list[Deal]:
    """Deals newest first, `limit` of them below `before_id`."""
    query = deals_query(where, before_id=before_id)
    params = filter_values(where, before_id=before_id, limit=limit)
    return [deal_of(row) for row in (await conn.execute(query, params)).all()]


# The list's values are named parameters (`filter_values`): its statement depends only on
# which filters are given and on whom the caller sees (`filter_shape`), so that a caller may
# keep it built.
_F_PIPELINE = sa.bindparam("f_pipeline", type_=deals.c.pipeline_id.type)
_F_STAGE = sa.bindparam("f_stage", type_=deals.c.stage_id.type)
_F_RESPONSIBLE = sa.bindparam("f_responsible", type_=deals.c.responsible_id.type)
_F_PATTERN = sa.bindparam("f_pattern", type_=deals.c.title.type)
_F_BEFORE = sa.bindparam("f_before", type_=deals.c.id.type)
_F_LIMIT = sa.bindparam("f_limit", type_=sa.Integer)


def deals_query(
    where: DealFilter, *, before_id: int | None, of: sa.Select[Any] = _DEAL_SELECT
) -> sa.Select[Any]:
    """The statement of `list_deals` (its rows: `deal_of`), or of `of`'s columns of the
    same deals; its parameters: `filter_values`."""
    query = of.order_by(deals.c.id.desc()).limit(_F_LIMIT)
    if where.pipeline_id is not None:
        query = query.where(deals.c.pipeline_id == _F_PIPELINE)
    if where.stage_id is not None:
        query = query.where(deals.c.stage_id == _F_STAGE)
    if where.responsible_id is not None:
        query = query.where(deals.c.responsible_id == _F_RESPONSIBLE)
    if where.visible is not None:
        query = query.where(visible_condition(where.visible))
    if where.among is not None:
        query = query.where(deals.c.id.in_(where.among))
    if _pattern(where.q) is not None:
        query = query.where(
            sa.or_(
                deals.c.title.ilike(_F_PATTERN, escape="\\"),
                deals.c.company_name.ilike(_F_PATTERN, escape="\\"),
                deals.c.contact_name.ilike(_F_PATTERN, escape="\\"),
            )
        )
    if before_id is not None:
        query = query.where(deals.c.id < _F_BEFORE)
    return query


def filter_values(where: DealFilter, *, before_id: int | None, limit: int) -> dict[str, Any]:
    """The parameters of `deals_query`'s statement."""
    values = {
        "f_pipeline": where.pipeline_id,
        "f_stage": where.stage_id,
        "f_responsible": where.responsible_id,
        "f_pattern": _pattern(where.q),
        "f_before": before_id,
    }
    return {"f_limit": limit} | {k: v for k, v in values.items() if v is not None}


def filter_shape(where: DealFilter, *, before_id: int | None) -> Hashable | None:
    """What `deals_query`'s statement depends on (besides `of`): which filters are given and
    whom the caller sees; None for a report's selection (`among`), a statement of its own."""
    if where.among is not None:
        return None
    given = (where.pipeline_id, where.stage_id, where.responsible_id, _pattern(where.q), before_id)
    visible = where.visible
    seen = None if visible is None else (visible.default, tuple(sorted(visible.pipelines.items())))
    return tuple(v is not None for v in given), seen


def _pattern(q: str) -> str | None:
    """The ILIKE pattern of a search for `q` (its wildcards escaped), or None for none."""
    if not q.strip():
        return None
    escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible_condition(visible: Visible, table: sa.Table = deals) -> sa.ColumnElement[bool]:
    """SQL for "the user sees this deal" (or lead: any table with `pipeline_id` and
    `responsible_id`): by owner, with per-pipeline rules first."""

    def owned_by(owners: frozenset[int] | None) -> sa.ColumnElement[bool]:
        if owners is None:
            return sa.true()
        if not owners:
            return sa.false()
        return table.c.responsible_id.in_(sorted(owners))

    if not visible.pipelines:
        return owned_by(visible.default)
    ruled = sorted(visible.pipelines)
    return sa.or_(
        sa.and_(table.c.pipeline_id.not_in(ruled), owned_by(visible.default)),
        *(
            sa.and_(table.c.pipeline_id == pipeline_id, owned_by(owners))
            for pipeline_id, owners in visible.pipelines.items()
        ),
    )


def deal_of(row: Any) -> Deal:
    """The deal of a row of `GET_DEAL` or `deals_query` (or of a statement selecting their
    columns by name), or of the driver's named tuple (`lock_deal_at_begin`)."""
    return Deal(
        id=row.id,
        pipeline_id=row.pipeline_id,
        stage_id=row.stage_id,
        title=row.title,
        responsible_id=row.responsible_id,
        amount=row.amount,
        currency=row.currency,
        company_name=row.company_name,
        contact_name=row.contact_name,
        fields=dict(row.fields),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        stage_entered_at=row.stage_entered_at,
        stage_semantic=Semantic(row.stage_semantic),
        waiting_runs=row.waiting_runs,
    )
