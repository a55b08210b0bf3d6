"""Departments (a tree with a head each), roles as data, and the audit log; admins change
them, everyone reads the org structure."""

from __future__ import annotations

from typing import Annotated

from dealflow.deals.v1 import access_pb2, deals_pb2
from fastapi import APIRouter, Path, Query

from services.common.protoconv import to_timestamp
from services.gateway.deps import AdminUser, CurrentUser, Deals
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import IsoDateTime, Page, RecordId, cursor_or_none
from services.gateway.schemas.users import (
    AuditEntryOut,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    RoleIn,
    RoleOut,
)

router = APIRouter(prefix=API_PREFIX, tags=["org"], responses=COMMON_RESPONSES)
RoleCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


@router.post("/departments", status_code=201, responses=responses(403))
async def create_department(body: DepartmentIn, _: AdminUser, deals: Deals) -> DepartmentOut:
    created = await deals.CreateDepartment(
        deals_pb2.CreateDepartmentRequest(
            name=body.name,
            parent_id=str(body.parent_id or ""),
            head_id=str(body.head_id or ""),
        )
    )
    return DepartmentOut.of(created)


@router.get("/departments")
async def list_departments(_: CurrentUser, deals: Deals) -> list[DepartmentOut]:
    reply = await deals.ListDepartments(deals_pb2.ListDepartmentsRequest())
    return [DepartmentOut.of(d) for d in reply.departments]


@router.patch("/departments/{department_id}", responses=responses(403, 404))
async def update_department(
    department_id: RecordId, body: DepartmentPatch, _: AdminUser, deals: Deals
) -> DepartmentOut:
    """Rename, move under another parent (`null`: to the top) or change the head."""
    given = body.model_dump(exclude_unset=True)
    request = deals_pb2.UpdateDepartmentRequest(id=str(department_id), set_fields=sorted(given))
    request.name = given.get("name") or ""
    request.parent_id = str(given.get("parent_id") or "")
    request.head_id = str(given.get("head_id") or "")
    return DepartmentOut.of(await deals.UpdateDepartment(request))


@router.get("/roles")
async def list_roles(_: CurrentUser, deals: Deals) -> list[RoleOut]:
    reply = await deals.ListRoles(access_pb2.ListRolesRequest())
    return [RoleOut.of(r) for r in reply.roles]


@router.put("/roles/{code}", responses=responses(403))
async def put_role(code: RoleCode, body: RoleIn, _: AdminUser, deals: Deals) -> RoleOut:
    """Create or replace a role: its visibility (none / own / department / all), its
    permissions, and per pipeline a visibility and the stages it may move deals into."""
    role = access_pb2.Role(
        code=code,
        name=body.name,
        visibility=body.visibility,
        permissions=body.permissions,
        pipelines=[
            access_pb2.PipelineAccess(
                pipeline_id=str(p.pipeline_id),
                visibility=p.visibility,
                move_to_stage_ids=[str(s) for s in p.move_to_stage_ids],
            )
            for p in body.pipelines
        ],
    )
    return RoleOut.of(await deals.PutRole(access_pb2.PutRoleRequest(role=role)))


@router.get("/audit", responses=responses(403))
async def audit_log(
    _: CurrentUser,
    deals: Deals,
    actor_id: RecordId | None = None,
    action: Annotated[
        str, Query(max_length=100, description='exact, or a prefix like "auth."')
    ] = "",
    subject_type: Annotated[str, Query(max_length=100)] = "",
    subject_id: Annotated[str, Query(max_length=100)] = "",
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    cursor: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[AuditEntryOut]:
    """Sign-ins, admin and permission changes and decisions, newest first (audit.read)."""
    request = access_pb2.ListAuditRequest(
        actor_id=str(actor_id or ""),
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        since=to_timestamp(since),
        until=to_timestamp(until),
        cursor=cursor,
        limit=limit,
    )
    reply = await deals.ListAudit(request)
    return Page(
        items=[AuditEntryOut.of(e) for e in reply.entries],
        next_cursor=cursor_or_none(reply.next_cursor),
    )
