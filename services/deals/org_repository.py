"""Users, departments and admin lists rows <-> domain objects (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.domain.lists import AdminList, Column, ColumnType, ListItem
from services.deals.domain.org import Department, NewUser, User
from services.deals.tables import departments, list_items, lists, users

_USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.name,
    users.c.roles,
    users.c.department_id,
    users.c.active,
    users.c.absent,
    users.c.substitute_id,
)


# ---- users ----
async def insert_user(
    conn: AsyncConnection,
    user: NewUser,
    *,
    password_hash: str,
    department_id: int | None,
    now: datetime,
) -> User | None:
    """The stored user, or None when the e-mail is taken (case-insensitively)."""
    row = (
        await conn.execute(
            insert(users)
            .values(
                email=user.email,
                name=user.name,
                password_hash=password_hash,
                roles=list(user.roles),
                department_id=department_id,
                active=True,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(*_USER_COLUMNS)
        )
    ).first()
    return _user(row) if row else None


async def get_user(conn: AsyncConnection, user_id: int) -> User | None:
    row = (await conn.execute(sa.select(*_USER_COLUMNS).where(users.c.id == user_id))).first()
    return _user(row) if row else None


async def user_with_hash(conn: AsyncConnection, email: str) -> tuple[User, str] | None:
    query = sa.select(*_USER_COLUMNS, users.c.password_hash).where(
        sa.func.lower(users.c.email) == email.lower()
    )
    row = (await conn.execute(query)).first()
    return (_user(row), row.password_hash) if row else None


async def active_ids(conn: AsyncConnection, ids: list[int]) -> set[int]:
    query = sa.select(users.c.id).where(users.c.id.in_(ids), users.c.active)
    return set((await conn.execute(query)).scalars())


async def first_with_role(conn: AsyncConnection, role: str, *, besides: int) -> User | None:
    """The longest-standing active user with that role, other than `besides`."""
    query = (
        sa.select(*_USER_COLUMNS)
        .where(users.c.active, users.c.roles.any_() == role, users.c.id != besides)
        .order_by(users.c.id)
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return _user(row) if row else None


def _user(row: Any) -> User:
    return User(
        row.id,
        row.email,
        row.name,
        tuple(row.roles),
        row.department_id,
        row.active,
        row.absent,
        row.substitute_id,
    )


async def get_user_for_update(conn: AsyncConnection, user_id: int) -> User | None:
    query = sa.select(*_USER_COLUMNS).where(users.c.id == user_id).with_for_update()
    row = (await conn.execute(query)).first()
    return _user(row) if row else None


async def save_user(conn: AsyncConnection, user: User, *, password_hash: str | None = None) -> None:
    values: dict[str, Any] = {
        "name": user.name,
        "roles": list(user.roles),
        "department_id": user.department_id,
        "active": user.active,
        "absent": user.absent,
        "substitute_id": user.substitute_id,
    }
    if password_hash is not None:
        values["password_hash"] = password_hash
    await conn.execute(users.update().where(users.c.id == user.id).values(**values))


async def find_users(
    conn: AsyncConnection,
    *,
    role: str,
    department_ids: set[int] | None,
    include_inactive: bool,
    q: str,
    before_id: int | None,
    limit: int,
) -> list[User]:
    """Users newest first, filtered."""
    query = sa.select(*_USER_COLUMNS).order_by(users.c.id.desc()).limit(limit)
    if role:
        query = query.where(users.c.roles.any_() == role)
    if department_ids is not None:
        query = query.where(users.c.department_id.in_(department_ids))
    if not include_inactive:
        query = query.where(users.c.active)
    if q:
        needle = q.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(users.c.name).contains(needle, autoescape=True),
                sa.func.lower(users.c.email).contains(needle, autoescape=True),
            )
        )
    if before_id is not None:
        query = query.where(users.c.id < before_id)
    return [_user(r) for r in (await conn.execute(query)).all()]


# ---- departments ----
async def insert_department(
    conn: AsyncConnection, *, name: str, parent_id: int | None, head_id: int | None, now: datetime
) -> Department:
    row = (
        await conn.execute(
            departments.insert()
            .values(name=name, parent_id=parent_id, head_id=head_id, created_at=now)
            .returning(departments)
        )
    ).one()
    return _department(row)


async def department_exists(conn: AsyncConnection, department_id: int) -> bool:
    query = sa.select(departments.c.id).where(departments.c.id == department_id)
    return (await conn.execute(query)).first() is not None


async def all_departments(conn: AsyncConnection) -> dict[int, Department]:
    rows = (await conn.execute(sa.select(departments))).all()
    return {r.id: _department(r) for r in rows}


async def save_department(conn: AsyncConnection, department: Department) -> None:
    await conn.execute(
        departments.update()
        .where(departments.c.id == department.id)
        .values(name=department.name, parent_id=department.parent_id, head_id=department.head_id)
    )


def _department(row: sa.Row[Any]) -> Department:
    return Department(row.id, row.name, row.parent_id, row.head_id)


# ---- admin lists ----
async def insert_list(conn: AsyncConnection, admin_list: AdminList, now: datetime) -> bool:
    """False when a list with that code exists."""
    columns = [{"code": c.code, "name": c.name, "type": c.type.value} for c in admin_list.columns]
    row = (
        await conn.execute(
            insert(lists)
            .values(code=admin_list.code, name=admin_list.name, columns=columns, created_at=now)
            .on_conflict_do_nothing()
            .returning(lists.c.code)
        )
    ).first()
    return row is not None


async def all_lists(conn: AsyncConnection) -> list[AdminList]:
    rows = (await conn.execute(sa.select(lists.c.code).order_by(lists.c.code))).all()
    found = [await get_list(conn, row.code) for row in rows]
    return [item for item in found if item is not None]


async def get_list(conn: AsyncConnection, code: str) -> AdminList | None:
    row = (await conn.execute(sa.select(lists).where(lists.c.code == code))).first()
    if row is None:
        return None
    columns = tuple(Column(c["code"], c["name"], ColumnType(c["type"])) for c in row.columns)
    return AdminList(row.code, row.name, columns)


async def insert_item(
    conn: AsyncConnection, *, list_code: str, values: dict[str, Any], now: datetime
) -> ListItem:
    query = (
        list_items.insert()
        .values(list_code=list_code, values=values, created_at=now)
        .returning(list_items.c.id)
    )
    return ListItem(int((await conn.execute(query)).scalar_one()), list_code, values)


async def get_item(
    conn: AsyncConnection, list_code: str, item_id: int, *, for_update: bool = False
) -> ListItem | None:
    query = sa.select(list_items).where(
        list_items.c.list_code == list_code, list_items.c.id == item_id
    )
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return ListItem(row.id, row.list_code, dict(row.values)) if row else None


async def save_item(conn: AsyncConnection, item: ListItem) -> None:
    await conn.execute(
        list_items.update().where(list_items.c.id == item.id).values(values=item.values)
    )


async def list_items_of(
    conn: AsyncConnection, list_code: str, *, before_id: int | None, limit: int
) -> list[ListItem]:
    query = (
        sa.select(list_items)
        .where(list_items.c.list_code == list_code)
        .order_by(list_items.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(list_items.c.id < before_id)
    return [ListItem(r.id, r.list_code, dict(r.values)) for r in (await conn.execute(query)).all()]
