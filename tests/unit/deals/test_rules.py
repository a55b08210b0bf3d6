"""Automation rules: the shape an admin may store (every problem named by place), the
first shape kept, and a change making a new version."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.pipelines import FieldDefinition, FieldType, Pipeline, Semantic, Stage
from services.deals.domain.rules import (
    StageRule,
    change_definition,
    legacy_definition,
    matches,
    new_definition,
)


def _field(code: str, kind: FieldType, *options: str) -> FieldDefinition:
    return FieldDefinition(0, 3, code, code, kind, options=options)


CLIENTS = Pipeline(
    3,
    "Clients",
    (
        Stage(10, "Collect", Semantic.IN_PROGRESS, 0),
        Stage(11, "Decision maker found", Semantic.IN_PROGRESS, 1),
        Stage(12, "Presentation", Semantic.IN_PROGRESS, 2),
    ),
    (
        _field("source", FieldType.STRING),
        _field("budget", FieldType.MONEY),
        _field("deadline", FieldType.DATE),
        _field("segment", FieldType.ENUM, "A", "B"),
    ),
)
PROJECTS = Pipeline(
    4,
    "Projects",
    (Stage(20, "Clarifying", Semantic.IN_PROGRESS, 0),),
    (_field("request", FieldType.TEXT),),
)
OTHERS = {3: CLIENTS, 4: PROJECTS}

ISSUE_EXAMPLE: dict[str, Any] = {
    "name": "Discuss the lead",
    "trigger": {"event": "enter", "stage_id": 11},
    "condition": {"all": [{"field": "source", "op": "not_empty"}]},
    "actions": [
        {
            "type": "create_task",
            "title": "Discuss lead with management",
            "assignee": {"kind": "responsible"},
            "deadline": {"business_days": 2},
            "checklist": ["Source checked"],
            "close_on_leave": True,
        },
        {"type": "move", "stage_id": 12, "delay": {"seconds": 604800}},
    ],
}


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationFailed) as err:
        new_definition(CLIENTS, raw, OTHERS)
    return [p.field for p in err.value.problems]


def test_the_issue_s_example_is_a_rule() -> None:
    definition = new_definition(CLIENTS, ISSUE_EXAMPLE, OTHERS)
    assert definition == {**ISSUE_EXAMPLE, "active": True}


def test_every_action_type_is_taken() -> None:
    actions = [
        {"type": "set_fields", "fields": {"segment": "A", "budget": "100.50"}},
        {"type": "create_deal", "pipeline_id": 4, "stage_id": 20, "fields": {"request": "source"}},
        {"type": "notify", "title": "Look", "assignee": {"kind": "responsible_head"}},
        {"type": "notify", "title": "Look", "assignee": {"kind": "role", "role": "lawyer"}},
        {"type": "notify", "title": "Look", "assignee": {"kind": "user", "user_id": 7}},
        {
            "type": "notify",
            "title": "Look",
            "assignee": {
                "kind": "list",
                "list_code": "directions",
                "key_field": "source",
                "key_column": "name",
                "user_column": "operator",
            },
        },
        {"type": "start_process", "process": "sample_return", "params": {}},
        {"type": "add_timeline_note", "text": "Robot was here", "delay": {"business_days": 1}},
        {
            "type": "move",
            "pipeline_id": 4,
            "stage_id": 20,
            "delay": {"field": "deadline", "offset": "-P1D"},
        },
    ]
    rule = {"name": "All", "trigger": {"event": "created"}, "actions": actions}
    assert new_definition(CLIENTS, rule, OTHERS)["actions"] == actions


def test_wrong_places_are_named() -> None:
    rule = {
        "name": "",
        "trigger": {"event": "enter", "stage_id": 99},
        "condition": {
            "all": [
                {"field": "source", "op": "empty"},
                {"field": "budget", "op": "gt", "value": "x"},
            ]
        },
        "delay": {"weeks": 1},
        "actions": [
            {"type": "create_task", "title": "T", "assignee": {"kind": "nobody"}},
            {"type": "move", "stage_id": 20},
            {"type": "set_fields", "fields": {"segment": "C", "nope": 1}},
            {
                "type": "create_deal",
                "pipeline_id": 4,
                "fields": {"request": "unknown", "x": "source"},
            },
            {"type": "fly"},
        ],
    }
    assert problems(rule) == [
        "name",
        "trigger.stage_id",
        "condition.all[1].value",
        "delay.weeks",
        "actions[0].assignee.kind",
        "actions[1].stage_id",
        "actions[2].fields.segment",
        "actions[2].fields.nope",
        "actions[3].fields.request",
        "actions[3].fields.x",
        "actions[4].type",
    ]


def test_triggers_are_checked_by_event() -> None:
    base = {"name": "R", "actions": [{"type": "add_timeline_note", "text": "x"}]}
    assert problems({**base, "trigger": {"event": "enter"}}) == ["trigger.stage_id"]
    assert problems({**base, "trigger": {"event": "someday"}}) == ["trigger.event"]
    assert problems({**base, "trigger": {"event": "field_changed", "field": "zzz"}}) == [
        "trigger.field"
    ]
    assert problems({**base, "trigger": {"event": "created", "field": "source"}}) == [
        "trigger.field"
    ]
    assert problems({**base, "trigger": {"event": "leave", "stage_id": 10}, "extra": 1}) == [
        "extra"
    ]


def test_the_first_shape_means_start_the_process_on_entering() -> None:
    definition = legacy_definition(
        stage_id=11, event="enter", process="client_onboarding", params={"template": "t"}
    )
    rule = StageRule(1, 3, new_definition(CLIENTS, definition, OTHERS))
    assert rule.stage_id == 11 and rule.active
    assert rule.definition["actions"] == [
        {"type": "start_process", "process": "client_onboarding", "params": {"template": "t"}}
    ]


def test_a_change_is_a_new_version_and_checked_again() -> None:
    rule = StageRule(1, 3, new_definition(CLIENTS, ISSUE_EXAMPLE, OTHERS), version=1)
    same = change_definition(CLIENTS, rule, {"name": "Discuss the lead"}, OTHERS)
    assert same is rule
    changed = change_definition(CLIENTS, rule, {"condition": None, "active": False}, OTHERS)
    assert changed.version == 2 and "condition" not in changed.definition and not changed.active
    with pytest.raises(ValidationFailed):
        change_definition(CLIENTS, rule, {"trigger": {"event": "enter", "stage_id": 20}}, OTHERS)


def test_a_dry_run_trigger_matches_the_rules_of_that_event_and_stage() -> None:
    assert matches({"event": "enter", "stage_id": 12}, {"event": "enter", "stage_id": "12"})
    assert not matches({"event": "enter", "stage_id": 12}, {"event": "enter", "stage_id": 13})
    assert not matches({"event": "leave", "stage_id": 12}, {"event": "enter", "stage_id": 12})
    assert matches({"event": "created"}, {"event": "created", "stage_id": 10})
