"""CSV imports: a batch of rows checked whole (a dry run reports every bad row and stores
nothing; a real run with a bad row is refused whole), then applied, each row matched by its
external id so that importing the file again updates rather than duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from process_rules.field_values import merge_values
from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.errors import FieldProblem, ValidationFailed
from services.deals import org_repository, record_fields
from services.deals.domain.attributes import clean_attributes
from services.deals.domain.imports import Row, Shaped, check_mapping, shape
from services.deals.domain.leads import require_funnel
from services.deals.domain.pipelines import FieldDefinition, Kind, Pipeline
from services.deals.imports_apply import RowWriter
from services.deals.leads_service import LeadsService
from services.deals.pipeline_service import pipeline_of
from services.deals.tables import import_keys, outbox

MAX_BATCH = 2000
_ENTITY = {"contacts": "contact", "companies": "company"}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    problems: list[FieldProblem] = field(default_factory=list)


class ImportService:
    def __init__(self, leads: LeadsService) -> None:
        self._leads = leads
        self._contacts = leads.contacts
        self._engine = leads._engine
        self._now = leads._now
        self._writer = RowWriter(leads)

    async def run(
        self,
        *,
        actor_id: int | None,
        kind: str,
        pipeline_id: int | None,
        mapping: dict[str, str],
        rows: list[Row],
        dry_run: bool,
    ) -> ImportReport:
        """Check a batch; unless it is a dry run, apply it (all of it, or nothing)."""
        check_mapping(kind, mapping)
        if len(rows) > MAX_BATCH:
            raise ValidationFailed(FieldProblem("rows", f"at most {MAX_BATCH} rows a call"))
        async with UnitOfWork(self._engine, outbox) as uow:
            guard = await self._contacts.guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_CREATE, "your role may not import")
                guard.access.require(Permission.DEALS_EDIT, "your role may not import")
            pipeline = await self._pipeline(uow.conn, kind, pipeline_id)
            shaped = [shape(kind, mapping, row) for row in rows]
            definitions = (
                {f.code: f for f in pipeline.fields}
                if pipeline is not None
                else await record_fields.definitions(uow.conn, _ENTITY[kind])
            )
            known = await _known(uow.conn, kind, [s.external_id for s in shaped if s.external_id])
            seen: set[str] = set()
            for row in shaped:
                await self._resolve(uow.conn, row, pipeline, definitions, actor_id, mapping)
                if row.external_id and row.external_id in seen:
                    row.problems.append(
                        FieldProblem(f"rows[{row.number}]", "this external id is on another row")
                    )
                seen.add(row.external_id)
            report = ImportReport(rows=len(shaped))
            report.problems = [p for row in shaped for p in row.problems]
            report.updated = sum(1 for s in shaped if s.external_id in known)
            report.created = report.rows - report.updated
            if dry_run:
                return report
            if report.problems:
                raise ValidationFailed(
                    report.problems, f"{len(report.problems)} problems; nothing imported"
                )
            for row in shaped:
                record_id = await self._writer.apply(
                    uow, kind, row, known.get(row.external_id), pipeline
                )
                if row.external_id:
                    await uow.conn.execute(
                        insert(import_keys)
                        .values(kind=kind, external_id=row.external_id, record_id=record_id)
                        .on_conflict_do_nothing()
                    )
            return report

    async def _pipeline(
        self, conn: AsyncConnection, kind: str, pipeline_id: int | None
    ) -> Pipeline | None:
        if kind not in ("leads", "deals"):
            return None
        if pipeline_id is None:
            raise ValidationFailed(FieldProblem("pipeline_id", f"is required to import {kind}"))
        pipeline = await pipeline_of(conn, pipeline_id)
        if kind == "leads":
            return require_funnel(pipeline)
        if pipeline.kind is not Kind.DEAL:
            raise ValidationFailed(FieldProblem("pipeline_id", "is a lead funnel, not a pipeline"))
        return pipeline

    async def _resolve(
        self,
        conn: AsyncConnection,
        row: Shaped,
        pipeline: Pipeline | None,
        definitions: dict[str, FieldDefinition],
        actor_id: int | None,
        mapping: dict[str, str],
    ) -> None:
        """The row's responsible (by e-mail), stage (by name) and custom fields, checked."""
        column = {t: c for c, t in mapping.items()}
        where = f"rows[{row.number}]"
        email = row.attrs.pop("responsible", "")
        row.attrs["responsible_id"] = actor_id
        if email:
            found = await org_repository.user_with_hash(conn, email)
            user = found[0] if found else None
            if user is None or not user.active:
                row.problems.append(
                    FieldProblem(f"{where}.{column['responsible']}", "no active user")
                )
            else:
                row.attrs["responsible_id"] = user.id
        if row.attrs["responsible_id"] is None:
            row.problems.append(
                FieldProblem(f"{where}.responsible", "is required (a user's e-mail)")
            )
        stage_name = row.attrs.pop("stage", "")
        self._check_fields(row, definitions, column)
        if pipeline is None:
            return
        if pipeline.kind is Kind.DEAL:
            deal_attrs = {k: v for k, v in row.attrs.items() if k in ("amount", "currency")}
            try:
                clean_attributes(deal_attrs)
            except ValidationFailed as exc:
                for p in exc.problems:
                    name = column.get(p.field, p.field)
                    row.problems.append(FieldProblem(f"{where}.{name}", p.message))
        row.attrs["stage_id"] = None
        if stage_name:
            stage = next(
                (s for s in pipeline.stages if s.name.casefold() == stage_name.casefold()), None
            )
            if stage is None:
                row.problems.append(FieldProblem(f"{where}.{column['stage']}", "no such stage"))
            else:
                row.attrs["stage_id"] = stage.id

    @staticmethod
    def _check_fields(
        row: Shaped, definitions: dict[str, FieldDefinition], column: dict[str, str]
    ) -> None:
        try:
            row.fields = merge_values(definitions, {}, row.fields)
        except ValidationFailed as exc:
            for p in exc.problems:
                code = p.field.removeprefix("fields.")
                name = column.get(f"fields.{code}", p.field)
                row.problems.append(FieldProblem(f"rows[{row.number}].{name}", p.message))


async def _known(conn: AsyncConnection, kind: str, external_ids: list[str]) -> dict[str, int]:
    if not external_ids:
        return {}
    query = sa.select(import_keys.c.external_id, import_keys.c.record_id).where(
        import_keys.c.kind == kind, import_keys.c.external_id.in_(external_ids)
    )
    return {r.external_id: r.record_id for r in (await conn.execute(query)).all()}
