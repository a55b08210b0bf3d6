"""Stage automation rules: when a deal enters or leaves a stage of a pipeline, start a
process. Rules are data an admin edits; the processes they name are code (the worker's
registry, workflows/processes.py), which the gateway checks a rule's process and params
against before the rule is stored."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed
from services.deals.domain.pipelines import Pipeline


class RuleEvent(StrEnum):
    ENTER = "enter"
    LEAVE = "leave"


class RuleAction(StrEnum):
    START_PROCESS = "start_process"


PROCESS_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_PARAMS_BYTES = 16 * 1024
CHANGEABLE = frozenset({"stage_id", "event", "action", "process", "params", "active"})


@dataclass(frozen=True)
class StageRule:
    id: int
    pipeline_id: int
    stage_id: int
    event: RuleEvent
    action: RuleAction
    process: str
    params: dict[str, Any] = field(default_factory=dict)
    active: bool = True
    created_at: datetime | None = None

    def audit_view(self) -> dict[str, Any]:
        """What the audit log keeps of the rule (before/after a change)."""
        return {
            "pipeline_id": self.pipeline_id,
            "stage_id": self.stage_id,
            "event": self.event.value,
            "action": self.action.value,
            "process": self.process,
            "params": self.params,
            "active": self.active,
        }


def _choice(kind: type[StrEnum], value: str, name: str, problems: list[FieldProblem]) -> Any:
    try:
        return kind(value)
    except ValueError:
        problems.append(FieldProblem(name, f"must be one of {', '.join(k.value for k in kind)}"))
        return None


def _check(pipeline: Pipeline, rule: StageRule, problems: list[FieldProblem]) -> None:
    if rule.stage_id not in {s.id for s in pipeline.stages}:
        problems.append(FieldProblem("stage_id", "is not a stage of the pipeline"))
    if not PROCESS_NAME.match(rule.process):
        problems.append(FieldProblem("process", "must be a process name, e.g. sample_return"))
    if not isinstance(rule.params, dict):
        problems.append(FieldProblem("params", "must be a JSON object"))
    elif len(json.dumps(rule.params, default=str)) > MAX_PARAMS_BYTES:
        problems.append(FieldProblem("params", f"must be under {MAX_PARAMS_BYTES} bytes as JSON"))


def new_rule(
    pipeline: Pipeline,
    *,
    stage_id: int,
    event: str,
    action: str,
    process: str,
    params: Mapping[str, Any],
    active: bool = True,
) -> StageRule:
    """A rule of `pipeline` (id 0 until stored); every problem at once."""
    problems: list[FieldProblem] = []
    rule_event = _choice(RuleEvent, event, "event", problems)
    rule_action = _choice(RuleAction, action or RuleAction.START_PROCESS, "action", problems)
    rule = StageRule(
        id=0,
        pipeline_id=pipeline.id,
        stage_id=stage_id,
        event=rule_event,
        action=rule_action,
        process=process.strip(),
        params=dict(params) if isinstance(params, Mapping) else params,
        active=active,
    )
    _check(pipeline, rule, problems)
    if problems:
        raise ValidationFailed(problems)
    return rule


def change_rule(pipeline: Pipeline, rule: StageRule, changes: Mapping[str, Any]) -> StageRule:
    """The rule with `changes` (a subset of CHANGEABLE) applied and checked again."""
    problems = [FieldProblem(n, "cannot be changed") for n in changes if n not in CHANGEABLE]
    values = {k: v for k, v in changes.items() if k in CHANGEABLE}
    if "event" in values:
        values["event"] = _choice(RuleEvent, values["event"], "event", problems)
    if "action" in values:
        values["action"] = _choice(RuleAction, values["action"], "action", problems)
    if "process" in values:
        values["process"] = str(values["process"]).strip()
    changed = replace(rule, **values)
    _check(pipeline, changed, problems)
    if problems:
        raise ValidationFailed(problems)
    return changed
