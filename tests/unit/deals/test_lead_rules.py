"""Rules on lead funnels (SN-1): the two lead actions checked when saved (every problem
named by its place), the actions a funnel takes and a deal pipeline refuses, the pipeline
`convert_lead` chooses by a field, and "leaving Collect needs Source" as
`required_to_leave` on a lead's move."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.lead_actions import resolve_convert
from services.deals.domain.pipelines import (
    FieldDefinition,
    FieldType,
    Kind,
    Pipeline,
    Semantic,
    Stage,
)
from services.deals.domain.rules import new_definition
from tests.unit.deals.test_contacts_leads import a_lead

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
FUNNEL = Pipeline(
    10,
    "Leads",
    (
        Stage(1, "Collect", Semantic.IN_PROGRESS, 0),
        Stage(2, "Discuss", Semantic.IN_PROGRESS, 1),
        Stage(3, "Interesting", Semantic.WON, 2),
        Stage(4, "Spam", Semantic.SPAM, 3),
        Stage(5, "Save contact", Semantic.WON, 4),
    ),
    (
        FieldDefinition(1, 10, "source", "Source", FieldType.STRING, required_to_leave=(1,)),
        FieldDefinition(
            2,
            10,
            "may_name_source",
            "May we name the source",
            FieldType.BOOL,
            required_to_leave=(1,),
        ),
        FieldDefinition(3, 10, "has_spec", "Has spec?", FieldType.BOOL),
        FieldDefinition(4, 10, "notes", "Notes", FieldType.TEXT),
    ),
    kind=Kind.LEAD,
)
PROJECTS = Pipeline(20, "Project manager", (Stage(21, "New", Semantic.IN_PROGRESS, 0),))
ACQUISITION = Pipeline(30, "Client acquisition", (Stage(31, "New", Semantic.IN_PROGRESS, 0),))
OTHER_FUNNEL = Pipeline(
    40, "Other leads", (Stage(41, "New", Semantic.IN_PROGRESS, 0),), (), kind=Kind.LEAD
)
PIPELINES = {p.id: p for p in (FUNNEL, PROJECTS, ACQUISITION, OTHER_FUNNEL)}
CONVERT: dict[str, Any] = {
    "type": "convert_lead",
    "pipeline_by_field": {"field": "has_spec", "values": {"yes": 20, "no": 30}},
}


def rule(*actions: dict[str, Any], pipeline: Pipeline = FUNNEL) -> dict[str, Any]:
    raw = {
        "name": "r",
        "trigger": {"event": "enter", "stage_id": pipeline.stages[0].id},
        "actions": list(actions),
    }
    return new_definition(pipeline, raw, PIPELINES)


def places(*actions: dict[str, Any], pipeline: Pipeline = FUNNEL) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        rule(*actions, pipeline=pipeline)
    return {p.field: p.message for p in failed.value.problems}


def test_the_sn_1_rules_are_taken() -> None:
    stored = rule(
        {
            "type": "create_task",
            "title": "Discuss lead with management",
            "assignee": {"kind": "responsible"},
            "deadline": {"business_days": 2},
            "close_on_leave": True,
        },
        {"type": "move", "stage_id": 5, "delay": {"seconds": 604800}},
        CONVERT,
        {"type": "convert_lead", "pipeline_id": 20, "stage_id": 21},
        {"type": "convert_lead"},
        {"type": "exclude_contact", "reason": "spam"},
        {"type": "set_fields", "fields": {"notes": "seen"}},
        {"type": "notify", "title": "New lead", "assignee": {"kind": "responsible_head"}},
    )
    assert [a["type"] for a in stored["actions"]][:3] == ["create_task", "move", "convert_lead"]


def test_convert_lead_names_every_bad_place() -> None:
    assert places(
        {"type": "convert_lead", "pipeline_id": 40},
        {"type": "convert_lead", "pipeline_id": 20, "stage_id": 31},
        {
            "type": "convert_lead",
            "pipeline_id": 20,
            "pipeline_by_field": CONVERT["pipeline_by_field"],
        },
        {
            "type": "convert_lead",
            "pipeline_by_field": {"field": "notes", "values": {"x": 99}, "extra": 1},
        },
        {
            "type": "convert_lead",
            "pipeline_by_field": {"field": "has_spec", "values": {"true": 20}, "default": 40},
        },
        {"type": "convert_lead", "pipeline_by_field": {"field": "has_spec", "values": {}}},
        {"type": "convert_lead", "stage_id": 21},
        {"type": "exclude_contact", "reason": 5, "pipeline_id": 20},
    ) == {
        "actions[0].pipeline_id": "is not a pipeline of deals",
        "actions[1].stage_id": "is not a stage of pipeline 20",
        "actions[2].pipeline_by_field": "is not taken with pipeline_id",
        "actions[3].pipeline_by_field.extra": "is not taken",
        "actions[3].pipeline_by_field.field": "must be a yes/no, enum or text field",
        "actions[3].pipeline_by_field.values.x": "is not a pipeline of deals",
        "actions[4].pipeline_by_field.values.true": "a yes/no field's values are yes and no",
        "actions[4].pipeline_by_field.default": "is not a pipeline of deals",
        "actions[5].pipeline_by_field.values": "must map field values to pipelines",
        "actions[6].stage_id": "is taken with pipeline_id only",
        "actions[7].pipeline_id": "is not taken by exclude_contact",
        "actions[7].reason": "must be 0 to 2000 characters",
    }


def test_a_funnel_takes_only_the_actions_leads_have_and_a_deal_pipeline_not_theirs() -> None:
    on_funnel = places(
        {"type": "create_deal", "pipeline_id": 20},
        {"type": "start_process", "process": "sample_return"},
        {"type": "move", "stage_id": 41, "pipeline_id": 40},
    )
    assert set(on_funnel) == {"actions[0].type", "actions[1].type", "actions[2].pipeline_id"}
    assert on_funnel["actions[2].pipeline_id"] == "a lead moves within its funnel"
    on_deals = places(CONVERT, {"type": "exclude_contact"}, pipeline=PROJECTS)
    assert on_deals == {
        "actions[0].type": "convert_lead is an action of lead funnels only",
        "actions[1].type": "exclude_contact is an action of lead funnels only",
    }


@pytest.mark.parametrize(
    ("fields", "answer"),
    [
        ({"has_spec": True}, {"pipeline_id": "20"}),
        ({"has_spec": False}, {"pipeline_id": "30"}),
        ({}, {"error": "fields.has_spec is empty: no pipeline is chosen for it"}),
    ],
)
def test_convert_lead_chooses_the_pipeline_by_the_field(
    fields: dict[str, Any], answer: dict[str, str]
) -> None:
    assert resolve_convert(CONVERT, fields) == answer


def test_a_default_pipeline_takes_the_values_not_listed() -> None:
    action = {
        "type": "convert_lead",
        "pipeline_by_field": {"field": "has_spec", "values": {"yes": 20}, "default": 30},
    }
    assert resolve_convert(action, {"has_spec": False}) == {"pipeline_id": "30"}
    assert resolve_convert({"type": "convert_lead", "pipeline_id": 20}, {}) == {}


def test_leaving_collect_needs_every_field_required_to_leave_it() -> None:
    lead = a_lead(FUNNEL, title="Stands", source="", responsible_id=8)
    for target in (2, 4):  # Discuss, and Spam too: leaving is leaving
        with pytest.raises(ValidationFailed) as refused:
            lead.move(FUNNEL, stage_id=target, expected_version=0, actor_id=1, comment="", now=NOW)
        assert sorted(p.field for p in refused.value.problems) == [
            "fields.may_name_source",
            "fields.source",
        ]
        assert lead.stage_id == 1 and lead.events[-1].__class__.__name__ == "LeadCreated"
    lead.fields = {"source": "exhibition", "may_name_source": False}
    lead.move(FUNNEL, stage_id=2, expected_version=0, actor_id=1, comment="", now=NOW)
    assert lead.stage_id == 2
    lead.move(FUNNEL, stage_id=4, expected_version=0, actor_id=1, comment="", now=NOW)
    assert lead.stage_id == 4  # nothing is required to leave Discuss
