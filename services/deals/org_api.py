"""gRPC methods of the org structure: users, departments, heads and stand-ins. Mixed into
DealsApi; proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import deals_pb2 as pb

from services.common.access import Permission
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.deals.access_service import AccessService
from services.deals.api_mappers import department_pb, user_pb
from services.deals.auth_service import AuthService
from services.deals.org_service import OrgService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def _peer_address(context: Ctx, given: str) -> str:
    return given or (context.peer() or "")


class OrgApi:
    _org: OrgService
    _access: AccessService
    _auth: AuthService

    async def CreateUser(self, request: pb.CreateUserRequest, context: Ctx) -> pb.User:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)
        user = await self._org.create_user(
            actor_id=actor_id(context),
            email=request.email,
            name=request.name,
            password=request.password,
            roles=list(request.roles),
            department_id=optional_id(request.department_id, "department_id"),
        )
        return user_pb(user)

    async def GetUser(self, request: pb.GetUserRequest, context: Ctx) -> pb.User:
        return user_pb(await self._org.get_user(user_id=parse_id(request.id, "id")))

    async def UpdateUser(self, request: pb.UpdateUserRequest, context: Ctx) -> pb.User:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)
        changes: dict[str, object] = {}
        for name in request.set_fields:
            match name:
                case "department_id" | "substitute_id":
                    changes[name] = optional_id(getattr(request, name), name)
                case "roles":
                    changes[name] = tuple(request.roles)
                case "name" | "active" | "absent" | "password":
                    changes[name] = getattr(request, name)
                case _:
                    changes[name] = None  # refused by the service as "cannot be changed"
        user = await self._org.update_user(
            actor_id=actor_id(context), user_id=parse_id(request.id, "id"), changes=changes
        )
        return user_pb(user)

    async def ListUsers(self, request: pb.ListUsersRequest, context: Ctx) -> pb.ListUsersResponse:
        page = await self._org.list_users(
            role=request.role,
            department_id=optional_id(request.department_id, "department_id"),
            include_subdepartments=request.include_subdepartments,
            include_inactive=request.include_inactive,
            q=request.q,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListUsersResponse(
            users=[user_pb(u) for u in page.items], next_cursor=page.next_cursor
        )

    async def Authenticate(self, request: pb.AuthenticateRequest, context: Ctx) -> pb.User:
        user = await self._auth.authenticate(
            email=request.email,
            password=request.password,
            client_address=_peer_address(context, request.client_address),
        )
        return user_pb(user)

    async def FindHead(self, request: pb.FindHeadRequest, context: Ctx) -> pb.User:
        user_id = parse_id(request.user_id, "user_id")
        return user_pb(await self._org.find_head(user_id=user_id))

    async def FindStandIn(self, request: pb.FindStandInRequest, context: Ctx) -> pb.User:
        user_id = parse_id(request.user_id, "user_id")
        return user_pb(await self._org.find_stand_in(user_id=user_id))

    async def CreateDepartment(
        self, request: pb.CreateDepartmentRequest, context: Ctx
    ) -> pb.Department:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)
        department = await self._org.create_department(
            actor_id=actor_id(context),
            name=request.name,
            parent_id=optional_id(request.parent_id, "parent_id"),
            head_id=optional_id(request.head_id, "head_id"),
        )
        return department_pb(department)

    async def UpdateDepartment(
        self, request: pb.UpdateDepartmentRequest, context: Ctx
    ) -> pb.Department:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)
        changes: dict[str, object] = {}
        for name in request.set_fields:
            match name:
                case "parent_id" | "head_id":
                    changes[name] = optional_id(getattr(request, name), name)
                case "name":
                    changes[name] = request.name
                case _:
                    changes[name] = None
        department = await self._org.update_department(
            actor_id=actor_id(context),
            department_id=parse_id(request.id, "id"),
            changes=changes,
        )
        return department_pb(department)

    async def ListDepartments(
        self, request: pb.ListDepartmentsRequest, context: Ctx
    ) -> pb.ListDepartmentsResponse:
        departments = await self._org.list_departments()
        return pb.ListDepartmentsResponse(departments=[department_pb(d) for d in departments])
