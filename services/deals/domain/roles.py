"""Roles as data: what each role sees and may do, the defaults a new install gets, and a
user's effective access (the union of their roles)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.common.access import Level, Permission, widest
from services.common.errors import FieldProblem, ValidationFailed

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
P = Permission


@dataclass(frozen=True)
class PipelineAccess:
    """A role's rule for the deals of one pipeline: how far it sees, and which stages it may
    move a deal into (empty: any)."""

    pipeline_id: int
    visibility: Level
    move_to_stage_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Role:
    code: str
    name: str
    visibility: Level
    permissions: frozenset[str]
    pipelines: Mapping[int, PipelineAccess] = field(default_factory=dict)


def _role(code: str, name: str, visibility: Level, *permissions: Permission) -> Role:
    return Role(code, name, visibility, frozenset(str(p) for p in permissions))


_SELLING = (
    P.DEALS_CREATE,
    P.DEALS_EDIT,
    P.DEALS_MOVE,
    P.CONTRACTS_CREATE,
    P.INVOICES_REQUEST,
    P.PAYMENT_REQUESTS_CREATE,
    P.EXPENSES_CREATE,
    P.FILES_UPLOAD,
)
_ACCOUNTING = (
    P.INVOICES_ISSUE,
    P.PAYMENTS_RECORD,
    P.EXPENSES_CREATE,
    P.EXPENSES_PAY,
    P.FILES_UPLOAD,
)

# What a new install gets; admins change them through the API (roles are data).
DEFAULT_ROLES: tuple[Role, ...] = (
    _role("admin", "Administrator", Level.ALL, *Permission),
    _role(
        "ceo",
        "Chief executive",
        Level.ALL,
        *_SELLING,
        P.DEALS_DELETE,
        P.DEALS_REASSIGN,
        P.REPORTS_MARGIN,
        P.CONTRACTS_EDIT,
    ),
    _role(
        "head_of_sales",
        "Head of sales",
        Level.DEPARTMENT,
        *_SELLING,
        P.DEALS_DELETE,
        P.DEALS_REASSIGN,
        P.REPORTS_MARGIN,
        P.CONTRACTS_EDIT,
    ),
    _role("manager", "Manager", Level.OWN, *_SELLING),
    _role("accountant", "Accountant", Level.ALL, *_ACCOUNTING),
    _role(
        "deputy_chief_accountant",
        "Deputy chief accountant",
        Level.ALL,
        *_ACCOUNTING,
        P.SCHEDULE_RESET,
    ),
    _role("lawyer", "Lawyer", Level.ALL, P.CONTRACTS_EDIT, P.FILES_UPLOAD),
    _role("operator", "Accounting-system operator", Level.ALL, P.FILES_UPLOAD),
    _role("storekeeper", "Storekeeper", Level.OWN, P.FILES_UPLOAD),
    _role("designer", "Designer", Level.OWN, P.FILES_UPLOAD),
    _role("driver", "Driver", Level.OWN, P.FILES_UPLOAD),
    _role("clerk", "Clerk", Level.OWN, P.DEALS_EDIT, P.CONTRACTS_CREATE, P.FILES_UPLOAD),
)


def validate_role(
    *,
    code: str,
    name: str,
    visibility: str,
    permissions: Iterable[str],
    pipelines: Iterable[tuple[int, str, Iterable[int]]],
) -> Role:
    """A role to store; every problem is reported at once."""
    problems: list[FieldProblem] = []
    if not _CODE.match(code):
        problems.append(FieldProblem("code", "must match ^[a-z][a-z0-9_]{0,62}$"))
    name = name.strip() or code
    if len(name) > 300:
        problems.append(FieldProblem("name", "must be at most 300 characters"))
    level = _level(visibility, "visibility", problems)
    known = {str(p) for p in Permission}
    perms = frozenset(permissions)
    for bad in sorted(perms - known):
        problems.append(FieldProblem("permissions", f"unknown permission {bad!r}"))
    rules: dict[int, PipelineAccess] = {}
    for i, (pipeline_id, pipeline_level, stages) in enumerate(pipelines):
        rule_level = _level(pipeline_level, f"pipelines[{i}].visibility", problems)
        if pipeline_id in rules:
            problems.append(FieldProblem(f"pipelines[{i}].pipeline_id", "is given twice"))
        rules[pipeline_id] = PipelineAccess(pipeline_id, rule_level, frozenset(stages))
    if problems:
        raise ValidationFailed(problems)
    return Role(code, name, level, perms, rules)


def _level(value: str, where: str, problems: list[FieldProblem]) -> Level:
    try:
        return Level(value)
    except ValueError:
        problems.append(FieldProblem(where, "must be one of none, own, department, all"))
        return Level.NONE


@dataclass(frozen=True)
class Effective:
    """A user's rights from all their roles: the widest visibility (per pipeline too), every
    permission, and the stages they may move into per pipeline (None: any)."""

    visibility: Level
    permissions: frozenset[str]
    pipelines: Mapping[int, Level]
    move_to: Mapping[int, frozenset[int] | None]

    def visibility_in(self, pipeline_id: int) -> Level:
        return self.pipelines.get(pipeline_id, self.visibility)

    def may_move_into(self, pipeline_id: int, stage_id: int) -> bool:
        allowed = self.move_to.get(pipeline_id)
        return allowed is None or stage_id in allowed


def effective(roles: Iterable[Role]) -> Effective:
    roles = list(roles)
    pipeline_ids = {p for role in roles for p in role.pipelines}
    pipelines: dict[int, Level] = {}
    move_to: dict[int, frozenset[int] | None] = {}
    for pipeline_id in pipeline_ids:
        levels = []
        stages: set[int] = set()
        unrestricted = False
        for role in roles:
            rule = role.pipelines.get(pipeline_id)
            levels.append(rule.visibility if rule else role.visibility)
            if rule is None or not rule.move_to_stage_ids:
                unrestricted = True
            else:
                stages |= rule.move_to_stage_ids
        pipelines[pipeline_id] = widest(levels)
        move_to[pipeline_id] = None if unrestricted else frozenset(stages)
    return Effective(
        visibility=widest(r.visibility for r in roles),
        permissions=frozenset(p for r in roles for p in r.permissions),
        pipelines=pipelines,
        move_to=move_to,
    )


def department_subtree(root: int, parents: Mapping[int, int | None]) -> set[int]:
    """`root` and every department below it."""
    children: dict[int, list[int]] = {}
    for department, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(department)
    found, stack = set(), [root]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, ()))
    return found


@dataclass(frozen=True)
class Visible:
    """Whose deals a list may show: `default` owners, or per pipeline (None: everyone's)."""

    default: frozenset[int] | None
    pipelines: Mapping[int, frozenset[int] | None]
