"""Deal rules: required fields on moves, versions, stage semantics, between-pipeline moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.common.errors import Conflict, ValidationFailed
from services.deals.domain.deals import Deal, Transition, new_deal, transition
from services.deals.domain.events import DealCreated, DealStageChanged, DealUpdated
from services.deals.domain.pipelines import (
    FieldDefinition,
    FieldType,
    Pipeline,
    Semantic,
    Stage,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NEW, CONTRACT, WON, LOST = (
    Stage(1, "New", Semantic.IN_PROGRESS, 0),
    Stage(2, "Contract", Semantic.IN_PROGRESS, 1),
    Stage(3, "Won", Semantic.WON, 2),
    Stage(4, "Lost", Semantic.LOST, 3),
)
SALES = Pipeline(
    id=10,
    name="Sales",
    stages=(NEW, CONTRACT, WON, LOST),
    fields=(
        FieldDefinition(1, 10, "inn", "INN", FieldType.STRING, required_on_stages=(2, 3)),
        FieldDefinition(2, 10, "budget", "Budget", FieldType.MONEY, required_on_stages=(3,)),
        FieldDefinition(3, 10, "note", "Note", FieldType.TEXT),
    ),
)
SERVICE_NEW = Stage(21, "Intake", Semantic.IN_PROGRESS, 0)
SERVICE_DONE = Stage(22, "Done", Semantic.WON, 1)
SERVICE = Pipeline(
    id=20,
    name="Service",
    stages=(SERVICE_NEW, SERVICE_DONE),
    fields=(
        FieldDefinition(5, 20, "inn", "INN", FieldType.STRING),
        FieldDefinition(6, 20, "serial", "Serial", FieldType.STRING, required_on_stages=(22,)),
    ),
)


def make_deal(pipeline: Pipeline = SALES, **kw: Any) -> Deal:
    args: dict[str, Any] = {
        "title": "Pens for Acme",
        "responsible_id": 7,
        "amount": "1500.50",
        "currency": "",
        "company_name": "Acme",
        "contact_name": "",
        "fields": {},
        "stage_id": None,
        "actor_id": 7,
        "now": T0,
    }
    deal = new_deal(pipeline, **{**args, **kw})
    deal.id = 1
    return deal


def move(deal: Deal, stage: Stage, *, version: int = 0, target: Pipeline = SALES) -> None:
    current = SALES if deal.pipeline_id == SALES.id else SERVICE
    deal.move(
        current,
        target,
        stage_id=stage.id,
        expected_version=version,
        actor_id=8,
        comment="go",
        now=T0 + timedelta(minutes=5),
    )


def test_new_deal_starts_in_the_first_stage_with_defaults() -> None:
    deal = make_deal()
    assert (deal.stage_id, deal.version, deal.currency) == (NEW.id, 1, "RUB")
    assert deal.amount == Decimal("1500.50")
    assert deal.events == [DealCreated(7)]


def test_new_deal_refuses_bad_attributes_together() -> None:
    with pytest.raises(ValidationFailed) as err:
        make_deal(title=" ", amount="1,5", currency="rubles", fields={"nope": 1})
    fields = sorted(p.field for p in err.value.problems)
    assert fields == ["amount", "currency", "fields.nope", "title"]


def test_new_deal_in_a_later_stage_needs_that_stage_s_fields() -> None:
    with pytest.raises(ValidationFailed) as err:
        make_deal(stage_id=CONTRACT.id)
    assert [p.field for p in err.value.problems] == ["fields.inn"]
    assert make_deal(stage_id=CONTRACT.id, fields={"inn": "7707"}).stage_id == CONTRACT.id


def test_move_without_required_fields_names_each_missing_one() -> None:
    deal = make_deal()
    with pytest.raises(ValidationFailed) as err:
        move(deal, WON)
    assert [(p.field, p.message) for p in err.value.problems] == [
        ("fields.inn", "required on stage Won"),
        ("fields.budget", "required on stage Won"),
    ]
    assert (deal.stage_id, deal.version) == (NEW.id, 1), "a refused move changes nothing"


def test_move_with_fields_filled_changes_stage_and_records_the_event() -> None:
    deal = make_deal(fields={"inn": "7707083893"})
    move(deal, CONTRACT, version=1)
    assert (deal.stage_id, deal.version, deal.stage_semantic) == (CONTRACT.id, 2, "in_progress")
    assert deal.stage_entered_at == T0 + timedelta(minutes=5)
    event = deal.events[-1]
    assert isinstance(event, DealStageChanged)
    assert (event.from_stage, event.to_stage, event.comment) == ("New", "Contract", "go")
    assert event.seconds_in_previous_stage == 300.0
    assert event.actor_id == 8 and event.transition == Transition.ADVANCED


def test_stale_version_is_a_conflict() -> None:
    deal = make_deal(fields={"inn": "1"})
    with pytest.raises(Conflict):
        move(deal, CONTRACT, version=5)
    move(deal, CONTRACT, version=1)
    with pytest.raises(Conflict):
        deal.update(
            SALES,
            changes={"title": "x"},
            field_changes={},
            expected_version=1,
            actor_id=7,
            now=T0,
        )


def test_moving_to_the_same_stage_is_refused() -> None:
    deal = make_deal()
    with pytest.raises(ValidationFailed) as err:
        move(deal, NEW)
    assert err.value.problems[0].field == "stage_id"


def test_a_stage_of_another_pipeline_is_refused() -> None:
    deal = make_deal()
    with pytest.raises(ValidationFailed) as err:
        move(deal, SERVICE_NEW)
    assert err.value.problems[0].field == "stage_id"


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        (NEW, CONTRACT, Transition.ADVANCED),
        (CONTRACT, NEW, Transition.ADVANCED),
        (CONTRACT, WON, Transition.WON),
        (NEW, LOST, Transition.LOST),
        (LOST, NEW, Transition.REOPENED),
        (WON, LOST, Transition.RECLOSED),
    ],
)
def test_stage_semantics_decide_the_transition(
    source: Stage, target: Stage, expected: Transition
) -> None:
    assert transition(source, target) is expected


def test_move_between_pipelines_applies_the_new_pipeline_s_rules() -> None:
    deal = make_deal(fields={"inn": "7707", "note": "call back"})
    with pytest.raises(ValidationFailed) as err:
        move(deal, SERVICE_DONE, target=SERVICE)
    assert [p.field for p in err.value.problems] == ["fields.serial"]
    move(deal, SERVICE_NEW, target=SERVICE)
    assert (deal.pipeline_id, deal.stage_id) == (SERVICE.id, SERVICE_NEW.id)
    assert deal.fields == {"inn": "7707"}, "values without a field in the new pipeline go"
    event = deal.events[-1]
    assert isinstance(event, DealStageChanged)
    assert (event.from_pipeline_id, event.to_pipeline_id) == (SALES.id, SERVICE.id)
    assert event.dropped_fields == {"note": "call back"}


def test_update_records_only_changed_attributes() -> None:
    deal = make_deal(fields={"inn": "1"})
    changed = deal.update(
        SALES,
        changes={"title": "Pens for Acme", "amount": "2000"},
        field_changes={"note": "hi"},
        expected_version=1,
        actor_id=7,
        now=T0,
    )
    assert changed and deal.version == 2
    event = deal.events[-1]
    assert event == DealUpdated(
        7,
        {"amount": "1500.50", "fields": {"note": None}},
        {"amount": "2000", "fields": {"note": "hi"}},
    )


def test_update_without_a_change_keeps_the_version() -> None:
    deal = make_deal()
    kw: dict[str, Any] = {"expected_version": 0, "actor_id": 7, "now": T0}
    assert not deal.update(SALES, changes={"title": "Pens for Acme"}, field_changes={}, **kw)
    assert deal.version == 1 and len(deal.events) == 1


def test_update_cannot_clear_a_field_required_where_the_deal_is() -> None:
    deal = make_deal(fields={"inn": "1"})
    move(deal, CONTRACT)
    with pytest.raises(ValidationFailed) as err:
        deal.update(
            SALES,
            changes={},
            field_changes={"inn": None},
            expected_version=0,
            actor_id=7,
            now=T0,
        )
    assert err.value.problems[0].field == "fields.inn"


def test_update_refuses_attributes_that_cannot_be_set() -> None:
    deal = make_deal()
    with pytest.raises(ValidationFailed) as err:
        deal.update(
            SALES, changes={"version": 9}, field_changes={}, expected_version=0, actor_id=7, now=T0
        )
    assert err.value.problems[0].field == "version"
