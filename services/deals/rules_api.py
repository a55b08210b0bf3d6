"""gRPC methods of stage automation rules. Mixed into DealsApi; proto <-> domain mapping
only. Admin only; calls without an actor (the worker's triggers) are internal."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import deals_pb2 as pb

from services.common.access import Permission
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.protoconv import from_struct, to_struct, to_timestamp
from services.deals.access_service import AccessService
from services.deals.domain.rules import StageRule
from services.deals.rules_service import RulesService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def rule_pb(rule: StageRule) -> pb.Rule:
    return pb.Rule(
        id=str(rule.id),
        pipeline_id=str(rule.pipeline_id),
        stage_id=str(rule.stage_id),
        event=rule.event.value,
        action=rule.action.value,
        process=rule.process,
        params=to_struct(rule.params),
        active=rule.active,
        created_at=to_timestamp(rule.created_at),
    )


class RulesApi:
    _rules: RulesService
    _access: AccessService

    async def _rules_admin(self, context: Ctx) -> None:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)

    async def CreateRule(self, request: pb.CreateRuleRequest, context: Ctx) -> pb.Rule:
        await self._rules_admin(context)
        rule = await self._rules.create_rule(
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            stage_id=parse_id(request.stage_id, "stage_id"),
            event=request.event,
            action=request.action,
            process=request.process,
            params=from_struct(request.params),
            active=request.active if request.HasField("active") else True,
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
        changes: dict[str, object] = {}
        for name in dict.fromkeys(request.set_fields):
            match name:
                case "stage_id":
                    changes[name] = parse_id(request.stage_id, "stage_id")
                case "params":
                    changes[name] = from_struct(request.params)
                case "event" | "action" | "process" | "active":
                    changes[name] = getattr(request, name)
                case _:
                    changes[name] = None  # refused by the domain as "cannot be changed"
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
