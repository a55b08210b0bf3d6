"""Computed fields: the formula parser (never eval), exact Decimal results, empty on an
empty operand or a division by zero, checks when saved (unknown field, a cycle, two
currencies), recomputed with every change and read-only; fields required to leave."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.deals import new_deal
from services.deals.domain.formulas import FormulaError, evaluate, parse
from services.deals.domain.pipelines import (
    FieldDefinition,
    FieldType,
    Pipeline,
    Semantic,
    Stage,
    new_field,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def value(text: str, **values: object) -> Decimal | None:
    return evaluate(parse(text), values)


def test_arithmetic_is_exact_with_precedence_and_functions() -> None:
    assert value("income - cost", income="1000.10", cost="600.05") == Decimal("400.05")
    assert value("1 + 2 * 3 - (4 - 2) / 4") == Decimal("6.5")
    assert value("-a * 2", a=3) == Decimal(-6)
    assert value("round(profit / income * 100, 2)", profit="400.05", income="1000.10") == Decimal(
        "40.00"
    )
    assert value("round(2.5)") == Decimal(3)
    assert value("min(a, b, 7)", a=9, b="8") == 7 and value("max(a, 0)", a=-4) == 0
    assert value("0.1 + 0.2") == Decimal("0.3")


def test_empty_operands_and_division_by_zero_give_empty() -> None:
    assert value("a / b", a=1, b=0) is None
    assert value("a - b", a=1) is None
    assert value("max(a, b)", a=1, b="") is None


@pytest.mark.parametrize(
    "text",
    ["", "a +", "(a", "a b", "__import__('os')", "a ** 2", "f(a)", "round(a, 1, 2)", "a; b", "1e5"],
)
def test_what_is_not_a_formula_is_refused(text: str) -> None:
    with pytest.raises(FormulaError):
        parse(text)


def _field(code: str, kind: FieldType, **more: object) -> FieldDefinition:
    return FieldDefinition(0, 5, code, code, kind, **more)  # type: ignore[arg-type]


PROJECTS = Pipeline(
    5,
    "Projects",
    (
        Stage(50, "Clarifying", Semantic.IN_PROGRESS, 0),
        Stage(51, "Decision", Semantic.IN_PROGRESS, 1),
    ),
    (
        _field("income_estimate", FieldType.MONEY),
        _field("cost_estimate", FieldType.MONEY),
        _field("usd_cost", FieldType.MONEY, currency="USD"),
        _field("note", FieldType.STRING),
        _field("profit", FieldType.MONEY, formula="income_estimate - cost_estimate"),
    ),
)


def computed(code: str, formula: str, kind: str = "money") -> FieldDefinition:
    return new_field(
        PROJECTS,
        code=code,
        name=code,
        type=kind,
        required_on_stages=[],
        options=[],
        list_code="",
        list_exists=False,
        formula=formula,
    )


def problems(code: str, formula: str, kind: str = "money") -> list[str]:
    with pytest.raises(ValidationFailed) as err:
        computed(code, formula, kind)
    return [f"{p.field}: {p.message}" for p in err.value.problems]


def test_a_formula_is_checked_when_the_field_is_saved() -> None:
    assert computed("profit_pct", "round(profit / income_estimate * 100, 2)", "number").formula
    assert problems("x", "income_estimate - nope") == [
        "formula: nope is not a field of the pipeline"
    ]
    assert problems("x", "note * 2") == ["formula: note is not a number or money field"]
    assert problems("x", "income_estimate - usd_cost") == [
        "formula: mixes money of two currencies: USD and the deal's currency"
    ]
    assert problems("x", "a +")[0].startswith("formula: expected more")
    assert problems("x", "1", "string") == ["formula: only number and money fields are computed"]


def test_a_cycle_between_computed_fields_is_refused() -> None:
    looping = Pipeline(5, "P", PROJECTS.stages, (_field("a", FieldType.NUMBER, formula="b + 1"),))
    with pytest.raises(ValidationFailed) as err:
        new_field(
            looping,
            code="b",
            name="b",
            type="number",
            required_on_stages=[],
            options=[],
            list_code="",
            list_exists=False,
            formula="a * 2",
        )
    assert [p.message for p in err.value.problems] == ["b would depend on itself"]


def make(fields: dict[str, object]):  # type: ignore[no-untyped-def]
    return new_deal(
        PROJECTS,
        title="Office",
        responsible_id=1,
        amount="",
        currency="RUB",
        company_name="",
        contact_name="",
        fields=fields,
        stage_id=None,
        actor_id=1,
        now=NOW,
    )


def test_computed_fields_follow_every_change_and_are_read_only() -> None:
    deal = make({"income_estimate": "1000.00", "cost_estimate": "600.00"})
    assert deal.fields["profit"] == "400.00"
    deal.update(
        PROJECTS,
        changes={},
        field_changes={"cost_estimate": "700.50"},
        expected_version=0,
        actor_id=1,
        now=NOW,
    )
    assert deal.fields["profit"] == "299.50"
    assert deal.events[-1].after["fields"] == {"cost_estimate": "700.50", "profit": "299.50"}  # type: ignore[attr-defined]
    deal.update(
        PROJECTS,
        changes={},
        field_changes={"cost_estimate": None},
        expected_version=0,
        actor_id=1,
        now=NOW,
    )
    assert "profit" not in deal.fields
    with pytest.raises(ValidationFailed) as err:
        deal.update(
            PROJECTS,
            changes={},
            field_changes={"profit": "1"},
            expected_version=0,
            actor_id=1,
            now=NOW,
        )
    assert [p.field for p in err.value.problems] == ["fields.profit"]


def test_a_field_required_to_leave_a_stage_stops_the_move_naming_it() -> None:
    strict = Pipeline(
        5,
        "P",
        PROJECTS.stages,
        (
            *PROJECTS.fields,
            _field("source", FieldType.STRING, required_to_leave=(50,)),
            _field("inn", FieldType.STRING, required_to_leave=(50,)),
        ),
    )
    deal = new_deal(
        strict,
        title="T",
        responsible_id=1,
        amount="",
        currency="RUB",
        company_name="",
        contact_name="",
        fields={"inn": "77"},
        stage_id=None,
        actor_id=1,
        now=NOW,
    )
    with pytest.raises(ValidationFailed) as err:
        deal.move(strict, strict, stage_id=51, expected_version=0, actor_id=1, comment="", now=NOW)
    assert [(p.field, p.message) for p in err.value.problems] == [
        ("fields.source", "required to leave stage Clarifying")
    ]
