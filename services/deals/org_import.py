"""An org structure as a YAML file: parsing and checking it, with no I/O.

The whole file is checked before anything is changed, and every problem is reported with its
place in the file (`users[3].roles[0]: no role 'dirctor'`). Departments are a tree and are
referred to by name, so a name appears once in a file; users are known by e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed
from services.common.yaml_text import load_yaml
from services.deals.domain.org import new_department_name, new_user, normalize_email

_TOP_KEYS = ("departments", "users")
_DEPARTMENT_KEYS = ("name", "head", "children")
_USER_KEYS = ("email", "name", "roles", "department", "password", "substitute", "absent")
# Stands in for an absent password while the other fields are checked: a missing one is
# generated when the user is created.
_ANY_PASSWORD = "x" * 16


@dataclass(frozen=True)
class DepartmentSpec:
    where: str  # its place in the file, for messages
    name: str
    parent: str | None  # the parent's name; parents come before their children
    head: str | None  # an e-mail


@dataclass(frozen=True)
class UserSpec:
    """A user as the file gives it; None means the file leaves that field alone."""

    where: str
    email: str
    name: str | None
    roles: tuple[str, ...]
    department: str | None
    password: str | None  # the first password of a new user; an existing user keeps theirs
    substitute: str | None
    absent: bool | None


@dataclass(frozen=True)
class OrgFile:
    departments: tuple[DepartmentSpec, ...]
    users: tuple[UserSpec, ...]


def parse_org(
    text: str,
    *,
    roles: Collection[str],
    emails: Collection[str] = (),
    departments: Collection[str] = (),
) -> OrgFile:
    """The org in a YAML text, checked against the `roles` that exist, the `emails` of users
    already there (heads and substitutes may be either) and the names of `departments`
    already there (users may name one that the file does not); ValidationFailed lists every
    problem."""
    data = load_yaml(text)
    checker = _Checker(roles=set(roles))
    org = checker.org(data)
    checker.references(org, emails={normalize_email(e) for e in emails}, names=set(departments))
    if checker.problems:
        raise ValidationFailed(sorted(checker.problems, key=lambda p: _in_file_order(p.field)))
    return org


def _in_file_order(where: str) -> tuple[str | int, ...]:
    """`users[10]` after `users[9]`: the numbers in a place compared as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", where))


