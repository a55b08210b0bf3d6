"""Blueprints without a network: the shape check with places, the plan against a
configuration (what is new, what differs, what a blueprint keeps), names <-> ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from dealflow.deals.v1 import deals_pb2

from services.blueprints.current import Names, Snapshot
from services.blueprints.document import parse
from services.blueprints.export import export
from services.blueprints.plan import plan
from services.blueprints.plan_parts import covers
from services.common.errors import ValidationFailed
from services.common.protoconv import to_struct

BLUEPRINTS = Path(__file__).parents[3] / "blueprints"


def problems(text: str, snap: Snapshot | None = None) -> set[str]:
    with pytest.raises(ValidationFailed) as caught:
        plan(parse(text), snap or Snapshot(roles=["manager"]))
    return {p.field for p in caught.value.problems}


def test_every_problem_of_the_shape_is_named_by_its_place() -> None:
    text = """
pipelines:
  - name: Sales
    stages: [New, {name: Won, semantic: winning}]
    fields: [{code: Bad Code, type: colour}]
    rules: [{name: r, trigger: {event: enter}, actions: []}]
  - name: sales
    stages: [New]
users: [{name: nobody}]
colour: blue
"""
    with pytest.raises(ValidationFailed) as caught:
        parse(text)
    assert {p.field for p in caught.value.problems} == {
        "colour",
        "users[0].email",
        "pipelines[0].stages[1].semantic",
        "pipelines[0].fields[0].code",
        "pipelines[0].fields[0].type",
        "pipelines[0].rules[0].actions",
        "pipelines[1].name",
    }


def test_not_yaml_names_the_line() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse("pipelines: [\n  {name: x\n")
    assert caught.value.problems[0].field.startswith("line ")


def test_references_are_checked_against_the_file_and_what_exists() -> None:
    text = """
users: [{email: a@x.example, roles: [manager, dirctor], department: Nowhere}]
pipelines:
  - name: Sales
    stages: [New, Contract]
    fields: [{code: inn, type: string, required_on_stages: [Contrakt]}]
    rules:
      - {name: r, trigger: {event: enter, stage: Contract},
         actions: [{type: move, pipeline: Elsewhere, stage: New}]}
contract_types: [{code: supply, name: Supply, template: missing}]
"""
    assert problems(text) == {
        "users[0].roles[1]",
        "users[0].department",
        "pipelines[0].fields[0].required_on_stages[0]",
        "pipelines[0].rules[0].actions[0].pipeline",
        "contract_types[0].template",
    }


def _snapshot() -> Snapshot:
    stages = [
        deals_pb2.Stage(id="11", name="New", semantic="in_progress"),
        deals_pb2.Stage(id="12", name="Won", semantic="won"),
    ]
    field = deals_pb2.FieldDefinition(id="5", code="inn", name="INN", type="string")
    rule = deals_pb2.Rule(
        id="7",
        pipeline_id="1",
        active=True,
        definition=to_struct(
            {
                "name": "r",
                "trigger": {"event": "enter", "stage_id": 12},
                "actions": [{"type": "notify"}],
            }
        ),
    )
    pipeline = deals_pb2.Pipeline(id="1", name="Sales", kind="deal", stages=stages, fields=[field])
    return Snapshot(pipelines=[pipeline], rules={"1": [rule]}, roles=["manager"])


def test_the_export_planned_again_changes_nothing_and_a_difference_is_an_update() -> None:
    snap = _snapshot()
    doc = export(snap)
    assert doc["pipelines"][0]["rules"][0]["trigger"] == {"event": "enter", "stage": "Won"}
    assert plan(doc, snap) == []
    doc["pipelines"][0]["stages"].append({"name": "Lost", "semantic": "lost"})
    doc["pipelines"][0]["rules"][0]["trigger"]["stage"] = "New"
    changes = [(c.action, c.kind, c.place) for c in plan(doc, snap)]
    assert changes == [
        ("create", "stage", "pipelines[0].stages[2]"),
        ("update", "rule", "pipelines[0].rules[0]"),
    ]


def test_what_a_blueprint_cannot_change_in_place_is_a_problem() -> None:
    doc = export(_snapshot())
    doc["pipelines"][0]["fields"][0]["type"] = "number"
    doc["pipelines"][0]["stages"][1]["semantic"] = "lost"
    assert problems_of(doc) == {"pipelines[0].fields[0]", "pipelines[0].stages[1].semantic"}


def problems_of(doc: dict[str, object]) -> set[str]:
    with pytest.raises(ValidationFailed) as caught:
        plan(doc, _snapshot())
    return {p.field for p in caught.value.problems}


def test_a_role_of_the_file_may_be_given_and_its_permissions_must_exist() -> None:
    from dealflow.deals.v1 import access_pb2

    admin = access_pb2.Role(
        code="admin", name="Admin", visibility="all", permissions=["deals.edit"]
    )
    snap = Snapshot(roles=["admin"], role_defs=[admin])
    text = """
roles: [{code: engineer, name: Engineer, visibility: own, permissions: [deals.edit, deals.fly]}]
users: [{email: e@x.example, roles: [engineer]}]
"""
    assert problems(text, snap) == {"roles[0].permissions[1]"}
    changes = plan(parse(text.replace(", deals.fly", "")), snap)
    assert [(c.action, c.kind) for c in changes] == [("create", "role"), ("create", "user")]


def test_names_become_ids_and_back() -> None:
    names = Names.of(_snapshot())
    shape = {
        "trigger": {"stage": "Won"},
        "actions": [{"type": "move", "pipeline": "Sales", "stage": "New"}],
    }
    ids = names.to_ids(shape, "Sales", "rule", numbers=True)
    assert ids == {
        "trigger": {"stage_id": 12},
        "actions": [{"type": "move", "pipeline_id": 1, "stage_id": 11}],
    }
    assert names.to_names(ids, "Sales") == shape


def test_covers_leaves_the_services_defaults_out() -> None:
    assert covers({"a": 1, "b": {"c": [1, 2], "d": True}}, {"b": {"c": [1, 2]}})
    assert not covers({"a": [1, 2]}, {"a": [1]})
    assert covers({"x": 1.0}, {"x": 1}) and not covers({"x": True}, {"x": 1})


@pytest.mark.parametrize("path", sorted(BLUEPRINTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_seed_blueprint_has_the_shape(path: Path) -> None:
    doc = parse(path.read_text())
    assert doc["pipelines"] and doc["users"]
