"""Admin-editable lists and their rows; everyone reads, only admins change."""

from __future__ import annotations

from typing import Annotated

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter, Query

from services.common.protoconv import to_struct
from services.gateway.deps import AdminUser, CurrentUser, Deals
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, cursor_or_none
from services.gateway.schemas.lists import ListIn, ListItemIn, ListItemOut, ListOut

router = APIRouter(prefix=API_PREFIX + "/lists", tags=["lists"], responses=COMMON_RESPONSES)


@router.post("", status_code=201, responses=responses(403, 409))
async def create_list(body: ListIn, _: AdminUser, deals: Deals) -> ListOut:
    created = await deals.CreateList(
        deals_pb2.CreateListRequest(
            code=body.code,
            name=body.name,
            columns=[
                deals_pb2.ListColumn(code=c.code, name=c.name, type=c.type) for c in body.columns
            ],
        )
    )
    return ListOut.of(created)


@router.get("")
async def all_lists(_: CurrentUser, deals: Deals) -> list[ListOut]:
    reply = await deals.ListLists(deals_pb2.ListListsRequest())
    return [ListOut.of(x) for x in reply.lists]


@router.get("/{code}", responses=responses(404))
async def get_list(code: str, _: CurrentUser, deals: Deals) -> ListOut:
    return ListOut.of(await deals.GetList(deals_pb2.GetListRequest(code=code)))


@router.get("/{code}/items", responses=responses(404))
async def list_items(
    code: str,
    _: CurrentUser,
    deals: Deals,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ListItemOut]:
    reply = await deals.ListListItems(
        deals_pb2.ListListItemsRequest(code=code, cursor=cursor, limit=limit)
    )
    return Page(
        items=[ListItemOut.of(i) for i in reply.items],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.post("/{code}/items", status_code=201, responses=responses(403, 404))
async def create_item(code: str, body: ListItemIn, _: AdminUser, deals: Deals) -> ListItemOut:
    item = await deals.CreateListItem(
        deals_pb2.CreateListItemRequest(code=code, values=to_struct(body.values))
    )
    return ListItemOut.of(item)


@router.patch("/{code}/items/{item_id}", responses=responses(403, 404))
async def update_item(
    code: str, item_id: int, body: ListItemIn, _: AdminUser, deals: Deals
) -> ListItemOut:
    item = await deals.UpdateListItem(
        deals_pb2.UpdateListItemRequest(code=code, id=str(item_id), values=to_struct(body.values))
    )
    return ListItemOut.of(item)
