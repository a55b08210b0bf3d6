"""Users, authentication, heads, and admin lists through gRPC."""

from __future__ import annotations

import uuid

import pytest
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import AlreadyExists, NotFound, Unauthenticated, ValidationFailed
from services.common.grpc_client import call
from services.common.protoconv import from_struct, to_struct
from services.deals.main import Settings, ensure_bootstrap_admin
from services.deals.service import DealsService
from services.deals.tables import users

pytestmark = pytest.mark.integration

Stub = pb_grpc.DealsServiceStub
PASSWORD = "correct horse battery"


async def new_user(stub: Stub, *roles: str, department_id: str = "") -> pb.User:
    request = pb.CreateUserRequest(
        email=f"{roles[0]}-{uuid.uuid4().hex[:8]}@Example.com",
        password=PASSWORD,
        roles=list(roles),
        department_id=department_id,
    )
    return await call(stub.CreateUser, request)


async def test_authenticate(stub: Stub, engine: AsyncEngine) -> None:
    user = await new_user(stub, "manager")
    assert user.email == user.email.lower() and user.active
    found = await call(
        stub.Authenticate, pb.AuthenticateRequest(email=user.email.upper(), password=PASSWORD)
    )
    assert found.id == user.id
    refusals = []
    for email, password in ((user.email, "wrong password"), ("nobody@example.com", PASSWORD)):
        with pytest.raises(Unauthenticated) as err:
            await call(stub.Authenticate, pb.AuthenticateRequest(email=email, password=password))
        refusals.append(err.value.message)
    assert refusals[0] == refusals[1], "the same answer for an unknown e-mail and a bad password"

    async with engine.begin() as conn:
        await conn.execute(users.update().where(users.c.id == int(user.id)).values(active=False))
    with pytest.raises(Unauthenticated):
        await call(stub.Authenticate, pb.AuthenticateRequest(email=user.email, password=PASSWORD))


async def test_create_user_rules(stub: Stub) -> None:
    user = await new_user(stub, "manager")
    again = pb.CreateUserRequest(email=user.email.upper(), password=PASSWORD, roles=["manager"])
    with pytest.raises(AlreadyExists):
        await call(stub.CreateUser, again)
    bad = pb.CreateUserRequest(email="nope", password="short", roles=[])
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateUser, bad)
    assert [p.field for p in err.value.problems] == ["email", "password", "roles"]
    assert (await call(stub.GetUser, pb.GetUserRequest(id=user.id))).email == user.email
    with pytest.raises(NotFound):
        await call(stub.GetUser, pb.GetUserRequest(id="987654"))


async def test_find_head(stub: Stub, admin: pb.User) -> None:
    chief = await new_user(stub, "ceo")
    company = await call(
        stub.CreateDepartment, pb.CreateDepartmentRequest(name="Company", head_id=chief.id)
    )
    sales_head = await new_user(stub, "head_of_sales", department_id=company.id)
    sales = await call(
        stub.CreateDepartment,
        pb.CreateDepartmentRequest(name="Sales", parent_id=company.id, head_id=sales_head.id),
    )
    east = await call(
        stub.CreateDepartment, pb.CreateDepartmentRequest(name="East", parent_id=sales.id)
    )
    manager = await new_user(stub, "manager", department_id=sales.id)
    east_manager = await new_user(stub, "manager", department_id=east.id)
    loner = await new_user(stub, "manager")

    async def head(user: pb.User) -> str:
        return (await call(stub.FindHead, pb.FindHeadRequest(user_id=user.id))).id

    assert await head(manager) == sales_head.id
    assert await head(east_manager) == sales_head.id, "no head in East: the parent's"
    assert await head(sales_head) == chief.id, "a head reports to the parent's head"
    assert await head(loner) == sales_head.id, "no department: the head of sales"
    assert await head(chief) == sales_head.id
    with pytest.raises(NotFound):
        await call(stub.FindHead, pb.FindHeadRequest(user_id="987654"))
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateDepartment, pb.CreateDepartmentRequest(name="X", parent_id="9999"))
    assert err.value.problems[0].field == "parent_id"


async def test_bootstrap_admin_is_created_once(service: DealsService) -> None:
    settings = Settings(
        DEALFLOW_ADMIN_EMAIL="boot@example.com", DEALFLOW_ADMIN_PASSWORD="bootstrap-secret"
    )
    await ensure_bootstrap_admin(service, settings)
    await ensure_bootstrap_admin(service, settings)
    user = await service.auth.authenticate(
        email="boot@example.com", password="bootstrap-secret", client_address="test"
    )
    assert user.roles == ("admin",)


async def test_lists_crud(stub: Stub) -> None:
    columns = [
        pb.ListColumn(code="direction", name="Direction", type="string"),
        pb.ListColumn(code="operator", name="Operator", type="user"),
        pb.ListColumn(code="active", name="Active", type="bool"),
    ]
    created = await call(
        stub.CreateList, pb.CreateListRequest(code="shipping", name="Shipping", columns=columns)
    )
    assert [c.type for c in created.columns] == ["string", "user", "bool"]
    with pytest.raises(AlreadyExists):
        await call(stub.CreateList, pb.CreateListRequest(code="shipping", columns=columns))
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateList, pb.CreateListRequest(code="Bad-Code", columns=columns))
    assert err.value.problems[0].field == "code"
    assert (await call(stub.GetList, pb.GetListRequest(code="shipping"))).name == "Shipping"

    items = []
    for direction in ("North", "South", "East"):
        values = to_struct({"direction": direction, "operator": "5", "active": True})
        items.append(
            await call(
                stub.CreateListItem, pb.CreateListItemRequest(code="shipping", values=values)
            )
        )
    with pytest.raises(ValidationFailed) as err:
        await call(
            stub.CreateListItem,
            pb.CreateListItemRequest(code="shipping", values=to_struct({"colour": "red"})),
        )
    assert err.value.problems[0].field == "values.colour"

    updated = await call(
        stub.UpdateListItem,
        pb.UpdateListItemRequest(
            code="shipping", id=items[0].id, values=to_struct({"operator": 6})
        ),
    )
    assert from_struct(updated.values) == {"direction": "North", "operator": "6", "active": True}

    page = await call(stub.ListListItems, pb.ListListItemsRequest(code="shipping", limit=2))
    assert [i.id for i in page.items] == [items[2].id, items[1].id]
    rest = await call(
        stub.ListListItems,
        pb.ListListItemsRequest(code="shipping", limit=2, cursor=page.next_cursor),
    )
    assert [from_struct(i.values)["operator"] for i in rest.items] == ["6"]
    with pytest.raises(NotFound):
        await call(stub.ListListItems, pb.ListListItemsRequest(code="nope"))

    pipeline = await call(
        stub.CreatePipeline, pb.CreatePipelineRequest(name="P", stages=[pb.StageInput(name="A")])
    )
    field = pb.CreateFieldRequest(
        pipeline_id=pipeline.id, code="route", type="list_item", list_code="shipping"
    )
    assert (await call(stub.CreateField, field)).list_code == "shipping"
