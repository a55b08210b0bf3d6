"""Users: an admin creates them; anyone reads themselves."""

from __future__ import annotations

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter

from services.gateway.deps import AdminUser, CurrentUser, Deals
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.users import UserIn, UserOut

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


@router.get("/me")
async def me(user: CurrentUser, deals: Deals) -> UserOut:
    return UserOut.of(await deals.GetUser(deals_pb2.GetUserRequest(id=str(user.id))))
