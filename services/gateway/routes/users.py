"""Users and the caller: admins create and change users; everyone signed in can look
colleagues up (to pick an assignee) and read themselves."""

from __future__ import annotations

from typing import Annotated

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter, Depends, Query

from services.gateway.deps import AdminUser, CurrentUser, Deals
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.rate_limit import searching
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.users import MeOut, UserIn, UserOut, UserPatch

router = APIRouter(prefix=API_PREFIX, tags=["users"], responses=COMMON_RESPONSES)


@router.post("/users", status_code=201, responses=responses(403, 409))
async def create_user(body: UserIn, _: AdminUser, deals: Deals) -> UserOut:
    user = await deals.CreateUser(
        deals_pb2.CreateUserRequest(
            email=body.email,
            name=body.name,
            password=body.password,
            roles=body.roles,
            department_id=str(body.department_id or ""),
        )
    )
    return UserOut.of(user)


@router.get("/users", dependencies=[Depends(searching)], responses=responses(429))
async def list_users(
    _: CurrentUser,
    deals: Deals,
    role: Annotated[str, Query(max_length=63)] = "",
    department_id: RecordId | None = None,
    include_subdepartments: bool = False,
    include_inactive: bool = False,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[UserOut]:
    """Users newest first: by role, in a department (and below), by name or e-mail."""
    reply = await deals.ListUsers(
        deals_pb2.ListUsersRequest(
            role=role,
            department_id=str(department_id or ""),
            include_subdepartments=include_subdepartments,
            include_inactive=include_inactive,
            q=q,
            cursor=cursor,
            limit=limit,
        )
    )
    return Page(
        items=[UserOut.of(u) for u in reply.users], next_cursor=cursor_or_none(reply.next_cursor)
    )


@router.get("/users/{user_id}", responses=responses(404))
async def get_user(user_id: RecordId, _: CurrentUser, deals: Deals) -> UserOut:
    return UserOut.of(await deals.GetUser(deals_pb2.GetUserRequest(id=str(user_id))))


@router.patch("/users/{user_id}", responses=responses(403, 404))
async def update_user(user_id: RecordId, body: UserPatch, _: AdminUser, deals: Deals) -> UserOut:
    """Change the fields given: roles (a permission change, audited), department,
    active, absence and substitute, name, password."""
    given = body.model_dump(exclude_unset=True)
    request = deals_pb2.UpdateUserRequest(id=str(user_id), set_fields=sorted(given))
    for name, value in given.items():
        match name:
            case "department_id" | "substitute_id":
                setattr(request, name, str(value or ""))
            case "roles":
                request.roles.extend(value)
            case _:
                setattr(request, name, value)
    return UserOut.of(await deals.UpdateUser(request))


@router.get("/me")
async def me(user: CurrentUser, deals: Deals) -> MeOut:
    """The caller, with the permissions their roles give."""
    found = UserOut.of(await deals.GetUser(deals_pb2.GetUserRequest(id=str(user.id))))
    return MeOut(**found.model_dump(), permissions=sorted(user.permissions))
