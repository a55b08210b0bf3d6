"""The current configuration, read over gRPC, and the names that stand for its ids.

A blueprint names things (a pipeline by name, a stage by name within its pipeline, a user by
e-mail, a department by name); the services keep ids. `Names` translates both ways.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dealflow.approvals.v1 import approvals_pb2 as apb
from dealflow.deals.v1 import access_pb2, automation_pb2, deals_pb2

from services.common.errors import FieldProblem, ValidationFailed
from services.common.protoconv import from_struct


@dataclass
class Stubs:
    """The services a blueprint is applied through, each bound to the acting admin:
    awaitable methods that raise the services' domain errors."""

    deals: Any
    automation: Any
    approvals: Any


@dataclass
class Snapshot:
    pipelines: list[Any] = field(default_factory=list)  # deals_pb2.Pipeline
    rules: dict[str, list[Any]] = field(default_factory=dict)  # pipeline id -> Rule
    users: list[Any] = field(default_factory=list)
    departments: list[Any] = field(default_factory=list)
    lists: list[Any] = field(default_factory=list)
    list_items: dict[str, list[Any]] = field(default_factory=dict)  # code -> ListItem
    templates: list[Any] = field(default_factory=list)
    contract_types: list[Any] = field(default_factory=list)
    calendar: dict[str, Any] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)  # the codes of role_defs
    role_defs: list[Any] = field(default_factory=list)  # access_pb2.Role


async def read(stubs: Stubs) -> Snapshot:
    """Everything a blueprint covers, as the services hold it now."""
    snap = Snapshot()
    snap.pipelines = list(
        (await stubs.deals.ListPipelines(deals_pb2.ListPipelinesRequest())).pipelines
    )
    for p in snap.pipelines:
        reply = await stubs.deals.ListRules(deals_pb2.ListRulesRequest(pipeline_id=p.id))
        snap.rules[p.id] = list(reply.rules)
    snap.users = await _all_users(stubs)
    snap.departments = list(
        (await stubs.deals.ListDepartments(deals_pb2.ListDepartmentsRequest())).departments
    )
    snap.lists = list((await stubs.deals.ListLists(deals_pb2.ListListsRequest())).lists)
    for a_list in snap.lists:
        snap.list_items[a_list.code] = await _all_items(stubs, a_list.code)
    snap.templates = list(
        (await stubs.approvals.ListTemplates(apb.ListTemplatesRequest())).templates
    )
    snap.contract_types = list(
        (await stubs.approvals.ListContractTypes(apb.ListContractTypesRequest())).types
    )
    calendar = await stubs.automation.GetCalendar(automation_pb2.GetCalendarRequest())
    snap.calendar = from_struct(calendar.calendar)
    roles = await stubs.deals.ListRoles(access_pb2.ListRolesRequest())
    snap.role_defs = list(roles.roles)
    snap.roles = [r.code for r in roles.roles]
    return snap


async def _all_users(stubs: Stubs) -> list[Any]:
    return await _every(
        lambda cursor: stubs.deals.ListUsers(
            deals_pb2.ListUsersRequest(include_inactive=True, cursor=cursor, limit=200)
        ),
        "users",
    )


async def _all_items(stubs: Stubs, code: str) -> list[Any]:
    return await _every(
        lambda cursor: stubs.deals.ListListItems(
            deals_pb2.ListListItemsRequest(code=code, cursor=cursor, limit=200)
        ),
        "items",
    )


async def _every(page: Callable[[str], Awaitable[Any]], key: str) -> list[Any]:
    """Every record of a paged list RPC, following `next_cursor`."""
    found: list[Any] = []
    cursor = ""
    while True:
        reply = await page(cursor)
        found.extend(getattr(reply, key))
        cursor = reply.next_cursor
        if not cursor:
            return found


# Keys of ids in the services' definitions and the keys a blueprint writes for them.
_ID_KEYS = {
    "stage_id": "stage",
    "pipeline_id": "pipeline",
    "user_id": "user",
    "department_id": "department",
    "move_to_stage_id": "move_to_stage",
}
_NAME_KEYS = {v: k for k, v in _ID_KEYS.items()}
# Values that are the records' own data (field codes, process params), never translated.
_OPAQUE = {"fields", "params", "condition", "checklist"}


