"""The triggers' decision, without servers: what a stage change is, and which rules fire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.events import Envelope
from workflows.triggers import Rule, StageChange, firing_rules


def stage_changed(actor: str = "5", **data: Any) -> Envelope:
    body: dict[str, Any] = {
        "from_stage_id": "10",
        "to_stage_id": "11",
        "from_stage": "New",
        "to_stage": "Terms approval",
        "before": {"stage_id": "10"},
        "after": {"stage_id": "11"},
        "deal": {"id": "42", "pipeline_id": "3", "stage_id": "11", "responsible_id": "8"},
        **data,
    }
    return Envelope(
        id=uuid.UUID(int=1),
        type="deals.deal.stage_changed",
        source="deals",
        time=datetime(2026, 11, 2, tzinfo=UTC),
        subject="deal/42",
        actor=actor,
        data=body,
    )


def rule(rule_id: str, stage: str, event: str, pipeline: str = "3", active: bool = True) -> Rule:
    return Rule(rule_id, pipeline, stage, event, "client_onboarding", {}, active)


def test_a_stage_change_names_the_deal_the_stages_and_the_initiator() -> None:
    change = StageChange.of(stage_changed())
    assert (change.deal_id, change.initiator_id) == ("42", "5")
    assert (change.from_pipeline_id, change.from_stage_id) == ("3", "10")
    assert (change.to_pipeline_id, change.to_stage_id, change.to_stage) == (
        "3",
        "11",
        "Terms approval",
    )


def test_a_system_move_is_initiated_by_the_deal_s_responsible() -> None:
    assert StageChange.of(stage_changed(actor="")).initiator_id == "8"


def test_a_move_into_another_pipeline_leaves_the_old_one() -> None:
    change = StageChange.of(
        stage_changed(before={"stage_id": "10", "pipeline_id": "2"}, to_stage_id="30")
    )
    assert (change.from_pipeline_id, change.to_pipeline_id) == ("2", "3")
    rules = [rule("1", "10", "leave", pipeline="2"), rule("2", "10", "leave", pipeline="3")]
    assert [f.rule.id for f in firing_rules(change, rules)] == ["1"]


@pytest.mark.parametrize("missing", ["deal", "to_stage_id", "from_stage_id"])
def test_an_event_without_a_stage_change_is_refused(missing: str) -> None:
    event = stage_changed()
    del event.data[missing]
    with pytest.raises(KeyError):
        StageChange.of(event)


def test_leave_rules_of_the_stage_left_fire_before_enter_rules_of_the_stage_entered() -> None:
    rules = [
        rule("1", "11", "enter"),
        rule("2", "10", "leave"),
        rule("3", "11", "enter", active=False),
        rule("4", "10", "enter"),  # entering the stage left: not now
        rule("5", "11", "leave"),  # leaving the stage entered: not now
        rule("6", "11", "enter", pipeline="9"),  # the same stage id in another pipeline
        rule("7", "11", "enter"),
    ]
    fired = firing_rules(StageChange.of(stage_changed()), rules)
    assert [(f.rule.id, f.why) for f in fired] == [
        ("2", 'leave "New"'),
        ("1", 'enter "Terms approval"'),
        ("7", 'enter "Terms approval"'),
    ]
    assert fired[1].start_key(StageChange.of(stage_changed())) == f"{uuid.UUID(int=1)}/rule-1"


def test_no_rule_fires_without_rules() -> None:
    assert firing_rules(StageChange.of(stage_changed()), []) == []
