"""Struct <-> dict: what json_format's mapping gave, with integral numbers as ints; datetime <->
Timestamp: what protobuf's own conversions give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from google.protobuf import json_format, timestamp_pb2

from services.common.protoconv import from_struct, from_timestamp, to_struct, to_timestamp

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


MOMENTS = [
    datetime(2026, 12, 2, 16, 20, 5, 123456, tzinfo=UTC),
    datetime(2026, 12, 2, 19, 20, 5, 999999, tzinfo=timezone(timedelta(hours=3))),
    datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),  # before the epoch
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5))),
    datetime(2026, 3, 29, 2, 30),  # naive: local time
]


def test_a_timestamp_is_the_one_protobuf_makes() -> None:
    for moment in MOMENTS:
        theirs = timestamp_pb2.Timestamp()
        theirs.FromDatetime(moment.astimezone(UTC))
        assert to_timestamp(moment) == theirs, moment
    assert to_timestamp(None) is None


def test_a_timestamp_reads_back_as_protobuf_reads_it() -> None:
    for moment in MOMENTS:
        ts = to_timestamp(moment)
        assert ts is not None
        back = from_timestamp(ts)
        assert back == ts.ToDatetime(tzinfo=UTC) == moment.astimezone(UTC)
        assert back is not None and back.tzinfo is UTC
    nanos = timestamp_pb2.Timestamp(seconds=-1, nanos=999_999_999)  # rounded toward zero
    assert from_timestamp(nanos) == nanos.ToDatetime(tzinfo=UTC)
    assert from_timestamp(timestamp_pb2.Timestamp()) is None  # unset
    assert from_timestamp(to_timestamp(MOMENTS[0]), present=False) is None  # type: ignore[arg-type]
