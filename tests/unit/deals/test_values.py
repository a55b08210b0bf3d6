"""Custom field values: each type's validation and normalized form."""

from __future__ import annotations

from typing import Any

import pytest

from process_rules.field_values import BadValue, merge_values, normalize
from services.common.errors import ValidationFailed
from services.deals.domain.pipelines import FieldDefinition, FieldType


def field(kind: FieldType, **kw: Any) -> FieldDefinition:
    return FieldDefinition(id=1, pipeline_id=1, code="f", name="F", type=kind, **kw)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (FieldType.STRING, "  ACME ", "ACME"),
        (FieldType.TEXT, "line\n  two ", "line\n  two "),
        (FieldType.NUMBER, 7, 7),
        (FieldType.NUMBER, "12.50", "12.50"),
        (FieldType.NUMBER, 2.5, "2.5"),
        (FieldType.NUMBER, "3.0", 3),
        (FieldType.MONEY, "1500.50", "1500.50"),
        (FieldType.MONEY, 1500, "1500"),
        (FieldType.DATE, "2026-02-28", "2026-02-28"),
        (FieldType.DATETIME, "2026-02-28T10:00:00+03:00", "2026-02-28T07:00:00+00:00"),
        (FieldType.DATETIME, "2026-02-28T10:00:00Z", "2026-02-28T10:00:00+00:00"),
        (FieldType.BOOL, False, False),
        (FieldType.USER, "42", "42"),
        (FieldType.FILE, 9, "9"),
        (FieldType.LIST_ITEM, "3", "3"),
    ],
)
def test_valid_values_are_normalized(kind: FieldType, raw: Any, expected: Any) -> None:
    assert normalize(field(kind), raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (FieldType.STRING, 5),
        (FieldType.STRING, "x" * 1001),
        (FieldType.NUMBER, "12,5"),
        (FieldType.NUMBER, True),
        (FieldType.NUMBER, "NaN"),
        (FieldType.MONEY, 1500.5),  # a float cannot carry money exactly
        (FieldType.MONEY, "1e3"),
        (FieldType.MONEY, "abc"),
        (FieldType.DATE, "28.02.2026"),
        (FieldType.DATE, "2026-02-30"),
        (FieldType.DATE, "2026-02-28T10:00:00Z"),
        (FieldType.DATETIME, "2026-02-28T10:00:00"),  # no time zone
        (FieldType.DATETIME, "2026-02-28"),
        (FieldType.BOOL, "true"),
        (FieldType.USER, "bob"),
        (FieldType.USER, 0),
        (FieldType.FILE, True),
        (FieldType.LIST_ITEM, -3),
    ],
)
def test_bad_values_are_refused(kind: FieldType, raw: Any) -> None:
    with pytest.raises(BadValue):
        normalize(field(kind), raw)


def test_enum_accepts_only_its_options() -> None:
    status = field(FieldType.ENUM, options=("hot", "cold"))
    assert normalize(status, "hot") == "hot"
    with pytest.raises(BadValue, match="hot, cold"):
        normalize(status, "warm")


def test_merge_names_every_bad_field_and_refuses_unknown_codes() -> None:
    defs = {"inn": field(FieldType.STRING), "budget": field(FieldType.MONEY)}
    with pytest.raises(ValidationFailed) as err:
        merge_values(defs, {}, {"inn": 7707083893, "budget": 1.5, "colour": "red"})
    assert sorted(p.field for p in err.value.problems) == [
        "fields.budget",
        "fields.colour",
        "fields.inn",
    ]


def test_merge_clears_with_none_or_empty_and_keeps_the_rest() -> None:
    defs = {"inn": field(FieldType.STRING), "budget": field(FieldType.MONEY)}
    merged = merge_values(defs, {"inn": "1", "budget": "5"}, {"inn": None, "budget": "7.00"})
    assert merged == {"budget": "7.00"}
    assert merge_values(defs, {"inn": "1"}, {"inn": "  "}) == {}
