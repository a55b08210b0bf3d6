"""Bringing the database in line with a checked org file, through OrgService.

Departments are matched by name under their parent and users by e-mail, so importing the
same file twice changes nothing the second time. Each change is its own audited transaction
(as through the API); the file was checked as a whole first, so a half-done import is left
only by a fault, and importing again finishes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import click

from services.common.pagination import MAX_LIMIT
from services.deals.domain.org import Department, User, normalize_email
from services.deals.org_import import DepartmentSpec, OrgFile, UserSpec
from services.deals.org_service import OrgService

Say = Callable[[str], None]


async def all_users(org: OrgService, *, role: str = "", q: str = "") -> list[User]:
    """Every user (active or not) with the role and matching `q`, page by page."""
    found: list[User] = []
    cursor = ""
    while True:
        page = await org.list_users(
            role=role,
            department_id=None,
            include_subdepartments=False,
            include_inactive=True,
            q=q,
            cursor=cursor,
            limit=MAX_LIMIT,
        )
        found += page.items
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


async def user_by_email(org: OrgService, email: str) -> User | None:
    email = normalize_email(email)
    return next((u for u in await all_users(org, q=email) if u.email == email), None)


async def import_org(
    org: OrgService,
    plan: OrgFile,
    *,
    users: list[User],
    departments: list[Department],
    dry_run: bool,
    say: Say = click.echo,
) -> None:
    """Create what is missing and update what differs, heads and substitutes last (once
    every user exists); say what was done (or, in a dry run, what would be)."""
    run = _Import(org, users, departments, dry_run)
    for department in plan.departments:  # parents first
        await run.department(department)
    for user in plan.users:
        await run.user(user)
    for user in plan.users:
        await run.absence(user)
    for department in plan.departments:
        await run.head(department)
    _report(run.done, run.passwords, dry_run, say)


class _Import:
    def __init__(
        self, org: OrgService, users: list[User], departments: list[Department], dry_run: bool
    ) -> None:
        self.org = org
        self.dry_run = dry_run
        self.existing = {(d.name, d.parent_id): d for d in departments}
        self.current = {d.id: d for d in departments}
        self.by_name = {d.name: d.id for d in departments}  # for names the file does not have
        self.people = {u.email: u for u in users}
        # the file's departments by name; None for one a dry run would create
        self.ids: dict[str, int | None] = {}
        # what happened to each department and user: "created", or the fields that changed
        self.done: dict[tuple[str, str], str | set[str]] = {}
        self.passwords: dict[str, str] = {}  # generated ones, to show once

    async def department(self, spec: DepartmentSpec) -> None:
        parent_id = self.ids[spec.parent] if spec.parent is not None else None
        found = None
        if spec.parent is None or parent_id is not None:
            found = self.existing.get((spec.name, parent_id))
        if found is not None:
            self.ids[spec.name] = found.id
            self.done["department", spec.name] = set()
            return
        self.ids[spec.name] = None
        if not self.dry_run:
            created = await self.org.create_department(
                actor_id=None, name=spec.name, parent_id=parent_id, head_id=None
            )
            self.ids[spec.name] = created.id
        self.done["department", spec.name] = "created"

    def department_of(self, spec: UserSpec) -> int | None:
        if spec.department is None:
            return None
        if spec.department in self.ids:
            return self.ids[spec.department]
        return self.by_name[spec.department]

    async def user(self, spec: UserSpec) -> None:
        user = self.people.get(spec.email)
        if user is None:
            self.done["user", spec.email] = "created"
            password = spec.password or self.passwords.setdefault(
                spec.email, secrets.token_urlsafe(12)
            )
            if not self.dry_run:
                self.people[spec.email] = await self.org.create_user(
                    actor_id=None,
                    email=spec.email,
                    name=spec.name or "",
                    password=password,
                    roles=list(spec.roles),
                    department_id=self.department_of(spec),
                )
            return
        changes: dict[str, object] = {}
        if spec.name is not None and spec.name != user.name:
            changes["name"] = spec.name
        if spec.roles != user.roles:
            changes["roles"] = list(spec.roles)
        department_id = self.department_of(spec)
        if spec.department is not None and department_id != user.department_id:
            changes["department_id"] = department_id
        self.done["user", spec.email] = set()
        await self.update(user, changes)

    async def absence(self, spec: UserSpec) -> None:
        user = self.people.get(spec.email)
        if user is None:  # one a dry run would create
            return
        changes: dict[str, object] = {}
        if spec.absent is not None and spec.absent != user.absent:
            changes["absent"] = spec.absent
        if spec.substitute is not None:
            substitute = self.people.get(spec.substitute)
            if substitute is None or substitute.id != user.substitute_id:
                changes["substitute_id"] = substitute.id if substitute else None
        await self.update(user, changes)

    async def update(self, user: User, changes: dict[str, object]) -> None:
        outcome = self.done["user", user.email]
        if isinstance(outcome, set):
            outcome |= set(changes)
        if changes and not self.dry_run:
            self.people[user.email] = await self.org.update_user(
                actor_id=None, user_id=user.id, changes=changes
            )

    async def head(self, spec: DepartmentSpec) -> None:
        department_id = self.ids[spec.name]
        head = self.people.get(spec.head) if spec.head else None
        before = self.current.get(department_id) if department_id is not None else None
        if spec.head is None or (before and head and before.head_id == head.id):
            return
        outcome = self.done["department", spec.name]
        if isinstance(outcome, set):
            outcome.add("head")
        if not self.dry_run and department_id is not None and head is not None:
            await self.org.update_department(
                actor_id=None, department_id=department_id, changes={"head_id": head.id}
            )


def _report(
    done: dict[tuple[str, str], str | set[str]],
    passwords: dict[str, str],
    dry_run: bool,
    say: Say,
) -> None:
    would = "would be " if dry_run else ""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for (kind, what), outcome in done.items():
        if outcome == "created":
            counts["created"] += 1
            shown = passwords.get(what) if kind == "user" and not dry_run else None
            extra = f"; password {shown} (shown once)" if shown else ""
            say(f"{kind} {what}: {would}created{extra}")
        elif outcome:
            counts["updated"] += 1
            say(f"{kind} {what}: {would}updated ({', '.join(sorted(outcome))})")
        else:
            counts["unchanged"] += 1
            say(f"{kind} {what}: unchanged")
    say(
        f"{'dry run, nothing changed: ' if dry_run else ''}{counts['created']} {would}created, "
        f"{counts['updated']} {would}updated, {counts['unchanged']} unchanged"
    )