class _Checker:
    def __init__(self, *, roles: set[str]) -> None:
        self.roles = roles
        self.problems: list[FieldProblem] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(FieldProblem(where, message))

    def org(self, data: object) -> OrgFile:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.problem("file", "must be a mapping with departments: and users:")
            return OrgFile((), ())
        self.unknown_keys(data, _TOP_KEYS, "")
        departments: list[DepartmentSpec] = []
        for i, item in enumerate(self.items(data, "departments", "departments")):
            self.department(item, f"departments[{i}]", None, departments)
        users = [
            user
            for i, item in enumerate(self.items(data, "users", "users"))
            if (user := self.user(item, f"users[{i}]")) is not None
        ]
        return OrgFile(tuple(departments), tuple(users))

    def department(
        self, item: object, where: str, parent: str | None, out: list[DepartmentSpec]
    ) -> None:
        if not isinstance(item, dict):
            self.problem(where, "must be a mapping with name:, head: and children:")
            return
        self.unknown_keys(item, _DEPARTMENT_KEYS, where)
        name = self.text(item, "name", where, required=True)
        if name is not None:
            try:
                name = new_department_name(name)
            except ValidationFailed as exc:
                self.nested(exc, where)
                name = None
        head = self.text(item, "head", where)
        if name is not None:
            out.append(DepartmentSpec(where, name, parent, normalize_email(head) if head else None))
        for i, child in enumerate(self.items(item, "children", where)):
            # a child of a department that has no name is still checked, as a top one
            self.department(child, f"{where}.children[{i}]", name, out)

    def user(self, item: object, where: str) -> UserSpec | None:
        if not isinstance(item, dict):
            self.problem(where, "must be a mapping with email:, roles: and so on")
            return None
        self.unknown_keys(item, _USER_KEYS, where)
        email = self.text(item, "email", where, required=True)
        name = self.text(item, "name", where)
        password = self.text(item, "password", where)
        roles = self.items(item, "roles", where, required=True)
        for i, role in enumerate(roles):
            if not isinstance(role, str):
                self.problem(f"{where}.roles[{i}]", "must be a text")
        absent = item.get("absent")
        if absent is not None and not isinstance(absent, bool):
            self.problem(f"{where}.absent", "must be true or false")
            absent = None
        department = self.text(item, "department", where)
        substitute = self.text(item, "substitute", where)
        if not all(isinstance(r, str) for r in roles):
            return None
        try:
            draft = new_user(
                email=email or "",
                name=name or "",
                password=_ANY_PASSWORD if password is None else password,
                roles=[str(r) for r in roles],
            )
        except ValidationFailed as exc:
            # `roles` and `roles[i]` problems name the same places as the file does
            self.nested(exc, where)
            draft = None
        flagged = {p.field for p in self.problems}
        for i, role in enumerate(str(r).strip() for r in roles):
            place = f"{where}.roles[{i}]"
            if place not in flagged and role not in self.roles:
                self.problem(place, f"no role {role!r}")
        if draft is None:
            return None
        return UserSpec(
            where=where,
            email=draft.email,
            name=draft.name if name is not None else None,
            roles=draft.roles,
            department=department.strip() if department is not None else None,
            password=password,
            substitute=normalize_email(substitute) if substitute else None,
            absent=absent,
        )

    def references(self, org: OrgFile, *, emails: set[str], names: set[str]) -> None:
        seen: dict[str, str] = {}
        for d in org.departments:
            if d.name in seen:
                self.problem(f"{d.where}.name", f"{d.name!r} is also at {seen[d.name]}")
            seen.setdefault(d.name, d.where)
        people: dict[str, str] = {}
        for u in org.users:
            if u.email in people:
                self.problem(f"{u.where}.email", f"{u.email} is also at {people[u.email]}")
            people.setdefault(u.email, u.where)
        known = emails | set(people)
        for d in org.departments:
            if d.head is not None and d.head not in known:
                self.problem(f"{d.where}.head", f"no user {d.head} in the file or the database")
        for u in org.users:
            if u.department is not None and u.department not in set(seen) | names:
                self.problem(f"{u.where}.department", f"no department {u.department!r}")
            if u.substitute == u.email:
                self.problem(f"{u.where}.substitute", "a user cannot substitute themself")
            elif u.substitute is not None and u.substitute not in known:
                self.problem(f"{u.where}.substitute", f"no user {u.substitute}")

    # ---- small readers ----
    def unknown_keys(self, item: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in item:
            if key not in allowed:
                place = f"{where}.{key}" if where else str(key)
                self.problem(place, f"unknown key; use {', '.join(allowed)}")

    def items(
        self, item: Mapping[str, Any], key: str, where: str, *, required: bool = False
    ) -> list[object]:
        place = key if where == key else f"{where}.{key}"
        value = item.get(key)
        if value is None:
            if required:
                self.problem(place, "is required")
            return []
        if not isinstance(value, list):
            self.problem(place, "must be a list")
            return []
        return value

    def text(
        self, item: Mapping[str, Any], key: str, where: str, *, required: bool = False
    ) -> str | None:
        value = item.get(key)
        if value is None:
            if required:
                self.problem(f"{where}.{key}", "is required")
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.problem(f"{where}.{key}", "must be a text")
            return None
        return str(value)

    def nested(self, exc: ValidationFailed, where: str) -> None:
        """The domain's problems, placed in the file; a field already reported (missing, or
        not a text) is reported once."""
        flagged = {p.field for p in self.problems}
        for p in exc.problems:
            if f"{where}.{p.field}" not in flagged:
                self.problem(f"{where}.{p.field}", p.message)
