"""CSV imports: a batch of rows checked whole (a dry run reports every bad row and stores
nothing; a real run with a bad row is refused whole), then applied, each row matched by its
external id so that importing the file again updates rather than duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.errors import FieldProblem, ValidationFailed
from services.deals import contacts_repository as contacts_repo
from services.deals import history_repository, org_repository, record_fields, repository
from services.deals import leads_repository as leads_repo
from services.deals.crm_events import company_event, contact_event
from services.deals.domain.attributes import clean_attributes
from services.deals.domain.contacts import Company
from services.deals.domain.deals import new_deal
from services.deals.domain.imports import Row, Shaped, check_mapping, shape
from services.deals.domain.leads import require_funnel
from services.deals.domain.pipelines import FieldDefinition, Kind, Pipeline
from services.deals.domain.values import merge_values
from services.deals.leads_service import LeadsService
from services.deals.pipeline_service import pipeline_of
from services.deals.service import record_deal
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
                record_id = await self._apply(uow, kind, row, known.get(row.external_id), pipeline)
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

    async def _apply(
        self,
        uow: UnitOfWork,
        kind: str,
        row: Shaped,
        record_id: int | None,
        pipeline: Pipeline | None,
    ) -> int:
        conn, now, attrs = uow.conn, self._now(), row.attrs
        responsible = attrs.pop("responsible_id")
        match kind:
            case "companies":
                existing = await contacts_repo.get_company(conn, record_id) if record_id else None
                if existing is None:
                    company = Company(
                        0,
                        responsible_id=responsible,
                        version=1,
                        created_at=now,
                        updated_at=now,
                        fields=row.fields,
                        **attrs,
                    )
                    company.id = await contacts_repo.insert_company(conn, company)
                    uow.emit(company_event("created", company, responsible))
                    return company.id
                existing.name = attrs["name"]
                existing.registration_ids = {
                    **existing.registration_ids,
                    **attrs["registration_ids"],
                }
                existing.addresses = tuple(dict.fromkeys(existing.addresses + attrs["addresses"]))
                existing.fields = {**existing.fields, **row.fields}
                existing.version, existing.updated_at = existing.version + 1, now
                await contacts_repo.save_company(conn, existing)
                uow.emit(company_event("updated", existing, responsible))
                return existing.id
            case "contacts":
                company_name = attrs.pop("company", "")
                if company_name:
                    attrs["company_id"] = await self._company_id(uow, company_name, responsible)
                existing_contact = (
                    await contacts_repo.get_contact(conn, record_id) if record_id else None
                )
                if existing_contact is None:
                    values = {**attrs, "fields": row.fields}
                    return (
                        await self._contacts.insert_contact(uow, values, responsible, responsible)
                    ).id
                for name, value in attrs.items():
                    setattr(existing_contact, name, value)
                existing_contact.fields = {**existing_contact.fields, **row.fields}
                existing_contact.version, existing_contact.updated_at = (
                    existing_contact.version + 1,
                    now,
                )
                await contacts_repo.save_contact(conn, existing_contact)
                uow.emit(contact_event("updated", existing_contact, responsible))
                return existing_contact.id
            case "leads":
                assert pipeline is not None
                return await self._lead(uow, row, record_id, pipeline, responsible)
        assert pipeline is not None
        return await self._deal(uow, row, record_id, pipeline, responsible)

    async def _company_id(self, uow: UnitOfWork, name: str, responsible: int) -> int:
        found = await contacts_repo.company_named(uow.conn, name)
        if found is not None:
            return found.id
        now = self._now()
        company = Company(0, name, {}, (), responsible, {}, 1, now, now)
        company.id = await contacts_repo.insert_company(uow.conn, company)
        uow.emit(company_event("created", company, responsible))
        return company.id

    async def _lead(
        self,
        uow: UnitOfWork,
        row: Shaped,
        record_id: int | None,
        funnel: Pipeline,
        responsible: int,
    ) -> int:
        attrs = row.attrs
        existing = (
            await leads_repo.get_lead(uow.conn, record_id, for_update=True) if record_id else None
        )
        if existing is not None:
            changes: dict[str, Any] = {k: attrs[k] for k in ("title", "source") if k in attrs}
            if existing.update(
                funnel,
                changes=changes,
                field_changes=row.fields,
                expected_version=0,
                actor_id=responsible,
                now=self._now(),
            ):
                await leads_repo.save_lead(uow.conn, existing)
                await self._leads._record(uow, existing, self._now())
            return existing.id
        emails: tuple[str, ...] = (attrs["email"],) if attrs.get("email") else ()
        phones: tuple[str, ...] = (attrs["phone"],) if attrs.get("phone") else ()
        contact_id = None
        if emails or phones:
            known = await contacts_repo.contacts_with(uow.conn, emails=emails, phones=phones)
            if known:
                contact_id = known[0].id
            else:
                name = attrs.get("contact_name") or (emails + phones)[0]
                values: dict[str, Any] = {
                    "name": name,
                    "emails": emails,
                    "phones": phones,
                    "company_id": None,
                    "position": "",
                    "fields": {},
                }
                contact_id = (
                    await self._contacts.insert_contact(uow, values, responsible, responsible)
                ).id
        company_id = (
            await self._company_id(uow, attrs["company"], responsible)
            if attrs.get("company")
            else None
        )
        lead = await self._leads.insert_lead(
            uow,
            funnel,
            title=attrs["title"],
            source=attrs.get("source", "import"),
            contact_id=contact_id,
            company_id=company_id,
            responsible_id=responsible,
            fields=row.fields,
            stage_id=attrs.get("stage_id"),
            actor_id=responsible,
        )
        return lead.id

    async def _deal(
        self,
        uow: UnitOfWork,
        row: Shaped,
        record_id: int | None,
        pipeline: Pipeline,
        responsible: int,
    ) -> int:
        attrs, now = row.attrs, self._now()
        values: dict[str, Any] = {
            k: attrs.get(k, "")
            for k in ("title", "amount", "currency", "company_name", "contact_name")
        }
        existing = (
            await repository.get_deal(uow.conn, record_id, for_update=True) if record_id else None
        )
        if existing is not None:
            changes = {k: v for k, v in values.items() if v}
            if existing.update(
                pipeline,
                changes=changes,
                field_changes=row.fields,
                expected_version=0,
                actor_id=responsible,
                now=now,
            ):
                await repository.save_deal(uow.conn, existing)
                await record_deal(uow, existing, now)
            return existing.id
        deal = new_deal(
            pipeline,
            responsible_id=responsible,
            fields=row.fields,
            stage_id=attrs.get("stage_id"),
            actor_id=responsible,
            now=now,
            **values,
        )
        deal.id = await repository.insert_deal(uow.conn, deal)
        await history_repository.enter_stage(
            uow.conn, deal_id=deal.id, stage_id=deal.stage_id, at=now, actor_id=responsible
        )
        await record_deal(uow, deal, now)
        return deal.id


async def _known(conn: AsyncConnection, kind: str, external_ids: list[str]) -> dict[str, int]:
    if not external_ids:
        return {}
    query = sa.select(import_keys.c.external_id, import_keys.c.record_id).where(
        import_keys.c.kind == kind, import_keys.c.external_id.in_(external_ids)
    )
    return {r.external_id: r.record_id for r in (await conn.execute(query)).all()}
