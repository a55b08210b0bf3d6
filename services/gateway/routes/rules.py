"""Automation rules of a pipeline: admins only. The processes that start_process actions
name (and their params) are checked against the process registry here, before the deals
service checks and stores the rest of the rule."""

from __future__ import annotations

from typing import Any

from dealflow.deals.v1 import automation_pb2, deals_pb2
from fastapi import APIRouter, Response

from services.common.errors import FieldProblem
from services.common.protoconv import from_struct, to_struct
from services.gateway.deps import AdminUser, Automation, Deals
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import RecordId
from services.gateway.schemas.rules import (
    LEGACY,
    DryRunIn,
    DryRunOut,
    RuleIn,
    RuleOut,
    RulePatch,
    RuleVersionOut,
)
from workflows.api import UnknownProcess, validate_params

router = APIRouter(prefix=API_PREFIX + "/pipelines", tags=["pipelines"], responses=COMMON_RESPONSES)


def check_processes(definition: dict[str, Any], *, legacy: bool = False) -> None:
    """422 naming the field when a start_process action's process is unknown or refuses
    its params (`process`/`params` in the first shape, else `actions[i].process`)."""
    problems = []
    for i, action in enumerate(definition.get("actions") or []):
        if not isinstance(action, dict) or action.get("type") != "start_process":
            continue
        where = "" if legacy else f"actions[{i}]."
        try:
            validate_params(str(action.get("process", "")), action.get("params") or {})
        except UnknownProcess as exc:
            problems.append(FieldProblem(f"{where}process", str(exc)))
        except ValueError as exc:
            problems.append(FieldProblem(f"{where}params", str(exc)))
    if problems:
        raise Problem(422, problems[0].message, errors=problems)


@router.get("/{pipeline_id}/rules", responses=responses(403, 404))
async def list_rules(pipeline_id: RecordId, _: AdminUser, deals: Deals) -> list[RuleOut]:
    reply = await deals.ListRules(deals_pb2.ListRulesRequest(pipeline_id=str(pipeline_id)))
    return [RuleOut.of(r) for r in reply.rules]


@router.post("/{pipeline_id}/rules", status_code=201, responses=responses(403, 404))
async def create_rule(pipeline_id: RecordId, body: RuleIn, _: AdminUser, deals: Deals) -> RuleOut:
    definition = body.definition()
    check_processes(definition, legacy=body.legacy())
    rule = await deals.CreateRule(
        deals_pb2.CreateRuleRequest(pipeline_id=str(pipeline_id), definition=to_struct(definition))
    )
    return RuleOut.of(rule)


@router.post("/{pipeline_id}/rules/dry-run", responses=responses(403, 404))
async def dry_run(
    pipeline_id: RecordId, body: DryRunIn, _: AdminUser, automation: Automation
) -> DryRunOut:
    if (body.deal_id is None) == (body.lead_id is None):
        message = "give exactly one of deal_id (a pipeline's deal) and lead_id (a funnel's lead)"
        raise Problem(422, message, errors=[FieldProblem("deal_id", message)])
    reply = await automation.DryRun(
        automation_pb2.DryRunRequest(
            pipeline_id=str(pipeline_id),
            deal_id=str(body.deal_id or ""),
            lead_id=str(body.lead_id or ""),
            trigger=to_struct(body.trigger),
        )
    )
    return DryRunOut(rules=[from_struct(r) for r in reply.rules])


@router.get("/{pipeline_id}/rules/{rule_id:int}", responses=responses(403, 404))
async def get_rule(pipeline_id: RecordId, rule_id: RecordId, _: AdminUser, deals: Deals) -> RuleOut:
    rule = await deals.GetRule(
        deals_pb2.GetRuleRequest(pipeline_id=str(pipeline_id), id=str(rule_id))
    )
    return RuleOut.of(rule)


@router.get("/{pipeline_id}/rules/{rule_id:int}/versions", responses=responses(403, 404))
async def rule_versions(
    pipeline_id: RecordId, rule_id: RecordId, _: AdminUser, automation: Automation
) -> list[RuleVersionOut]:
    reply = await automation.ListRuleVersions(
        automation_pb2.ListRuleVersionsRequest(pipeline_id=str(pipeline_id), rule_id=str(rule_id))
    )
    return [RuleVersionOut.of(v) for v in reply.versions]


@router.patch("/{pipeline_id}/rules/{rule_id:int}", responses=responses(403, 404))
async def update_rule(
    pipeline_id: RecordId, rule_id: RecordId, body: RulePatch, _: AdminUser, deals: Deals
) -> RuleOut:
    given = body.model_dump(exclude_unset=True)
    nulls = [
        FieldProblem(name, "may not be null")
        for name, value in given.items()
        if value is None and name not in ("condition", "delay", "keep_on_leave")
    ]
    if nulls:
        raise Problem(422, "the request is not valid", errors=nulls)
    changes = {k: v for k, v in given.items() if k not in LEGACY}
    legacy = {k: v for k, v in given.items() if k in LEGACY}
    if legacy:
        current = RuleOut.of(
            await deals.GetRule(
                deals_pb2.GetRuleRequest(pipeline_id=str(pipeline_id), id=str(rule_id))
            )
        )
        changes.update(_legacy_changes(current, legacy))
    if "actions" in changes:
        check_processes(changes, legacy=bool(legacy))
    request = deals_pb2.UpdateRuleRequest(
        pipeline_id=str(pipeline_id),
        id=str(rule_id),
        set_fields=["definition"],
        definition=to_struct(changes),
    )
    return RuleOut.of(await deals.UpdateRule(request))


def _legacy_changes(current: RuleOut, legacy: dict[str, Any]) -> dict[str, Any]:
    """The first shape's keys as changes of the rule's trigger and first action."""
    changes: dict[str, Any] = {}
    if "stage_id" in legacy or "event" in legacy:
        changes["trigger"] = {
            **current.trigger,
            **{k: legacy[k] for k in ("stage_id", "event") if k in legacy},
        }
    if "process" in legacy or "params" in legacy:
        actions = [dict(a) for a in current.actions] or [{"type": "start_process"}]
        first = {**actions[0], "type": "start_process"}
        first.update({k: legacy[k] for k in ("process", "params") if k in legacy})
        changes["actions"] = [first, *actions[1:]]
    return changes


@router.delete("/{pipeline_id}/rules/{rule_id:int}", status_code=204, responses=responses(403, 404))
async def delete_rule(
    pipeline_id: RecordId, rule_id: RecordId, _: AdminUser, deals: Deals
) -> Response:
    await deals.DeleteRule(
        deals_pb2.DeleteRuleRequest(pipeline_id=str(pipeline_id), id=str(rule_id))
    )
    return Response(status_code=204)
