"""Applying a blueprint: the plan first (the whole file checked, nothing changed on a
problem), then each change through the owning service's gRPC API, in the plan's order."""

from __future__ import annotations

import secrets
from typing import Any

from dealflow.approvals.v1 import approvals_pb2 as apb
from dealflow.deals.v1 import access_pb2, automation_pb2, deals_pb2

from services.blueprints import current
from services.blueprints.current import Names, Stubs
from services.blueprints.document import Doc
from services.blueprints.plan import plan
from services.blueprints.plan_parts import Change
from services.common.errors import FieldProblem, ValidationFailed
from services.common.protoconv import from_struct, to_struct


async def apply_blueprint(doc: Doc, stubs: Stubs, *, dry_run: bool) -> list[dict[str, str]]:
    """The changes applying `doc` makes (a dry run: would make). A service refusing a
    change midway answers ValidationFailed at the change's place; what came before it
    stays applied, and applying again goes on from there."""
    snap = await current.read(stubs)
    changes = plan(doc, snap)
    if dry_run:
        return [c.public() for c in changes]
    names = Names.of(snap)
    phase = changes[0].phase if changes else 0
    for change in changes:
        if change.phase != phase:
            names, phase = Names.of(await current.read(stubs)), change.phase
        try:
            await _apply(change, stubs, names)
        except ValidationFailed as exc:
            raise ValidationFailed(
                [FieldProblem(_at(change.place, p.field), p.message) for p in exc.problems],
                f"{change.place}: refused by the service; the changes before it were applied",
            ) from None
    return [c.public() for c in changes]


def _at(place: str, field: str) -> str:
    return f"{place}.{field}" if field else place


