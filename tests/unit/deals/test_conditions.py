"""The condition language: checked against the field types when saved (problems named by
place), evaluated against a deal with a reason, never eval'ed."""

from __future__ import annotations

from typing import Any

import pytest

from services.deals.domain.conditions import check_condition, evaluate
from services.deals.domain.pipelines import FieldType

TYPES = {
    "source": FieldType.STRING,
    "has_spec": FieldType.BOOL,
    "budget": FieldType.MONEY,
    "seats": FieldType.NUMBER,
    "deadline": FieldType.DATE,
    "segment": FieldType.ENUM,
    "manager": FieldType.USER,
}
OPTIONS = {"segment": ("A", "B")}
DEAL = {
    "title": "Pens",
    "amount": "1500.00",
    "currency": "RUB",
    "responsible_id": "8",
    "fields": {
        "source": "call",
        "has_spec": None,
        "budget": "250000.00",
        "seats": 12,
        "deadline": "2026-12-10",
        "segment": "A",
    },
}


def places(condition: Any) -> list[str]:
    return [p.field for p in check_condition(condition, TYPES, OPTIONS)]


def test_good_conditions_have_no_problems() -> None:
    condition = {
        "all": [
            {"field": "source", "op": "not_empty"},
            {
                "any": [
                    {"field": "budget", "op": "gte", "value": "100000"},
                    {"not": {"field": "fields.seats", "op": "lt", "value": 10}},
                ]
            },
            {"field": "segment", "op": "in", "value": ["A", "B"]},
            {"field": "deadline", "op": "lte", "value": "2027-01-01"},
            {"field": "amount", "op": "gt", "value": 0},
            {"field": "manager", "op": "eq", "value": 8},
            {"field": "has_spec", "op": "eq", "value": True},
        ]
    }
    assert places(condition) == []


@pytest.mark.parametrize(
    ("condition", "where"),
    [
        (
            {"all": [{"field": "source", "op": "empty"}, {"field": "nope", "op": "empty"}]},
            "condition.all[1].field",
        ),
        (
            {
                "all": [
                    {"field": "source", "op": "empty"},
                    {"field": "budget", "op": "gt", "value": "lots"},
                ]
            },
            "condition.all[1].value",
        ),
        ({"field": "source", "op": "gt", "value": "a"}, "condition.op"),
        ({"field": "source", "op": "like", "value": "a"}, "condition.op"),
        ({"field": "segment", "op": "in", "value": ["A", "Z"]}, "condition.value[1]"),
        ({"field": "segment", "op": "eq", "value": "Z"}, "condition.value"),
        ({"field": "has_spec", "op": "eq", "value": "yes"}, "condition.value"),
        ({"field": "deadline", "op": "eq", "value": "10.12.2026"}, "condition.value"),
        ({"field": "source", "op": "empty", "value": 1}, "condition.value"),
        ({"field": "source", "op": "eq"}, "condition.value"),
        ({"not": {"any": []}}, "condition.not.any"),
        ({"all": [{"field": "source", "op": "empty"}], "any": []}, "condition.all"),
        ("source is set", "condition"),
        ({"field": "__import__('os')", "op": "empty"}, "condition.field"),
    ],
)
def test_a_wrong_condition_is_refused_at_its_place(condition: Any, where: str) -> None:
    assert places(condition) == [where]


def test_evaluation_answers_the_result_and_the_reason() -> None:
    assert (
        evaluate({"field": "has_spec", "op": "not_empty"}, DEAL).reason
        == "fields.has_spec is empty"
    )
    held = evaluate({"field": "source", "op": "not_empty"}, DEAL)
    assert (held.result, held.reason) == (True, "fields.source is not empty")
    assert evaluate(None, DEAL).result


@pytest.mark.parametrize(
    ("condition", "result"),
    [
        ({"field": "budget", "op": "gte", "value": "250000"}, True),
        ({"field": "budget", "op": "gt", "value": 250000}, False),
        ({"field": "seats", "op": "eq", "value": "12.0"}, True),
        ({"field": "seats", "op": "ne", "value": 12}, False),
        ({"field": "deadline", "op": "lt", "value": "2026-12-11"}, True),
        ({"field": "deadline", "op": "lt", "value": "2026-12-10"}, False),
        ({"field": "segment", "op": "in", "value": ["B", "A"]}, True),
        ({"field": "amount", "op": "lte", "value": "1500"}, True),
        ({"field": "responsible_id", "op": "eq", "value": 8}, True),
        ({"field": "has_spec", "op": "gt", "value": 1}, False),  # empty compares false
        ({"field": "has_spec", "op": "empty"}, True),
        ({"not": {"field": "has_spec", "op": "empty"}}, False),
        (
            {
                "any": [
                    {"field": "source", "op": "eq", "value": "mail"},
                    {"field": "seats", "op": "gt", "value": 3},
                ]
            },
            True,
        ),
        (
            {
                "all": [
                    {"field": "source", "op": "eq", "value": "call"},
                    {"field": "seats", "op": "gt", "value": 30},
                ]
            },
            False,
        ),
    ],
)
def test_operators(condition: dict[str, Any], result: bool) -> None:
    assert evaluate(condition, DEAL).result is result


def test_a_failing_all_names_the_first_test_that_failed() -> None:
    outcome = evaluate(
        {
            "all": [
                {"field": "source", "op": "not_empty"},
                {"field": "seats", "op": "gt", "value": 30},
            ]
        },
        DEAL,
    )
    assert outcome.reason == "fields.seats (12) is not > 30"
    none = evaluate({"any": [{"field": "has_spec", "op": "not_empty"}]}, DEAL)
    assert none.reason == "none of: fields.has_spec is empty"
