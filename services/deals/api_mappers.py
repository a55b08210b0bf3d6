"""Domain objects -> deals.v1 protobuf messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dealflow.deals.v1 import deals_pb2 as pb

from services.common.protoconv import to_struct, to_timestamp
from services.deals.domain.deals import Deal
from services.deals.domain.history import StageVisit, TimelineEntry
from services.deals.domain.lists import AdminList, ListItem
from services.deals.domain.org import Department, User
from services.deals.domain.pipelines import FieldDefinition, Pipeline

LinksOf = Callable[[list[int]], Awaitable[dict[int, list[tuple[int, str]]]]]


async def with_links(links_of: LinksOf, deals: list[pb.Deal]) -> list[pb.Deal]:
    """The deals with the deals linked to them (e.g. made by a rule from them)."""
    links = await links_of([int(d.id) for d in deals])
    for deal in deals:
        for linked_id, relation in links.get(int(deal.id), []):
            deal.links.add(deal_id=str(linked_id), relation=relation)
    return deals


def _id(value: int | None) -> str:
    return "" if value is None else str(value)


def field_pb(f: FieldDefinition) -> pb.FieldDefinition:
    return pb.FieldDefinition(
        id=str(f.id),
        pipeline_id=str(f.pipeline_id),
        code=f.code,
        name=f.name,
        type=f.type.value,
        required_on_stages=[str(s) for s in f.required_on_stages],
        options=list(f.options),
        list_code=f.list_code,
        formula=f.formula,
        currency=f.currency,
        required_to_leave=[str(s) for s in f.required_to_leave],
    )


def pipeline_pb(p: Pipeline) -> pb.Pipeline:
    return pb.Pipeline(
        id=str(p.id),
        name=p.name,
        stages=[
            pb.Stage(id=str(s.id), name=s.name, semantic=s.semantic.value, position=s.position)
            for s in sorted(p.stages, key=lambda s: s.position)
        ],
        fields=[field_pb(f) for f in p.fields],
        kind=p.kind.value,
    )


def deal_pb(d: Deal) -> pb.Deal:
    return pb.Deal(
        id=str(d.id),
        pipeline_id=str(d.pipeline_id),
        stage_id=str(d.stage_id),
        title=d.title,
        responsible_id=str(d.responsible_id),
        amount="" if d.amount is None else format(d.amount, "f"),
        currency=d.currency,
        company_name=d.company_name,
        contact_name=d.contact_name,
        fields=to_struct(d.fields),
        version=d.version,
        created_at=to_timestamp(d.created_at),
        updated_at=to_timestamp(d.updated_at),
        stage_entered_at=to_timestamp(d.stage_entered_at),
        stage_semantic=d.stage_semantic.value,
    )


def entry_pb(e: TimelineEntry) -> pb.TimelineEntry:
    return pb.TimelineEntry(
        id=str(e.id),
        deal_id=str(e.deal_id),
        kind=e.kind,
        text=e.text,
        actor_id=_id(e.actor_id),
        data=to_struct(e.data),
        created_at=to_timestamp(e.created_at),
    )


def visit_pb(v: StageVisit, seconds: float) -> pb.StageVisit:
    return pb.StageVisit(
        stage_id=str(v.stage_id),
        entered_at=to_timestamp(v.entered_at),
        left_at=to_timestamp(v.left_at),  # None leaves it unset while in the stage
        seconds_in_stage=seconds,
        actor_id=_id(v.actor_id),
    )


def user_pb(u: User) -> pb.User:
    return pb.User(
        id=str(u.id),
        email=u.email,
        name=u.name,
        roles=list(u.roles),
        department_id=_id(u.department_id),
        active=u.active,
        absent=u.absent,
        substitute_id=_id(u.substitute_id),
    )


def department_pb(d: Department) -> pb.Department:
    return pb.Department(
        id=str(d.id), name=d.name, parent_id=_id(d.parent_id), head_id=_id(d.head_id)
    )


def list_pb(a: AdminList) -> pb.AdminList:
    return pb.AdminList(
        code=a.code,
        name=a.name,
        columns=[pb.ListColumn(code=c.code, name=c.name, type=c.type.value) for c in a.columns],
    )


def item_pb(i: ListItem) -> pb.ListItem:
    return pb.ListItem(id=str(i.id), list_code=i.list_code, values=to_struct(i.values))
