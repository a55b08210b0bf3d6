"""The in-app feed over gRPC: idempotent creation and a user's newest-first pages."""

from __future__ import annotations

import uuid

import pytest
from dealflow.notifications.v1 import notifications_pb2 as pb
from dealflow.notifications.v1 import notifications_pb2_grpc as pb_grpc

from services.common.errors import ValidationFailed
from services.common.grpc_client import call

pytestmark = pytest.mark.integration

Stub = pb_grpc.NotificationsServiceStub


async def test_create_is_idempotent_by_key(stub: Stub) -> None:
    k = uuid.uuid4().hex
    request = pb.CreateNotificationRequest(
        user_id="31",
        kind="reminder",
        title="Call the client",
        body="Today",
        deal_id="4",
        idempotency_key=k,
    )
    first = await call(stub.CreateNotification, request)
    assert (first.user_id, first.deal_id, first.event_id) == ("31", "4", "")
    assert await call(stub.CreateNotification, request) == first
    page = await call(stub.ListNotifications, pb.ListNotificationsRequest(user_id="31"))
    assert [n.id for n in page.notifications] == [first.id]
    other = pb.CreateNotificationRequest(user_id="32", kind="x", title="y", idempotency_key=k)
    with pytest.raises(ValidationFailed):
        await call(stub.CreateNotification, other)


async def test_without_a_key_each_call_notifies(stub: Stub) -> None:
    request = pb.CreateNotificationRequest(user_id="33", kind="note", title="Hi")
    await call(stub.CreateNotification, request)
    await call(stub.CreateNotification, request)
    page = await call(stub.ListNotifications, pb.ListNotificationsRequest(user_id="33"))
    assert len(page.notifications) == 2


async def test_list_pages_newest_first_per_user(stub: Stub) -> None:
    for i in range(5):
        await call(
            stub.CreateNotification,
            pb.CreateNotificationRequest(user_id="34", kind="note", title=f"N{i}"),
        )
    await call(
        stub.CreateNotification, pb.CreateNotificationRequest(user_id="35", kind="n", title="x")
    )
    titles: list[str] = []
    cursor = ""
    while True:
        page = await call(
            stub.ListNotifications,
            pb.ListNotificationsRequest(user_id="34", cursor=cursor, limit=2),
        )
        titles += [n.title for n in page.notifications]
        cursor = page.next_cursor
        if not cursor:
            break
    assert titles == ["N4", "N3", "N2", "N1", "N0"]


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (pb.CreateNotificationRequest(user_id="", kind="k", title="t"), {"user_id"}),
        (pb.CreateNotificationRequest(user_id="1", kind="", title=" "), {"kind", "title"}),
        (pb.CreateNotificationRequest(user_id="1", kind="k", title="t", deal_id="x"), {"deal_id"}),
    ],
)
async def test_create_refuses_bad_input(
    stub: Stub, request_: pb.CreateNotificationRequest, fields: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateNotification, request_)
    assert {p.field for p in err.value.problems} == fields


async def test_list_refuses_bad_input(stub: Stub) -> None:
    with pytest.raises(ValidationFailed):
        await call(stub.ListNotifications, pb.ListNotificationsRequest())
    with pytest.raises(ValidationFailed):
        await call(stub.ListNotifications, pb.ListNotificationsRequest(user_id="1", limit=500))
