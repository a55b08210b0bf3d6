"""Approval domain rules: template parsing, quorum, contract status moves."""

from __future__ import annotations

from typing import Any

import pytest

from process_rules.approval_templates import parse_template, template_definition
from process_rules.quorum import needed, step_outcome
from services.approvals.domain.contracts import (
    BadTransition,
    ContractStatus,
    DocumentKind,
    check_transition,
    status_after_document,
)
from services.common.errors import ValidationFailed

PIT2: dict[str, Any] = {
    "steps": [
        {
            "code": "head",
            "name": "Head of sales",
            "approvers": [{"kind": "head"}],
            "editable_fields": ["credit_limit", "markup_group"],
            "deadline_hours": 24,
            "remind_before_hours": 4,
            "escalate": True,
        },
        {
            "code": "accounting",
            "name": "Deputy chief accountant",
            "approvers": [{"kind": "role", "role": "deputy_chief_accountant"}],
            "quorum": "any",
        },
        {
            "code": "operator",
            "name": "1C operator",
            "approvers": [
                {
                    "kind": "list",
                    "list_code": "directions",
                    "key_field": "shipping_direction",
                    "user_column": "operator",
                }
            ],
            "required_fields": ["contract_number"],
        },
        {
            "code": "lawyer",
            "name": "Lawyer",
            "approvers": [{"kind": "user", "user_id": "7"}],
            "file_field": "contract_file",
            "requires_file": True,
        },
    ],
    "on_reject": {"return_to_previous_stage": True, "allow_lose": True},
    "on_approve": {"move_to_stage_id": "12", "task_title": "Terms approved", "notify": True},
}


def test_a_template_round_trips_through_its_data() -> None:
    template = parse_template("pit2", "PIT-2 onboarding", PIT2)
    assert [s.code for s in template.steps] == ["head", "accounting", "operator", "lawyer"]
    assert template.steps[2].editable_fields == ["contract_number"]  # required → editable
    assert template.steps[1].quorum == "any"
    assert template.on_approve.move_to_stage_id == "12"
    again = parse_template("pit2", "PIT-2 onboarding", template_definition(template))
    assert again == template


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": []}, "definition.steps"),
        ({"colour": "red"}, "definition.colour"),
        ({"steps": [{"code": "X", "name": "n", "approvers": [{"kind": "head"}]}]}, "code"),
        ({"steps": [{"code": "a", "name": "n", "approvers": []}]}, "approvers"),
        ({"steps": [{"code": "a", "name": "n", "approvers": [{"kind": "boss"}]}]}, "kind"),
        ({"steps": [{"code": "a", "name": "n", "approvers": [{"kind": "role"}]}]}, "role"),
        (
            {"steps": [{"code": "a", "name": "n", "approvers": [{"kind": "head"}], "quorum": "2"}]},
            "quorum",
        ),
        (
            {
                "steps": [
                    {"code": "a", "name": "n", "approvers": [{"kind": "head"}], "escalate": True}
                ]
            },
            "escalate",
        ),
        ({"on_reject": {"return_to_previous_stage": "yes"}}, "on_reject"),
    ],
)
def test_a_bad_template_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_template("pit2", "PIT-2", {**PIT2, **change})
    assert any(field in p.field for p in caught.value.problems), caught.value.problems


def test_repeated_step_codes_are_refused() -> None:
    step = {"code": "a", "name": "n", "approvers": [{"kind": "head"}]}
    with pytest.raises(ValidationFailed):
        parse_template("t", "T", {"steps": [step, step]})


@pytest.mark.parametrize(
    ("quorum", "n", "approvals", "rejections", "outcome"),
    [
        ("all", 3, 2, 0, None),
        ("all", 3, 3, 0, "approved"),
        ("all", 3, 2, 1, "rejected"),
        ("any", 3, 1, 0, "approved"),
        ("any", 3, 0, 1, "rejected"),  # the first decision speaks for the group
        ("majority", 3, 2, 0, "approved"),
        ("majority", 3, 1, 1, None),
        ("majority", 3, 0, 2, "rejected"),
        ("majority", 4, 2, 0, None),
        ("majority", 4, 1, 2, "rejected"),
    ],
)
def test_quorum(quorum: str, n: int, approvals: int, rejections: int, outcome: str | None) -> None:
    assert step_outcome(quorum, n, approvals, rejections) == outcome


def test_needed() -> None:
    assert (needed("all", 4), needed("any", 4), needed("majority", 4)) == (4, 1, 3)


def test_contract_moves() -> None:
    S = ContractStatus
    for a, b in [(S.DRAFT, S.IN_APPROVAL), (S.IN_APPROVAL, S.APPROVED), (S.APPROVED, S.SENT)]:
        check_transition(a, b)
    check_transition(S.REJECTED, S.IN_APPROVAL)  # resubmitted after new terms
    for a, b in [(S.DRAFT, S.SIGNED), (S.SIGNED, S.DRAFT), (S.IN_APPROVAL, S.SENT)]:
        with pytest.raises(BadTransition):
            check_transition(a, b)


def test_a_signed_scan_signs_a_sent_contract_only() -> None:
    assert status_after_document(ContractStatus.SENT, DocumentKind.SIGNED_SCAN) == "signed"
    assert status_after_document(ContractStatus.DRAFT, DocumentKind.DRAFT) == "draft"
    with pytest.raises(BadTransition):
        status_after_document(ContractStatus.DRAFT, DocumentKind.SIGNED_SCAN)
    with pytest.raises(BadTransition):
        status_after_document(ContractStatus.SIGNED, DocumentKind.DRAFT)
