"""Struct <-> dict: what json_format's mapping gave, with integral numbers as ints."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from services.common.protoconv import from_struct, to_struct

NESTED: dict[str, Any] = {
    "text": "ок",
    "count": 3,
    "big": 2**53,
    "ratio": 0.25,
    "negative": -7,
    "yes": True,
    "no": False,
    "nothing": None,
    "empty": {},
    "none": [],
    "items": [1, 2.5, "x", None, [True, {"deep": 4}], {"k": [0]}],
    "card": {"name": "Alfa", "sizes": {"w": 10, "h": 12.5}},
}


def test_a_struct_reads_back_as_the_dict_it_was_made_of() -> None:
    got = from_struct(to_struct(NESTED))
    assert got == NESTED
    assert type(got["count"]) is int and type(got["items"][4][1]["deep"]) is int
    assert type(got["ratio"]) is float and type(got["big"]) is float  # beyond 2**53: a float


def test_it_agrees_with_the_json_mapping() -> None:
    struct = to_struct(NESTED)
    mapped = json_format.MessageToDict(struct)
    assert from_struct(struct) == mapped  # equal numbers compare equal, int or float
    assert from_struct(struct_pb2_empty()) == {}


def struct_pb2_empty() -> Any:
    return to_struct(None)
