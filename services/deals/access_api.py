"""gRPC methods of access: roles, a user's access, sessions, API tokens, the audit log.
Mixed into DealsApi (one servicer per service); proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import access_pb2 as apb

from services.common.access_client import access_pb
from services.common.grpc_server import actor_id
from services.common.ids import parse_id
from services.deals.access_service import AccessService
from services.deals.domain.roles import Role

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def role_pb(role: Role) -> apb.Role:
    return apb.Role(
        code=role.code,
        name=role.name,
        visibility=role.visibility.value,
        permissions=sorted(role.permissions),
        pipelines=[
            apb.PipelineAccess(
                pipeline_id=str(r.pipeline_id),
                visibility=r.visibility.value,
                move_to_stage_ids=[str(s) for s in sorted(r.move_to_stage_ids)],
            )
            for r in role.pipelines.values()
        ],
    )


class AccessApi:
    _access: AccessService

    async def GetAccess(self, request: apb.GetAccessRequest, context: Ctx) -> apb.Access:
        user_id = parse_id(request.user_id, "user_id")
        return access_pb(await self._access.access_of(user_id=user_id))

    async def ListRoles(self, request: apb.ListRolesRequest, context: Ctx) -> apb.ListRolesResponse:
        return apb.ListRolesResponse(roles=[role_pb(r) for r in await self._access.list_roles()])

    async def PutRole(self, request: apb.PutRoleRequest, context: Ctx) -> apb.Role:
        role = request.role
        pipelines = [
            (
                parse_id(p.pipeline_id, f"pipelines[{i}].pipeline_id"),
                p.visibility,
                [
                    parse_id(s, f"pipelines[{i}].move_to_stage_ids[{j}]")
                    for j, s in enumerate(p.move_to_stage_ids)
                ],
            )
            for i, p in enumerate(role.pipelines)
        ]
        saved = await self._access.put_role(
            actor_id=actor_id(context),
            code=role.code,
            name=role.name,
            visibility=role.visibility,
            permissions=list(role.permissions),
            pipelines=pipelines,
        )
        return role_pb(saved)
