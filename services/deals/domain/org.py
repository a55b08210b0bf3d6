"""The org structure: users, departments and who heads whom."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services.common.errors import FieldProblem, ValidationFailed

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# When nobody in the chain of departments heads the user, these roles stand in, in order.
FALLBACK_ROLES = ("head_of_sales", "admin")


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    roles: tuple[str, ...]
    department_id: int | None
    active: bool
    absent: bool = False
    substitute_id: int | None = None

    def stand_in(self) -> int:
        """Who acts for this user now: the substitute while the user is absent."""
        return self.substitute_id if self.absent and self.substitute_id else self.id

    def audit(self) -> dict[str, object]:
        """The user as the audit log keeps it (never the password)."""
        return {
            "email": self.email,
            "name": self.name,
            "roles": list(self.roles),
            "department_id": self.department_id,
            "active": self.active,
            "absent": self.absent,
            "substitute_id": self.substitute_id,
        }


@dataclass(frozen=True)
class Department:
    id: int
    name: str
    parent_id: int | None
    head_id: int | None


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    password: str
    roles: tuple[str, ...]


def normalize_email(email: str) -> str:
    return email.strip().lower()


def new_user(*, email: str, name: str, password: str, roles: list[str]) -> NewUser:
    """Validate a user to create; the email is stored lower-cased."""
    problems: list[FieldProblem] = []
    email = normalize_email(email)
    if not _EMAIL.match(email) or len(email) > 320:
        problems.append(FieldProblem("email", "must be an e-mail address"))
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        problems.append(
            FieldProblem("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        )
    clean_roles = tuple(dict.fromkeys(r.strip() for r in roles))
    if not clean_roles:
        problems.append(FieldProblem("roles", "a user needs at least one role"))
    for i, role in enumerate(clean_roles):
        if not _ROLE.match(role):
            problems.append(FieldProblem(f"roles[{i}]", "must match ^[a-z][a-z0-9_]{0,62}$"))
    name = name.strip() or email.split("@")[0]
    if len(name) > 300:
        problems.append(FieldProblem("name", "must be at most 300 characters"))
    if problems:
        raise ValidationFailed(problems)
    return NewUser(email, name, password, clean_roles)


def clean_roles(roles: list[str], field: str = "roles") -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(r.strip() for r in roles))
    problems = [FieldProblem(field, "a user needs at least one role")] if not cleaned else []
    for i, role in enumerate(cleaned):
        if not _ROLE.match(role):
            problems.append(FieldProblem(f"{field}[{i}]", "must match ^[a-z][a-z0-9_]{0,62}$"))
    if problems:
        raise ValidationFailed(problems)
    return cleaned


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(
            FieldProblem("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        )


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 300:
        raise ValidationFailed(FieldProblem("name", "must be 1 to 300 characters"))
    return name


def creates_cycle(department_id: int, parent_id: int, parents: Mapping[int, int | None]) -> bool:
    """Whether hanging `department_id` under `parent_id` would make a loop."""
    seen: set[int] = set()
    current: int | None = parent_id
    while current is not None and current not in seen:
        if current == department_id:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def new_department_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 300:
        raise ValidationFailed(FieldProblem("name", "must be 1 to 300 characters"))
    return name


def head_in_chain(
    user: User,
    departments: Mapping[int, Department],
    is_active: Callable[[int], bool],
) -> int | None:
    """The head of the user's department; when there is none, or the user heads it, the head
    of the parent department, and so on up. Inactive heads are skipped."""
    seen: set[int] = set()
    department_id = user.department_id
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        department = departments.get(department_id)
        if department is None:
            return None
        head = department.head_id
        if head is not None and head != user.id and is_active(head):
            return head
        department_id = department.parent_id
    return None