class Names:
    """Ids <-> names of one configuration. `to_ids` raises ValidationFailed naming `where`."""

    def __init__(
        self,
        *,
        pipelines: dict[str, str],
        stages: dict[tuple[str, str], str],
        users: dict[str, str],
        departments: dict[str, str],
    ) -> None:
        self.pipeline_ids = pipelines
        self.pipeline_names = {v: k for k, v in pipelines.items()}
        self.stage_ids = stages
        self.stages = {v: k for k, v in stages.items()}
        self.user_ids = {k.lower(): v for k, v in users.items()}
        self.emails = {v: k for k, v in users.items()}
        self.department_ids = departments
        self.department_names = {v: k for k, v in departments.items()}

    @classmethod
    def of(cls, snap: Snapshot) -> Names:
        return cls(
            pipelines={p.name: p.id for p in snap.pipelines},
            stages={(p.name, s.name): s.id for p in snap.pipelines for s in p.stages},
            users={u.email: u.id for u in snap.users},
            departments={d.name: d.id for d in snap.departments},
        )

    # ---- ids -> names ----
    def to_names(self, value: Any, pipeline: str) -> Any:
        if isinstance(value, list):
            return [self.to_names(v, pipeline) for v in value]
        if not isinstance(value, dict):
            return value
        here = self.pipeline_names.get(str(value.get("pipeline_id", "")), pipeline)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in _OPAQUE:
                out[key] = item
            elif key == "pipeline_by_field" and isinstance(item, dict):
                out[key] = self._chooser_names(item)
            elif key in _ID_KEYS and item not in ("", None):
                out[_ID_KEYS[key]] = self._name_of(key, str(item), here)
            else:
                out[key] = self.to_names(item, pipeline)
        return out

    def _name_of(self, key: str, id_: str, pipeline: str) -> Any:
        if key == "pipeline_id":
            return self.pipeline_names.get(id_, id_)
        if key == "user_id":
            return self.emails.get(id_, id_)
        if key == "department_id":
            return self.department_names.get(id_, id_)
        found = self.stages.get(id_)
        if found is None:
            return id_
        if key == "move_to_stage_id":
            return {"pipeline": found[0], "stage": found[1]}
        return found[1]

    def _chooser_names(self, chooser: dict[str, Any]) -> dict[str, Any]:
        out = dict(chooser)
        out["values"] = {
            k: self.pipeline_names.get(str(v), v) for k, v in chooser.get("values", {}).items()
        }
        if "default" in chooser:
            out["default"] = self.pipeline_names.get(str(chooser["default"]), chooser["default"])
        return out

    # ---- names -> ids ----
    def to_ids(self, value: Any, pipeline: str, where: str, *, numbers: bool = False) -> Any:
        """`value` with ids for names; `numbers`: ids as integers (a rule's shape)."""
        if isinstance(value, list):
            return [
                self.to_ids(v, pipeline, f"{where}[{i}]", numbers=numbers)
                for i, v in enumerate(value)
            ]
        if not isinstance(value, dict):
            return value
        here = (
            value.get("pipeline", pipeline) if isinstance(value.get("pipeline"), str) else pipeline
        )
        out: dict[str, Any] = {}
        for key, item in value.items():
            place = f"{where}.{key}"
            if key in _OPAQUE:
                out[key] = item
            elif key == "pipeline_by_field" and isinstance(item, dict):
                out[key] = _numbers(self._chooser_ids(item, place), numbers)
            elif key in _NAME_KEYS:
                out[_NAME_KEYS[key]] = _numbers(self.id_of(key, item, here, place), numbers)
            else:
                out[key] = self.to_ids(item, pipeline, place, numbers=numbers)
        return out

    def id_of(self, key: str, name: Any, pipeline: str, where: str) -> str:
        if key == "move_to_stage" and isinstance(name, dict):
            return self.stage_id(str(name.get("pipeline")), str(name.get("stage")), where)
        if key == "pipeline":
            return self.pipeline_id(str(name), where)
        if key == "user":
            return self.user_id(str(name), where)
        if key == "department":
            return self._find(self.department_ids, str(name), where, "department")
        return self.stage_id(pipeline, str(name), where)

    def _chooser_ids(self, chooser: dict[str, Any], where: str) -> dict[str, Any]:
        out = dict(chooser)
        values = chooser.get("values", {})
        if isinstance(values, dict):
            out["values"] = {
                k: self.pipeline_id(str(v), f"{where}.values.{k}") for k, v in values.items()
            }
        if "default" in chooser:
            out["default"] = self.pipeline_id(str(chooser["default"]), f"{where}.default")
        return out

    def pipeline_id(self, name: str, where: str) -> str:
        return self._find(self.pipeline_ids, name, where, "pipeline")

    def stage_id(self, pipeline: str, stage: str, where: str) -> str:
        found = self.stage_ids.get((pipeline, stage))
        if found is None:
            raise ValidationFailed(FieldProblem(where, f"no stage '{stage}' in '{pipeline}'"))
        return found

    def user_id(self, email: str, where: str) -> str:
        return self._find(self.user_ids, email.lower(), where, "user")

    @staticmethod
    def _find(table: dict[str, str], name: str, where: str, what: str) -> str:
        found = table.get(name)
        if found is None:
            raise ValidationFailed(FieldProblem(where, f"no {what} '{name}'"))
        return found


def _numbers(value: Any, numbers: bool) -> Any:
    if not numbers:
        return value
    if isinstance(value, dict):
        return {k: _numbers(v, numbers) for k, v in value.items()}
    return int(value) if isinstance(value, str) and value.isdigit() else value
