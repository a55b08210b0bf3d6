"""Contacts and leads as plain rules: normalised e-mails and phones, duplicates, merge,
exclusion keys, lead moves into spam, and the field mapping of a conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.errors import Conflict, ValidationFailed
from services.deals.contacts_service import duplicate
from services.deals.domain.contacts import (
    Contact,
    contact_draft,
    merged,
    normalize_email,
    normalize_phone,
)
from services.deals.domain.exclusions import exclusion_value, keys_of
from services.deals.domain.leads import Lead, LeadStageChanged, conversion_plan, new_lead
from services.deals.domain.pipelines import (
    FieldDefinition,
    FieldType,
    Kind,
    Pipeline,
    Semantic,
    Stage,
    new_pipeline,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("8 (912) 345-67-89", "+79123456789"),
        ("+7 912 345 67 89", "+79123456789"),
        ("89123456789", "+79123456789"),
        ("9123456789", "+79123456789"),
        ("+49 30 1234567", "+49301234567"),
        ("+8 123 456 7890", "+81234567890"),  # a "+8..." is not the Russian trunk prefix
        ("12-34", ""),
        ("call me", ""),
    ],
)
def test_phones_are_normalised(raw: str, clean: str) -> None:
    assert normalize_phone(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [(" Anna@Example.COM ", "anna@example.com"), ("a@b", ""), ("a b@c.d", ""), ("", "")],
)
def test_emails_are_normalised(raw: str, clean: str) -> None:
    assert normalize_email(raw) == clean


def test_a_contact_draft_names_every_bad_address_and_drops_repeats() -> None:
    draft = contact_draft(
        name=" Anna ",
        emails=["ANNA@x.ru", "anna@x.ru "],
        phones=["8 912 345 67 89", "+79123456789"],
        company_id=None,
        position="",
        fields={},
    )
    assert (draft.name, draft.emails, draft.phones) == ("Anna", ("anna@x.ru",), ("+79123456789",))
    with pytest.raises(ValidationFailed) as refused:
        contact_draft(
            name="",
            emails=["ok@x.ru", "nope"],
            phones=["1"],
            company_id=None,
            position="",
            fields={"Bad Code": 1},
        )
    assert [p.field for p in refused.value.problems] == [
        "name",
        "emails[1]",
        "phones[0]",
        "fields.Bad Code",
    ]


def contact(contact_id: int, **kw: object) -> Contact:
    values: dict[str, object] = {
        "name": f"c{contact_id}",
        "emails": (),
        "phones": (),
        "company_id": None,
        "position": "",
        "responsible_id": 1,
        "fields": {},
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(kw)
    return Contact(id=contact_id, **values)  # type: ignore[arg-type]


def test_a_duplicate_names_the_existing_contact_and_the_fields_that_match() -> None:
    existing = contact(7, emails=("a@x.ru",), phones=("+79123456789",))
    error = duplicate(existing, ("b@x.ru", "a@x.ru"), ("+79123456789",))
    assert [(p.field, p.message) for p in error.problems] == [
        ("existing_id", "7"),
        ("emails[1]", "on contact 7"),
        ("phones[0]", "on contact 7"),
    ]


def test_a_merge_keeps_every_address_and_fills_only_what_the_kept_contact_lacks() -> None:
    keep = contact(1, emails=("a@x.ru",), phones=(), position="CEO", fields={"city": "Kazan"})
    gone = contact(
        2,
        emails=("b@x.ru", "a@x.ru"),
        phones=("+79000000000",),
        company_id=5,
        position="buyer",
        fields={"city": "Perm", "vip": True},
    )
    assert merged(keep, gone) == {
        "emails": ("a@x.ru", "b@x.ru"),
        "phones": ("+79000000000",),
        "company_id": 5,
        "position": "CEO",
        "fields": {"city": "Kazan", "vip": True},
    }


def test_exclusions_are_normalised_and_a_sender_matches_by_address_and_domain() -> None:
    assert exclusion_value("domain", "@Spam.Example") == "spam.example"
    assert exclusion_value("phone", "8 900 000-00-01") == "+79000000001"
    for kind, value in (("email", "x"), ("domain", "localhost"), ("fax", "1")):
        with pytest.raises(ValidationFailed):
            exclusion_value(kind, value)
    assert keys_of(emails=("bot@spam.example",), phones=("+7900",)) == [
        ("email", "bot@spam.example"),
        ("phone", "+7900"),
        ("domain", "spam.example"),
    ]


def funnel() -> Pipeline:
    stages = (
        Stage(1, "Collect", Semantic.IN_PROGRESS, 0),
        Stage(2, "Discuss", Semantic.IN_PROGRESS, 1),
        Stage(3, "Interesting", Semantic.WON, 2),
        Stage(4, "Spam", Semantic.SPAM, 3),
    )
    fields = (
        FieldDefinition(
            1, 10, "source_name", "Source", FieldType.STRING, required_on_stages=(2, 3)
        ),
        FieldDefinition(2, 10, "budget", "Budget", FieldType.NUMBER),
        FieldDefinition(3, 10, "has_spec", "Has spec?", FieldType.BOOL),
    )
    return Pipeline(10, "Leads", stages, fields, kind=Kind.LEAD)


def a_lead(pipeline: Pipeline, **given: Any) -> Lead:
    """A new lead on `pipeline` made by user 1 at NOW: "Pens" from the site, nothing else
    but what `given` names."""
    facts: dict[str, Any] = {
        "title": "Pens",
        "source": "site",
        "contact_id": None,
        "company_id": None,
        "responsible_id": 1,
        "fields": {},
        "stage_id": None,
        "actor_id": 1,
        "now": NOW,
    }
    return new_lead(pipeline, **{**facts, **given})


def test_only_a_lead_funnel_has_spam_stages() -> None:
    with pytest.raises(ValidationFailed) as refused:
        new_pipeline("Sales", [("New", "in_progress"), ("Junk", "spam")])
    assert [p.field for p in refused.value.problems] == ["stages[1].semantic"]
    _, drafts = new_pipeline("Leads", [("New", "in_progress"), ("Junk", "spam")], Kind.LEAD)
    assert drafts[1].semantic is Semantic.SPAM


def test_leaving_the_first_stage_needs_the_fields_later_stages_require() -> None:
    lead = a_lead(funnel())
    with pytest.raises(ValidationFailed) as refused:
        lead.move(funnel(), stage_id=2, expected_version=0, actor_id=1, comment="", now=NOW)
    assert [p.field for p in refused.value.problems] == ["fields.source_name"]
    lead.fields["source_name"] = "exhibition"
    stage = lead.move(
        funnel(),
        stage_id=4,
        expected_version=1,
        actor_id=1,
        comment="",
        now=NOW + timedelta(hours=1),
    )
    assert stage.semantic is Semantic.SPAM and lead.stage_semantic is Semantic.SPAM
    moved = lead.events[-1]
    assert isinstance(moved, LeadStageChanged) and moved.transition == "spam"
    assert moved.seconds_in_previous_stage == 3600
    with pytest.raises(ValidationFailed):  # a spam lead is not converted
        conversion_plan(
            lead, funnel(), Pipeline(20, "Sales", (Stage(9, "New", Semantic.IN_PROGRESS, 0),))
        )


def test_a_conversion_carries_the_fields_the_pipeline_has_by_code_and_type() -> None:
    lead = a_lead(
        funnel(), source="", fields={"budget": 1200, "has_spec": True, "source_name": "fair"}
    )
    sales = Pipeline(
        20,
        "Sales",
        (Stage(9, "New", Semantic.IN_PROGRESS, 0),),
        (
            FieldDefinition(5, 20, "budget", "Budget", FieldType.NUMBER),
            FieldDefinition(6, 20, "has_spec", "Spec", FieldType.STRING),  # another type
        ),
    )
    plan = conversion_plan(lead, funnel(), sales)
    assert plan.fields == {"budget": 1200}
    assert plan.dropped == {"has_spec": True, "source_name": "fair"}
    with pytest.raises(ValidationFailed):  # into a lead funnel: no
        conversion_plan(lead, funnel(), funnel())
    lead.deal_id = 77
    with pytest.raises(Conflict):
        conversion_plan(lead, funnel(), sales)
