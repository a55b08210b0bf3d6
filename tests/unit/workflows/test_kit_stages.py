"""The kit's plain stage rules: a stage by name (case and spaces aside), and a move that
only goes on (never back, never out of a closed stage)."""

from __future__ import annotations

from tests.unit.workflows.deal_process_fakes import PIT3_STAGES, layout_of
from workflows.kit.stages import is_forward, stage_named

LAYOUT = layout_of(["New", *PIT3_STAGES], [])  # New, Realization, ..., Won, Lost


def test_a_stage_is_found_by_its_name_case_and_spaces_aside() -> None:
    assert stage_named(LAYOUT, "assembly/documents") == "s-Assembly/documents"
    assert stage_named(LAYOUT, "  Delivery ") == "s-Delivery"
    assert stage_named(LAYOUT, "Contract") == ""


def test_a_move_only_goes_on() -> None:
    assert is_forward(LAYOUT, "s-Realization", "s-Assembly/documents")
    assert is_forward(LAYOUT, "s-Delivery", "s-Won")
    assert is_forward(LAYOUT, "s-New", "s-Lost")  # closing goes on from anywhere
    assert not is_forward(LAYOUT, "s-Delivery", "s-Assembly/documents")  # dragged ahead by hand
    assert not is_forward(LAYOUT, "s-Delivery", "s-Delivery")
    assert not is_forward(LAYOUT, "s-Won", "s-Delivery")  # closed: stays
    assert not is_forward(LAYOUT, "s-Lost", "s-Won")
    assert is_forward(LAYOUT, "s-gone", "s-Delivery")  # a stage the layout does not know
