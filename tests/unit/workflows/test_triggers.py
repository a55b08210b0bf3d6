"""The triggers' decision, without servers: what a deal event is, and which rules fire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.events import Envelope
from workflows.automation_triggers import DealEvent, Rule, firings

DEAL = {"id": "42", "pipeline_id": "3", "stage_id": "11", "responsible_id": "8"}


def envelope(type_: str, actor: str = "5", **data: Any) -> Envelope:
    return Envelope(
        id=uuid.UUID(int=1),
        type=type_,
        source="deals",
        time=datetime(2026, 11, 2, tzinfo=UTC),
        subject="deal/42",
        actor=actor,
        data={"deal": dict(DEAL), **data},
    )


def stage_changed(actor: str = "5", **data: Any) -> Envelope:
    body: dict[str, Any] = {
        "from_stage_id": "10",
        "to_stage_id": "11",
        "from_stage": "New",
        "to_stage": "Terms approval",
        "before": {"stage_id": "10"},
        "after": {"stage_id": "11"},
        **data,
    }
    return envelope("deals.deal.stage_changed", actor, **body)


def rule(rule_id: str, stage: str | None, event: str, pipeline: str = "3", **more: Any) -> Rule:
    active = more.pop("active", True)
    trigger = {"event": event, **({"stage_id": int(stage)} if stage else {}), **more}
    return Rule(rule_id, pipeline, 1, trigger, active)


def test_a_stage_change_names_the_deal_the_stages_and_the_initiator() -> None:
    event = DealEvent.of(stage_changed())
    assert (event.deal_id, event.initiator_id) == ("42", "5")
    assert (event.from_pipeline_id, event.from_stage_id) == ("3", "10")
    assert (event.pipeline_id, event.stage_id, event.to_stage) == ("3", "11", "Terms approval")


def test_a_system_move_is_initiated_by_the_deal_s_responsible() -> None:
    assert DealEvent.of(stage_changed(actor="")).initiator_id == "8"


def test_a_move_into_another_pipeline_leaves_the_old_one() -> None:
    event = DealEvent.of(stage_changed(before={"stage_id": "10", "pipeline_id": "2"}))
    assert (event.from_pipeline_id, event.pipeline_id) == ("2", "3")
    rules = [rule("1", "10", "leave", pipeline="2"), rule("2", "10", "leave", pipeline="3")]
    assert [f.rule.id for f in firings(event, rules)] == ["1"]


@pytest.mark.parametrize("missing", ["deal", "from_stage_id"])
def test_an_event_without_a_stage_change_is_refused(missing: str) -> None:
    event = stage_changed()
    del event.data[missing]
    with pytest.raises(KeyError):
        DealEvent.of(event)


def test_leave_rules_of_the_stage_left_fire_before_enter_rules_of_the_stage_entered() -> None:
    rules = [
        rule("1", "11", "enter"),
        rule("2", "10", "leave"),
        rule("3", "11", "enter", active=False),
        rule("4", "10", "enter"),  # entering the stage left: not now
        rule("5", "11", "leave"),  # leaving the stage entered: not now
        rule("6", "11", "enter", pipeline="9"),  # the same stage id in another pipeline
        rule("7", "11", "enter"),
        rule("8", None, "created"),
    ]
    fired = firings(DealEvent.of(stage_changed()), rules)
    assert [(f.rule.id, f.why) for f in fired] == [
        ("2", 'leave "New"'),
        ("1", 'enter "Terms approval"'),
        ("7", 'enter "Terms approval"'),
    ]


def test_a_new_deal_fires_the_created_rules_of_its_pipeline_and_stage() -> None:
    rules = [rule("1", None, "created"), rule("2", "12", "created"), rule("3", "11", "created")]
    event = DealEvent.of(envelope("deals.deal.created", after={}))
    assert [f.rule.id for f in firings(event, rules)] == ["1", "3"]


def test_a_field_change_fires_rules_of_that_field_from_and_to_the_values_named() -> None:
    event = DealEvent.of(
        envelope(
            "deals.deal.updated",
            before={"fields": {"source": None}, "amount": "10"},
            after={"fields": {"source": "call"}, "amount": "20"},
        )
    )
    rules = [
        rule("1", None, "field_changed", field="source"),
        rule("2", None, "field_changed", field="source", to="call"),
        rule("3", None, "field_changed", field="source", to="mail"),
        rule("4", None, "field_changed", field="amount", **{"from": "10"}),
        rule("5", None, "field_changed", field="inn"),
    ]
    assert [(f.rule.id, f.why) for f in firings(event, rules)] == [
        ("1", "source changed"),
        ("2", "source changed"),
        ("4", "amount changed"),
    ]


def test_no_rule_fires_without_rules() -> None:
    assert firings(DealEvent.of(stage_changed()), []) == []


def test_a_call_fires_the_activity_rules_of_its_kind() -> None:
    event = DealEvent.of(envelope("deals.deal.activity_logged", kind="call", text="Hi"))
    rules = [
        rule("1", None, "activity_logged"),
        rule("2", None, "activity_logged", kind="email"),
        rule("3", None, "activity_logged", kind="call"),
        rule("4", None, "activity_logged", kind="any", pipeline="9"),
    ]
    assert [(f.rule.id, f.why) for f in firings(event, rules)] == [
        ("1", "call logged"),
        ("3", "call logged"),
    ]


def test_a_finished_process_fires_the_rules_of_that_process_and_outcome() -> None:
    event = DealEvent.of(
        envelope("deals.deal.process_finished", process="contract_approval", outcome="signed")
    )
    rules = [
        rule("1", None, "process_finished"),
        rule("2", None, "process_finished", process="contract_approval", outcome="signed"),
        rule("3", None, "process_finished", process="contract_approval", outcome="rejected"),
        rule("4", None, "process_finished", process="sample_return"),
    ]
    assert [(f.rule.id, f.why) for f in firings(event, rules)] == [
        ("1", "contract_approval finished (signed)"),
        ("2", "contract_approval finished (signed)"),
    ]
