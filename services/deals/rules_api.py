"""gRPC methods of automation rules. Mixed into DealsApi; proto <-> domain mapping only.
Admin only; calls without an actor (the worker's triggers) are internal."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import deals_pb2 as pb

from services.common.access import Permission
from services.common.errors import FieldProblem, ValidationFailed
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.protoconv import from_struct, to_struct, to_timestamp
from services.deals.access_service import AccessService
from services.deals.domain.rules import StageRule, legacy_definition
from services.deals.rules_service import RulesService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def rule_pb(rule: StageRule) -> pb.Rule:
    trigger, actions = rule.trigger, rule.definition["actions"]
    first = actions[0] if actions else {}
    process = first.get("process", "") if first.get("type") == "start_process" else ""
    return pb.Rule(
        id=str(rule.id),
        pipeline_id=str(rule.pipeline_id),
        stage_id=str(trigger.get("stage_id") or ""),
        event=str(trigger.get("event", "")),
        action=str(first.get("type", "")),
        process=process,
        params=to_struct(first.get("params") if process else None),
        active=rule.active,
        created_at=to_timestamp(rule.created_at),
        definition=to_struct(rule.definition),
        version=rule.version,
        updated_at=to_timestamp(rule.updated_at),
    )


class RulesApi:
    _rules: RulesService
    _access: AccessService

    async def _rules_admin(self, context: Ctx) -> None:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)

    async def CreateRule(self, request: pb.CreateRuleRequest, context: Ctx) -> pb.Rule:
        await self._rules_admin(context)
        if request.HasField("definition"):
            definition = from_struct(request.definition)
        else:
            definition = legacy_definition(
                stage_id=parse_id(request.stage_id, "stage_id"),
                event=request.event,
                process=request.process.strip(),
                params=from_struct(request.params),
                active=request.active if request.HasField("active") else True,
            )
        rule = await self._rules.create_rule(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            definition=definition,
            actor_id=actor_id(context),
        )
        return rule_pb(rule)

    async def GetRule(self, request: pb.GetRuleRequest, context: Ctx) -> pb.Rule:
        await self._rules_admin(context)
        rule = await self._rules.get_rule(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            rule_id=parse_id(request.id, "id"),
        )
        return rule_pb(rule)

    async def ListRules(self, request: pb.ListRulesRequest, context: Ctx) -> pb.ListRulesResponse:
        await self._rules_admin(context)
        rules = await self._rules.list_rules(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            stage_id=optional_id(request.stage_id, "stage_id"),
            active_only=request.active_only,
        )
        return pb.ListRulesResponse(rules=[rule_pb(r) for r in rules])

    async def UpdateRule(self, request: pb.UpdateRuleRequest, context: Ctx) -> pb.Rule:
        await self._rules_admin(context)
        changes: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for name in dict.fromkeys(request.set_fields):
            match name:
                case "definition":
                    changes.update(from_struct(request.definition))
                case "active":
                    changes["active"] = request.active
                case _:
                    problems.append(FieldProblem(name, "cannot be changed; send definition"))
        if problems:
            raise ValidationFailed(problems)
        rule = await self._rules.update_rule(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            rule_id=parse_id(request.id, "id"),
            changes=changes,
            actor_id=actor_id(context),
        )
        return rule_pb(rule)

    async def DeleteRule(self, request: pb.DeleteRuleRequest, context: Ctx) -> pb.Rule:
        await self._rules_admin(context)
        rule = await self._rules.delete_rule(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            rule_id=parse_id(request.id, "id"),
            actor_id=actor_id(context),
        )
        return rule_pb(rule)