async def _apply(c: Change, stubs: Stubs, names: Names) -> None:
    deals, item = stubs.deals, c.item
    match c.kind, c.action:
        case "calendar", _:
            now = await stubs.automation.GetCalendar(automation_pb2.GetCalendarRequest())
            merged = {**from_struct(now.calendar), **item}
            await stubs.automation.PutCalendar(
                automation_pb2.PutCalendarRequest(calendar=to_struct(merged))
            )
        case "role", _:
            kept = (await deals.ListRoles(access_pb2.ListRolesRequest())).roles
            before = next((r for r in kept if r.code == item["code"]), None)
            role = access_pb2.Role(
                code=item["code"],
                name=item["name"],
                visibility=item.get("visibility", before.visibility if before else "own"),
                permissions=item.get("permissions", []),
                pipelines=list(before.pipelines) if before else [],  # kept: not in the file
            )
            await deals.PutRole(access_pb2.PutRoleRequest(role=role))
        case "department", "create":
            parent = names.department_ids.get(item["parent"], "") if item["parent"] else ""
            made = await deals.CreateDepartment(
                deals_pb2.CreateDepartmentRequest(name=item["name"], parent_id=parent)
            )
            names.department_ids[item["name"]] = made.id
        case "department", "update":
            parent = names.department_ids[item["parent"]] if item["parent"] else ""
            request = deals_pb2.UpdateDepartmentRequest(
                id=names.department_ids[item["name"]], set_fields=["parent_id"], parent_id=parent
            )
            if item["head"]:
                request.set_fields.append("head_id")
                request.head_id = names.user_id(item["head"], c.place + ".head")
            await deals.UpdateDepartment(request)
        case "user", "create":
            password = item.get("password")
            if password is None:
                password = secrets.token_urlsafe(12)
                c.detail = f"password: {password}"
            made = await deals.CreateUser(
                deals_pb2.CreateUserRequest(
                    email=item["email"],
                    name=item.get("name") or item["email"].split("@")[0],
                    password=password,
                    roles=item.get("roles", []),
                    department_id=_department(names, item, c.place),
                )
            )
            names.user_ids[item["email"].lower()] = made.id
        case "user", "update" if c.detail == "absence":
            absence = deals_pb2.UpdateUserRequest(id=names.user_id(item["email"], c.place))
            if "absent" in item:
                absence.set_fields.append("absent")
                absence.absent = item["absent"]
            if "substitute" in item:
                absence.set_fields.append("substitute_id")
                absence.substitute_id = names.user_id(item["substitute"], c.place + ".substitute")
            await deals.UpdateUser(absence)
        case "user", "update":
            user = deals_pb2.UpdateUserRequest(id=c.target)
            for key in ("name", "roles"):
                if key in item:
                    user.set_fields.append(key)
            user.name = item.get("name", "")
            user.roles.extend(item.get("roles", []))
            if "department" in item:
                user.set_fields.append("department_id")
                user.department_id = _department(names, item, c.place)
            await deals.UpdateUser(user)
        case "list", _:
            columns = [
                deals_pb2.ListColumn(
                    code=k["code"], name=k.get("name", k["code"]), type=k.get("type", "string")
                )
                for k in item["columns"]
            ]
            await deals.CreateList(
                deals_pb2.CreateListRequest(code=item["code"], name=item["name"], columns=columns)
            )
        case "list_item", action:
            values = _row_ids(item, names, c.place)
            if action == "create":
                await deals.CreateListItem(
                    deals_pb2.CreateListItemRequest(code=item["code"], values=values)
                )
            else:
                await deals.UpdateListItem(
                    deals_pb2.UpdateListItemRequest(code=item["code"], id=c.target, values=values)
                )
        case "pipeline", _:
            stages = [
                deals_pb2.StageInput(name=s["name"], semantic=s["semantic"]) for s in item["stages"]
            ]
            await deals.CreatePipeline(
                deals_pb2.CreatePipelineRequest(
                    name=item["name"], kind=item.get("kind", "deal"), stages=stages
                )
            )
        case "stage", _:
            await deals.AddStage(
                deals_pb2.AddStageRequest(
                    pipeline_id=names.pipeline_id(c.target, c.place),
                    stage=deals_pb2.StageInput(name=item["name"], semantic=item["semantic"]),
                    position=item["position"],
                )
            )
        case "field", _:
            await deals.CreateField(_field_request(item, c.target, names, c.place))
        case "rule", action:
            shape = {k: v for k, v in item.items() if k != "active"}
            pipeline = c.detail or c.target
            definition = to_struct(names.to_ids(shape, pipeline, c.place, numbers=True))
            active = bool(item.get("active", True))
            if action == "create":
                await deals.CreateRule(
                    deals_pb2.CreateRuleRequest(
                        pipeline_id=names.pipeline_id(c.target, c.place),
                        definition=definition,
                        active=active,
                    )
                )
            else:
                await deals.UpdateRule(
                    deals_pb2.UpdateRuleRequest(
                        pipeline_id=names.pipeline_id(c.detail, c.place),
                        id=c.target,
                        set_fields=["definition", "active"],
                        definition=definition,
                        active=active,
                    )
                )
        case "approval_template", _:
            shape = {k: v for k, v in item.items() if k not in ("code", "name")}
            template = apb.Template(
                code=item["code"],
                name=item["name"],
                definition=to_struct(names.to_ids(shape, "", c.place)),
            )
            await stubs.approvals.PutTemplate(apb.PutTemplateRequest(template=template))
        case "contract_type", _:
            await stubs.approvals.PutContractType(
                apb.ContractType(
                    code=item["code"], name=item["name"], template_code=item["template"]
                )
            )


def _department(names: Names, item: Doc, where: str) -> str:
    if not item.get("department"):
        return ""
    return str(names.to_ids({"department": item["department"]}, "", where)["department_id"])


def _row_ids(item: Doc, names: Names, where: str) -> Any:
    values = {
        k: names.user_id(str(v), f"{where}.{k}") if k in item["users"] else v
        for k, v in item["values"].items()
    }
    return to_struct(values)


def _field_request(f: Doc, pipeline: str, names: Names, where: str) -> Any:
    def stage_ids(key: str) -> list[str]:
        return [names.stage_id(pipeline, s, f"{where}.{key}") for s in f.get(key, [])]

    return deals_pb2.CreateFieldRequest(
        pipeline_id=names.pipeline_id(pipeline, where),
        code=f["code"],
        name=f.get("name") or f["code"],
        type=f["type"],
        required_on_stages=stage_ids("required_on_stages"),
        options=f.get("options", []),
        list_code=f.get("list", ""),
        formula=f.get("formula", ""),
        currency=f.get("currency", ""),
        required_to_leave=stage_ids("required_to_leave"),
    )
