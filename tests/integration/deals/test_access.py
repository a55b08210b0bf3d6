"""A user's access as other services see it: roles as data, visibility by the org tree."""

from __future__ import annotations

import pytest
from dealflow.deals.v1 import access_pb2 as apb
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc

from services.common.access import Permission
from services.common.access_client import deals_resolver
from services.common.errors import NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from services.common.grpc_client import call

pytestmark = pytest.mark.integration


async def _user(stub: pb_grpc.DealsServiceStub, email: str, role: str, dept: str = "") -> str:
    request = pb.CreateUserRequest(
        email=email, name=email, password="long enough", roles=[role], department_id=dept
    )
    return str((await call(stub.CreateUser, request)).id)


async def _dept(stub: pb_grpc.DealsServiceStub, name: str, parent: str = "") -> str:
    request = pb.CreateDepartmentRequest(name=name, parent_id=parent)
    return str((await call(stub.CreateDepartment, request)).id)


async def test_visibility_follows_roles_and_the_department_tree(
    stub: pb_grpc.DealsServiceStub,
) -> None:
    sales = await _dept(stub, "Sales")
    north = await _dept(stub, "Sales north", parent=sales)
    other = await _dept(stub, "Purchasing")
    head = await _user(stub, "head@acc.test", "head_of_sales", sales)
    m1 = await _user(stub, "m1@acc.test", "manager", north)
    m2 = await _user(stub, "m2@acc.test", "manager", sales)
    outsider = await _user(stub, "out@acc.test", "manager", other)
    ceo = await _user(stub, "ceo@acc.test", "ceo")
    resolve = deals_resolver(stub)

    head_access = await resolve(int(head))
    assert not head_access.scope.everyone
    assert head_access.scope.user_ids == {int(head), int(m1), int(m2)}
    assert int(outsider) not in head_access.scope.user_ids
    assert head_access.can(Permission.REPORTS_MARGIN)

    manager = await resolve(int(m1))
    assert manager.scope.user_ids == {int(m1)}
    assert manager.can(Permission.DEALS_CREATE) and not manager.can(Permission.ORG_ADMIN)
    with pytest.raises(PermissionDenied):
        manager.require(Permission.PAYMENTS_RECORD)

    assert (await resolve(int(ceo))).scope.everyone


async def test_roles_are_data_an_admin_changes(stub: pb_grpc.DealsServiceStub) -> None:
    roles = await call(stub.ListRoles, apb.ListRolesRequest())
    codes = {r.code for r in roles.roles}
    assert {"admin", "ceo", "head_of_sales", "manager", "accountant", "lawyer"} <= codes
    role = apb.Role(code="auditor", name="Auditor", visibility="all", permissions=["audit.read"])
    saved = await call(stub.PutRole, apb.PutRoleRequest(role=role))
    assert saved.visibility == "all"
    user = await _user(stub, "aud@acc.test", "auditor")
    access = await call(stub.GetAccess, apb.GetAccessRequest(user_id=user))
    assert access.sees_everyone and list(access.permissions) == ["audit.read"]

    bad = apb.Role(code="Bad Code", visibility="some", permissions=["nope"])
    with pytest.raises(ValidationFailed) as failed:
        await call(stub.PutRole, apb.PutRoleRequest(role=bad))
    assert {p.field for p in failed.value.problems} == {"code", "visibility", "permissions"}


async def test_an_unknown_user_has_no_access(stub: pb_grpc.DealsServiceStub) -> None:
    with pytest.raises(Unauthenticated):
        await call(stub.GetAccess, apb.GetAccessRequest(user_id="999999"))


async def test_an_api_token_for_a_user_who_is_not_there_is_not_found(
    stub: pb_grpc.DealsServiceStub, admin: pb.User
) -> None:
    # It hit the tokens' foreign key: UNKNOWN, a 500 at the gateway.
    request = apb.CreateApiTokenRequest(user_id="999999", name="sync")

    with pytest.raises(NotFound, match="user 999999"):
        await call(stub.CreateApiToken, request, actor=admin.id)
