"""gRPC servicer of the deals service: proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc

from services.common.access import Permission
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import from_struct
from services.deals.access_api import AccessApi
from services.deals.activities_api import activity_pb, register_activities
from services.deals.api_mappers import (
    deal_pb,
    entry_pb,
    field_pb,
    item_pb,
    list_pb,
    pipeline_pb,
    visit_pb,
)
from services.deals.automation_api import register_automation
from services.deals.crm_api import register_crm
from services.deals.deal_pages import ShownDeal
from services.deals.domain.attributes import SETTABLE
from services.deals.files_api import register_files
from services.deals.org_api import OrgApi
from services.deals.products_api import register_products
from services.deals.proposal_report import ProposalReportApi
from services.deals.reports_api import register_reports
from services.deals.repository import DealFilter
from services.deals.rules_api import RulesApi
from services.deals.service import DealsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class DealsApi(
    AccessApi,
    OrgApi,
    RulesApi,
    ProposalReportApi,
    pb_grpc.DealsServiceServicer,  # type: ignore[misc]
):
    def __init__(self, service: DealsService) -> None:
        self._service = service
        self._admin = service.admin
        self._access = service.access
        self._org = service.org
        self._auth = service.auth
        self._rules = service.rules

    async def _admin_only(self, context: Ctx) -> None:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)

    # ---- pipelines ----
    async def CreatePipeline(self, request: pb.CreatePipelineRequest, context: Ctx) -> pb.Pipeline:
        await self._admin_only(context)
        stages = [(s.name, s.semantic) for s in request.stages]
        return pipeline_pb(
            await self._service.pipelines.create_pipeline(
                name=request.name, stages=stages, actor_id=actor_id(context), kind=request.kind
            )
        )

    async def GetPipeline(self, request: pb.GetPipelineRequest, context: Ctx) -> pb.Pipeline:
        pipeline_id = parse_id(request.id, "id")
        return pipeline_pb(await self._service.pipelines.get_pipeline(pipeline_id=pipeline_id))

    async def ListPipelines(
        self, request: pb.ListPipelinesRequest, context: Ctx
    ) -> pb.ListPipelinesResponse:
        pipelines = await self._service.pipelines.list_pipelines()
        return pb.ListPipelinesResponse(pipelines=[pipeline_pb(p) for p in pipelines])

    async def AddStage(self, request: pb.AddStageRequest, context: Ctx) -> pb.Pipeline:
        await self._admin_only(context)
        pipeline = await self._service.pipelines.add_stage(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            name=request.stage.name,
            semantic=request.stage.semantic,
            position=request.position if request.HasField("position") else None,
            actor_id=actor_id(context),
        )
        return pipeline_pb(pipeline)

    async def CreateField(self, request: pb.CreateFieldRequest, context: Ctx) -> pb.FieldDefinition:
        await self._admin_only(context)
        definition = await self._service.pipelines.create_field(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            code=request.code,
            name=request.name,
            type=request.type,
            required_on_stages=[
                parse_id(s, f"required_on_stages[{i}]")
                for i, s in enumerate(request.required_on_stages)
            ],
            options=list(request.options),
            list_code=request.list_code,
            formula=request.formula,
            currency=request.currency,
            required_to_leave=[
                parse_id(s, f"required_to_leave[{i}]")
                for i, s in enumerate(request.required_to_leave)
            ],
            actor_id=actor_id(context),
        )
        return field_pb(definition)

    # ---- deals ----
    async def CreateDeal(self, request: pb.CreateDealRequest, context: Ctx) -> pb.Deal:
        deal = await self._service.create_deal(
            actor_id=actor_id(context),
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            title=request.title,
            responsible_id=optional_id(request.responsible_id, "responsible_id"),
            amount=request.amount,
            currency=request.currency,
            company_name=request.company_name,
            contact_name=request.contact_name,
            fields=from_struct(request.fields),
            stage_id=optional_id(request.stage_id, "stage_id"),
            idempotency_key=request.idempotency_key,
        )
        return deal_pb(deal)

    async def GetDeal(self, request: pb.GetDealRequest, context: Ctx) -> pb.Deal:
        shown = await self._service.show_deal(
            actor_id=actor_id(context), deal_id=parse_id(request.id, "id")
        )
        return shown_pb(shown)

    async def ListDeals(self, request: pb.ListDealsRequest, context: Ctx) -> pb.ListDealsResponse:
        where = DealFilter(
            pipeline_id=optional_id(request.pipeline_id, "pipeline_id"),
            stage_id=optional_id(request.stage_id, "stage_id"),
            responsible_id=optional_id(request.responsible_id, "responsible_id"),
            q=request.q,
        )
        page = await self._service.list_deals(
            actor_id=actor_id(context),
            where=where,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        deals = [shown_pb(d) for d in page.items]
        return pb.ListDealsResponse(deals=deals, next_cursor=page.next_cursor)

    async def UpdateDeal(self, request: pb.UpdateDealRequest, context: Ctx) -> pb.Deal:
        changes: dict[str, Any] = {}
        for name in dict.fromkeys(request.set_fields):
            if name == "fields":
                continue  # custom fields are always merged from `fields`
            if name == "responsible_id":
                changes[name] = parse_id(request.responsible_id, "responsible_id")
            else:
                changes[name] = getattr(request, name) if name in SETTABLE else None
        deal = await self._service.update_deal(
            actor_id=actor_id(context),
            deal_id=parse_id(request.id, "id"),
            expected_version=request.expected_version,
            changes=changes,
            fields=from_struct(request.fields),
        )
        return deal_pb(deal)

    async def MoveDeal(self, request: pb.MoveDealRequest, context: Ctx) -> pb.Deal:
        deal = await self._service.move_deal(
            actor_id=actor_id(context),
            deal_id=parse_id(request.id, "id"),
            stage_id=parse_id(request.stage_id, "stage_id"),
            expected_version=request.expected_version,
            comment=request.comment,
            pipeline_id=optional_id(request.pipeline_id, "pipeline_id"),
        )
        return deal_pb(deal)

    async def GetTimeline(
        self, request: pb.GetTimelineRequest, context: Ctx
    ) -> pb.GetTimelineResponse:
        page = await self._service.timeline(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.GetTimelineResponse(
            entries=[entry_pb(e) for e in page.items], next_cursor=page.next_cursor
        )

    async def AddTimelineEntry(
        self, request: pb.AddTimelineEntryRequest, context: Ctx
    ) -> pb.TimelineEntry:
        entry = await self._service.add_timeline_entry(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            kind=request.kind,
            text=request.text,
            data=from_struct(request.data),
            idempotency_key=request.idempotency_key,
        )
        return entry_pb(entry)

    async def GetStageHistory(
        self, request: pb.GetStageHistoryRequest, context: Ctx
    ) -> pb.GetStageHistoryResponse:
        visits, now = await self._service.stage_history(
            actor_id=actor_id(context), deal_id=parse_id(request.deal_id, "deal_id")
        )
        return pb.GetStageHistoryResponse(visits=[visit_pb(v, v.seconds(now)) for v in visits])

    # ---- admin lists ----
    async def CreateList(self, request: pb.CreateListRequest, context: Ctx) -> pb.AdminList:
        await self._admin_only(context)
        columns = [(c.code, c.name, c.type) for c in request.columns]
        admin_list = await self._admin.create_list(
            code=request.code, name=request.name, columns=columns
        )
        return list_pb(admin_list)

    async def GetList(self, request: pb.GetListRequest, context: Ctx) -> pb.AdminList:
        return list_pb(await self._admin.get_list(code=request.code))

    async def ListLists(self, request: pb.ListListsRequest, context: Ctx) -> pb.ListListsResponse:
        return pb.ListListsResponse(lists=[list_pb(x) for x in await self._admin.all_lists()])

    async def ListListItems(
        self, request: pb.ListListItemsRequest, context: Ctx
    ) -> pb.ListListItemsResponse:
        page = await self._admin.list_items(
            code=request.code, cursor=request.cursor, limit=clamp_limit(request.limit)
        )
        return pb.ListListItemsResponse(
            items=[item_pb(i) for i in page.items], next_cursor=page.next_cursor
        )

    async def CreateListItem(self, request: pb.CreateListItemRequest, context: Ctx) -> pb.ListItem:
        await self._admin_only(context)
        item = await self._admin.create_list_item(
            code=request.code, values=from_struct(request.values)
        )
        return item_pb(item)

    async def UpdateListItem(self, request: pb.UpdateListItemRequest, context: Ctx) -> pb.ListItem:
        await self._admin_only(context)
        item = await self._admin.update_list_item(
            code=request.code,
            item_id=parse_id(request.id, "id"),
            values=from_struct(request.values),
        )
        return item_pb(item)


def shown_pb(shown: ShownDeal) -> pb.Deal:
    """A deal with the deals linked to it (e.g. made by a rule from it) and its next
    activity."""
    deal = deal_pb(shown.deal)
    for linked_id, relation in shown.links:
        deal.links.add(deal_id=str(linked_id), relation=relation)
    if shown.next_activity is not None:
        deal.next_activity.CopyFrom(activity_pb(shown.next_activity))
    return deal


def register(server: grpc.aio.Server, service: DealsService) -> list[str]:
    pb_grpc.add_DealsServiceServicer_to_server(DealsApi(service), server)
    return [
        pb.DESCRIPTOR.services_by_name["DealsService"].full_name,
        register_files(server, service),
        register_crm(server, service),
        register_automation(server, service),
        register_products(server, service),
        register_activities(server, service),
        register_reports(server, service),
    ]
