"""Deals: create, list, read (with an ETag), change (If-Match required), move between
stages, and their timeline and stage history."""

from __future__ import annotations

import re
from typing import Annotated

from dealflow.deals.v1 import crm_pb2, deals_pb2
from fastapi import APIRouter, Depends, Header, Query, Response

from services.common.errors import FieldProblem
from services.common.protoconv import to_struct
from services.gateway.deps import Crm, CurrentUser, Deals, Reports
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.rate_limit import searching
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.deal_funnel import FunnelQuery, funnel_query
from services.gateway.schemas.deals import (
    DealIn,
    DealMove,
    DealOut,
    DealPartiesOut,
    DealPatch,
    StageHistoryOut,
    StageVisitOut,
    TimelineEntryOut,
)

router = APIRouter(prefix=API_PREFIX + "/deals", tags=["deals"], responses=COMMON_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=200)]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='the deal version from its ETag: `W/"3"`, `"3"` or `3`',
    ),
]
_VERSION = re.compile(r'^(?:W/)?"?(\d+)"?$')
_PATCHABLE = ("title", "responsible_id", "amount", "currency", "company_name", "contact_name")


def etag(version: int) -> str:
    return f'W/"{version}"'


def expected_version(if_match: str | None) -> int:
    """The version If-Match holds; 0 (no check) when absent."""
    if if_match is None:
        return 0
    found = _VERSION.match(if_match.strip())
    if found is None:
        raise Problem(
            422,
            "If-Match must hold the deal version from its ETag",
            errors=[FieldProblem("If-Match", 'expected W/"<version>"')],
        )
    return int(found.group(1))


def _answer(response: Response, deal: object) -> DealOut:
    out = DealOut.of(deal)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post("", status_code=201, responses=responses(403, 404))
async def create_deal(
    body: DealIn, user: CurrentUser, deals: Deals, response: Response, key: CreationKey
) -> DealOut:
    deal = await deals.CreateDeal(
        deals_pb2.CreateDealRequest(
            pipeline_id=str(body.pipeline_id),
            title=body.title,
            responsible_id=str(body.responsible_id or ""),
            amount=body.amount or "",
            currency=body.currency or "",
            company_name=body.company_name or "",
            contact_name=body.contact_name or "",
            fields=to_struct(body.fields),
            stage_id=str(body.stage_id or ""),
            idempotency_key=key,
        )
    )
    return _answer(response, deal)


@router.get("", dependencies=[Depends(searching)], responses=responses(429))
async def list_deals(
    _: CurrentUser,
    deals: Deals,
    reports: Reports,
    funnel: Annotated[FunnelQuery, Depends(funnel_query)],
    pipeline_id: RecordId | None = None,
    stage_id: RecordId | None = None,
    responsible_id: RecordId | None = None,
    q: str = "",
    cursor: str = "",
    limit: Limit = 50,
) -> Page[DealOut]:
    """Deals newest first. With `funnel_stage_id` (and `pipeline_id`, `from`, `to`): the
    deals behind one count of the funnel report (its drill-down links)."""
    if funnel.funnel_stage_id is not None:
        reply = await reports.ListFunnelDeals(
            funnel.request(pipeline_id, stage_id, responsible_id, q, cursor=cursor, limit=limit)
        )
    else:
        funnel.require_absent()
        reply = await deals.ListDeals(
            deals_pb2.ListDealsRequest(
                pipeline_id=str(pipeline_id or ""),
                stage_id=str(stage_id or ""),
                responsible_id=str(responsible_id or ""),
                q=q,
                cursor=cursor,
                limit=limit,
            )
        )
    return Page(
        items=[DealOut.of(d) for d in reply.deals], next_cursor=cursor_or_none(reply.next_cursor)
    )


@router.get("/{deal_id}", responses=responses(404))
async def get_deal(
    deal_id: int, _: CurrentUser, deals: Deals, crm: Crm, response: Response
) -> DealOut:
    """The deal's card: its attributes, fields, links, and its parties (contacts, company,
    the lead it came from)."""
    out = _answer(response, await deals.GetDeal(deals_pb2.GetDealRequest(id=str(deal_id))))
    request = crm_pb2.GetDealPartiesRequest(deal_id=str(deal_id))
    out.parties = DealPartiesOut.of(await crm.GetDealParties(request))
    return out


@router.patch("/{deal_id}", responses=responses(403, 404, 409, 428))
async def update_deal(
    deal_id: int,
    body: DealPatch,
    _: CurrentUser,
    deals: Deals,
    response: Response,
    if_match: IfMatch = None,
) -> DealOut:
    """Change a deal; `If-Match` must hold the version the change was based on."""
    if if_match is None:
        raise Problem(428, "If-Match required: send the deal's ETag to change it")
    present = body.model_fields_set
    deal = await deals.UpdateDeal(
        deals_pb2.UpdateDealRequest(
            id=str(deal_id),
            expected_version=expected_version(if_match),
            set_fields=[name for name in _PATCHABLE if name in present],
            title=body.title or "",
            responsible_id=str(body.responsible_id or ""),
            amount=body.amount or "",
            currency=body.currency or "",
            company_name=body.company_name or "",
            contact_name=body.contact_name or "",
            fields=to_struct(body.fields),
        )
    )
    return _answer(response, deal)


@router.post("/{deal_id}/move", responses=responses(403, 404, 409))
async def move_deal(
    deal_id: int,
    body: DealMove,
    _: CurrentUser,
    deals: Deals,
    response: Response,
    if_match: IfMatch = None,
) -> DealOut:
    """Move a deal to a stage; a 422 names every field the stage requires that is empty.
    `If-Match` is optional here: with it, a stale version is refused (409)."""
    deal = await deals.MoveDeal(
        deals_pb2.MoveDealRequest(
            id=str(deal_id),
            stage_id=str(body.stage_id),
            expected_version=expected_version(if_match),
            comment=body.comment or "",
            pipeline_id=str(body.pipeline_id or ""),
        )
    )
    return _answer(response, deal)


@router.get("/{deal_id}/timeline", responses=responses(404))
async def timeline(
    deal_id: int, _: CurrentUser, deals: Deals, cursor: str = "", limit: Limit = 50
) -> Page[TimelineEntryOut]:
    reply = await deals.GetTimeline(
        deals_pb2.GetTimelineRequest(deal_id=str(deal_id), cursor=cursor, limit=limit)
    )
    return Page(
        items=[TimelineEntryOut.of(e) for e in reply.entries],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.get("/{deal_id}/stage-history", responses=responses(404))
async def stage_history(deal_id: int, _: CurrentUser, deals: Deals) -> StageHistoryOut:
    reply = await deals.GetStageHistory(deals_pb2.GetStageHistoryRequest(deal_id=str(deal_id)))
    return StageHistoryOut(items=[StageVisitOut.of(v) for v in reply.visits])
