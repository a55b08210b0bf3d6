"""Contacts and companies rows <-> domain objects (SQLAlchemy Core)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.domain.contacts import Company, Contact, normalize_email, normalize_phone
from services.deals.tables import companies, contacts


def _like(q: str) -> str:
    escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ---- contacts ----
def _contact_values(c: Contact) -> dict[str, Any]:
    return {
        "name": c.name,
        "emails": list(c.emails),
        "phones": list(c.phones),
        "company_id": c.company_id,
        "position": c.position,
        "responsible_id": c.responsible_id,
        "fields": c.fields,
        "merged_into_id": c.merged_into_id,
        "version": c.version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


async def insert_contact(conn: AsyncConnection, contact: Contact) -> int:
    query = contacts.insert().values(**_contact_values(contact)).returning(contacts.c.id)
    return int((await conn.execute(query)).scalar_one())


async def save_contact(conn: AsyncConnection, contact: Contact) -> None:
    query = contacts.update().where(contacts.c.id == contact.id)
    await conn.execute(query.values(**_contact_values(contact)))


async def get_contact(
    conn: AsyncConnection, contact_id: int, *, for_update: bool = False
) -> Contact | None:
    query = sa.select(contacts).where(contacts.c.id == contact_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _contact(row) if row else None


async def contacts_with(
    conn: AsyncConnection, *, emails: tuple[str, ...], phones: tuple[str, ...]
) -> list[Contact]:
    """Live (not merged) contacts holding any of these normalised addresses, oldest first."""
    if not emails and not phones:
        return []
    query = (
        sa.select(contacts)
        .where(
            contacts.c.merged_into_id.is_(None),
            sa.or_(
                contacts.c.emails.overlap(list(emails)), contacts.c.phones.overlap(list(phones))
            ),
        )
        .order_by(contacts.c.id)
    )
    return [_contact(r) for r in (await conn.execute(query)).all()]


@dataclass(frozen=True)
class ContactFilter:
    q: str = ""
    company_id: int | None = None
    owners: frozenset[int] | None = None  # None: everyone's


async def list_contacts(
    conn: AsyncConnection, where: ContactFilter, *, before_id: int | None, limit: int
) -> list[Contact]:
    query = (
        sa.select(contacts)
        .where(contacts.c.merged_into_id.is_(None))
        .order_by(contacts.c.id.desc())
        .limit(limit)
    )
    if where.company_id is not None:
        query = query.where(contacts.c.company_id == where.company_id)
    if where.owners is not None:
        query = query.where(contacts.c.responsible_id.in_(sorted(where.owners)))
    if where.q.strip():
        found: list[sa.ColumnElement[bool]] = [contacts.c.name.ilike(_like(where.q), escape="\\")]
        email, phone = normalize_email(where.q), normalize_phone(where.q)
        if email:
            found.append(sa.literal(email) == sa.any_(contacts.c.emails))
        elif "@" in where.q:  # a part of an address
            pattern = _like(where.q.lower())
            found.append(sa.func.array_to_string(contacts.c.emails, " ").like(pattern, escape="\\"))
        if phone:
            found.append(sa.literal(phone) == sa.any_(contacts.c.phones))
        query = query.where(sa.or_(*found))
    if before_id is not None:
        query = query.where(contacts.c.id < before_id)
    return [_contact(r) for r in (await conn.execute(query)).all()]


def _contact(row: sa.Row[Any]) -> Contact:
    return Contact(
        id=row.id,
        name=row.name,
        emails=tuple(row.emails),
        phones=tuple(row.phones),
        company_id=row.company_id,
        position=row.position,
        responsible_id=row.responsible_id,
        fields=dict(row.fields),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        merged_into_id=row.merged_into_id,
    )


# ---- companies ----
async def insert_company(conn: AsyncConnection, company: Company) -> int:
    query = (
        companies.insert()
        .values(
            name=company.name,
            registration_ids=company.registration_ids,
            addresses=list(company.addresses),
            responsible_id=company.responsible_id,
            fields=company.fields,
            version=company.version,
            created_at=company.created_at,
            updated_at=company.updated_at,
        )
        .returning(companies.c.id)
    )
    return int((await conn.execute(query)).scalar_one())


async def save_company(conn: AsyncConnection, company: Company) -> None:
    await conn.execute(
        companies.update()
        .where(companies.c.id == company.id)
        .values(
            name=company.name,
            registration_ids=company.registration_ids,
            addresses=list(company.addresses),
            responsible_id=company.responsible_id,
            fields=company.fields,
            version=company.version,
            updated_at=company.updated_at,
        )
    )


async def company_named(conn: AsyncConnection, name: str) -> Company | None:
    """The oldest company of exactly this name (case aside)."""
    query = (
        sa.select(companies)
        .where(sa.func.lower(companies.c.name) == name.strip().lower())
        .order_by(companies.c.id)
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return _company(row) if row else None


async def get_company(conn: AsyncConnection, company_id: int) -> Company | None:
    row = (await conn.execute(sa.select(companies).where(companies.c.id == company_id))).first()
    return _company(row) if row else None


async def list_companies(
    conn: AsyncConnection,
    *,
    q: str,
    owners: frozenset[int] | None,
    before_id: int | None,
    limit: int,
) -> list[Company]:
    query = sa.select(companies).order_by(companies.c.id.desc()).limit(limit)
    if owners is not None:
        query = query.where(companies.c.responsible_id.in_(sorted(owners)))
    if q.strip():
        by_id = sa.func.jsonb_path_exists(
            companies.c.registration_ids,
            sa.cast(sa.literal("$.* ? (@ == $v)"), pg.JSONPATH),
            sa.func.jsonb_build_object("v", q.strip()),
        )
        query = query.where(sa.or_(companies.c.name.ilike(_like(q), escape="\\"), by_id))
    if before_id is not None:
        query = query.where(companies.c.id < before_id)
    return [_company(r) for r in (await conn.execute(query)).all()]


def _company(row: sa.Row[Any]) -> Company:
    return Company(
        id=row.id,
        name=row.name,
        registration_ids=dict(row.registration_ids),
        addresses=tuple(row.addresses),
        responsible_id=row.responsible_id,
        fields=dict(row.fields),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
