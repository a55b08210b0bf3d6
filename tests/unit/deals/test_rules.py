"""Stage rules: what an admin may store, and what a change may do."""

from __future__ import annotations

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.pipelines import Pipeline, Semantic, Stage
from services.deals.domain.rules import RuleAction, RuleEvent, change_rule, new_rule

CLIENTS = Pipeline(
    3,
    "New clients",
    (
        Stage(10, "New", Semantic.IN_PROGRESS, 0),
        Stage(11, "Terms approval", Semantic.IN_PROGRESS, 1),
    ),
)


def fields(err: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [p.field for p in err.value.problems]


def test_a_rule_starts_a_process_on_entering_a_stage_of_its_pipeline() -> None:
    rule = new_rule(
        CLIENTS,
        stage_id=11,
        event="enter",
        action="",
        process=" client_onboarding ",
        params={"template": "onboarding"},
    )
    assert (rule.pipeline_id, rule.stage_id, rule.event) == (3, 11, RuleEvent.ENTER)
    assert (rule.action, rule.process, rule.active) == (
        RuleAction.START_PROCESS,
        "client_onboarding",
        True,
    )
    assert rule.params == {"template": "onboarding"}


def test_every_problem_of_a_rule_at_once() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_rule(
            CLIENTS,
            stage_id=99,
            event="arrive",
            action="send_fax",
            process="Client Onboarding!",
            params={"x": "y" * 20_000},
        )
    assert fields(err) == ["event", "action", "stage_id", "process", "params"]
    assert "enter, leave" in err.value.problems[0].message


def test_params_must_be_an_object() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_rule(CLIENTS, stage_id=10, event="leave", action="", process="p", params=[1])  # type: ignore[arg-type]
    assert fields(err) == ["params"]


def test_a_change_is_checked_like_a_new_rule() -> None:
    rule = new_rule(CLIENTS, stage_id=10, event="leave", action="", process="p", params={})
    changed = change_rule(CLIENTS, rule, {"event": "enter", "active": False, "stage_id": 11})
    assert (changed.event, changed.active, changed.stage_id) == (RuleEvent.ENTER, False, 11)
    assert rule.event == RuleEvent.LEAVE, "rules are values: the original is unchanged"
    with pytest.raises(ValidationFailed) as err:
        change_rule(CLIENTS, rule, {"stage_id": 12, "pipeline_id": 4, "event": "exit"})
    assert fields(err) == ["pipeline_id", "event", "stage_id"]
