"""Stage automation rules of a pipeline: what the worker starts when a deal enters or
leaves a stage. Admins only; a rule's process and params are checked against the process
registry here, before the deals service stores them."""

from __future__ import annotations

from typing import Any

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter, Response

from services.common.errors import FieldProblem
from services.common.protoconv import to_struct
from services.gateway.deps import AdminUser, Deals
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import RecordId
from services.gateway.schemas.rules import RuleIn, RuleOut, RulePatch
from workflows.api import UnknownProcess, validate_params

router = APIRouter(prefix=API_PREFIX + "/pipelines", tags=["pipelines"], responses=COMMON_RESPONSES)


def check_process(process: str, params: dict[str, Any]) -> None:
    """422 naming the field when the process is unknown or refuses the params."""
    try:
        validate_params(process, params)
    except UnknownProcess as exc:
        raise Problem(422, str(exc), errors=[FieldProblem("process", str(exc))]) from exc
    except ValueError as exc:
        raise Problem(422, str(exc), errors=[FieldProblem("params", str(exc))]) from exc


@router.get("/{pipeline_id}/rules", responses=responses(403, 404))
async def list_rules(pipeline_id: RecordId, _: AdminUser, deals: Deals) -> list[RuleOut]:
    reply = await deals.ListRules(deals_pb2.ListRulesRequest(pipeline_id=str(pipeline_id)))
    return [RuleOut.of(r) for r in reply.rules]


@router.post("/{pipeline_id}/rules", status_code=201, responses=responses(403, 404))
async def create_rule(pipeline_id: RecordId, body: RuleIn, _: AdminUser, deals: Deals) -> RuleOut:
    check_process(body.process, body.params)
    rule = await deals.CreateRule(
        deals_pb2.CreateRuleRequest(
            pipeline_id=str(pipeline_id),
            stage_id=str(body.stage_id),
            event=body.event,
            action=body.action,
            process=body.process,
            params=to_struct(body.params),
            active=body.active,
        )
    )
    return RuleOut.of(rule)


@router.patch("/{pipeline_id}/rules/{rule_id}", responses=responses(403, 404))
async def update_rule(
    pipeline_id: RecordId, rule_id: RecordId, body: RulePatch, _: AdminUser, deals: Deals
) -> RuleOut:
    given = body.model_dump(exclude_unset=True)
    nulls = [
        FieldProblem(name, "may not be null") for name, value in given.items() if value is None
    ]
    if nulls:
        raise Problem(422, "the request is not valid", errors=nulls)
    if "process" in given or "params" in given:
        current = await deals.GetRule(
            deals_pb2.GetRuleRequest(pipeline_id=str(pipeline_id), id=str(rule_id))
        )
        now = RuleOut.of(current)
        check_process(given.get("process", now.process), given.get("params", now.params))
    request = deals_pb2.UpdateRuleRequest(
        pipeline_id=str(pipeline_id), id=str(rule_id), set_fields=list(given)
    )
    for name, value in given.items():
        if name == "params":
            request.params.CopyFrom(to_struct(value))
        elif name == "stage_id":
            request.stage_id = str(value)
        else:
            setattr(request, name, value)
    return RuleOut.of(await deals.UpdateRule(request))


@router.delete("/{pipeline_id}/rules/{rule_id}", status_code=204, responses=responses(403, 404))
async def delete_rule(
    pipeline_id: RecordId, rule_id: RecordId, _: AdminUser, deals: Deals
) -> Response:
    await deals.DeleteRule(
        deals_pb2.DeleteRuleRequest(pipeline_id=str(pipeline_id), id=str(rule_id))
    )
    return Response(status_code=204)
