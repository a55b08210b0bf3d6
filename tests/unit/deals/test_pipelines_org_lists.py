"""Pipeline and field definitions, org heads, admin lists."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.lists import item_values, new_list
from services.deals.domain.org import Department, User, head_in_chain, new_user
from services.deals.domain.pipelines import (
    Pipeline,
    Semantic,
    Stage,
    StageDraft,
    insert_position,
    new_field,
    new_pipeline,
)

SALES = Pipeline(
    1, "Sales", (Stage(1, "New", Semantic.IN_PROGRESS, 0), Stage(2, "Won", Semantic.WON, 1))
)


def problems(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [p.field for p in exc.value.problems]


def test_pipeline_needs_a_name_stages_and_known_semantics() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_pipeline("", [("New", "in_progress"), ("Done", "finished"), ("new", "")])
    assert problems(err) == ["name", "stages[1].semantic", "stages"]
    name, drafts = new_pipeline("Sales", [("New", ""), ("Won", "won")])
    assert name == "Sales" and [d.semantic for d in drafts] == ["in_progress", "won"]


def test_stage_position_is_checked() -> None:
    draft = StageDraft("Contract", Semantic.IN_PROGRESS)
    assert insert_position(SALES, draft, None) == 2
    assert insert_position(SALES, draft, 1) == 1
    with pytest.raises(ValidationFailed):
        insert_position(SALES, draft, 3)
    with pytest.raises(ValidationFailed):
        insert_position(SALES, StageDraft("won", Semantic.WON), None)


def field_args(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": "inn",
        "name": "INN",
        "type": "string",
        "required_on_stages": [],
        "options": [],
        "list_code": "",
        "list_exists": False,
    }
    return {**base, **kw}


def test_field_definition_rules() -> None:
    assert new_field(SALES, **field_args(required_on_stages=[2])).required_on_stages == (2,)
    cases = [
        (field_args(code="1nn"), "code"),
        (field_args(type="colour"), "type"),
        (field_args(required_on_stages=[99]), "required_on_stages[0]"),
        (field_args(type="enum"), "options"),
        (field_args(type="list_item", list_code="nope"), "list_code"),
    ]
    for args, bad in cases:
        with pytest.raises(ValidationFailed) as err:
            new_field(SALES, **args)
        assert problems(err) == [bad]
    ok = new_field(SALES, **field_args(type="list_item", list_code="ops", list_exists=True))
    assert ok.list_code == "ops"


def test_new_user_rules() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_user(email="not-an-email", name="", password="short", roles=[])
    assert problems(err) == ["email", "password", "roles"]
    user = new_user(email=" Ann@Example.COM ", name="", password="long enough", roles=["admin"])
    assert (user.email, user.name) == ("ann@example.com", "ann")


DEPARTMENTS = {
    1: Department(1, "Company", None, 100),
    2: Department(2, "Sales", 1, 200),
    3: Department(3, "Sales East", 2, None),
}


def user(uid: int, department: int | None) -> User:
    return User(uid, f"u{uid}@x.io", "", ("manager",), department, True)


def test_head_is_found_up_the_department_chain() -> None:
    active = {100, 200}.__contains__
    assert head_in_chain(user(5, 2), DEPARTMENTS, active) == 200
    assert head_in_chain(user(5, 3), DEPARTMENTS, active) == 200, "no head: the parent's"
    assert head_in_chain(user(200, 2), DEPARTMENTS, active) == 100, "the head's head"
    assert head_in_chain(user(5, 2), DEPARTMENTS, {100}.__contains__) == 100, "inactive skipped"
    assert head_in_chain(user(5, None), DEPARTMENTS, active) is None


def test_lists_validate_columns_and_values() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_list("X", "", [("a", "A", "date"), ("a", "A2", "string")])
    assert problems(err) == ["code", "columns[0].type", "columns"]
    ops = new_list("operators", "Operators", [("direction", "", "string"), ("user", "", "user")])
    values = item_values(ops, {}, {"direction": "North", "user": "12"})
    assert values == {"direction": "North", "user": "12"}
    with pytest.raises(ValidationFailed) as err:
        item_values(ops, values, {"colour": "red", "user": "bob"})
    assert problems(err) == ["values.colour", "values.user"]
    assert item_values(ops, values, {"direction": "South"})["user"] == "12", "merged"
