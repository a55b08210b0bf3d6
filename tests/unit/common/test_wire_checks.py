"""NUL characters are found wherever a request can carry text."""

from __future__ import annotations

from dealflow.deals.v1 import deals_pb2

from services.common.protoconv import to_struct
from services.common.wire_checks import nul_problems


def test_a_clean_request_has_no_problems() -> None:
    request = deals_pb2.CreateDealRequest(
        title="Drills", fields=to_struct({"a": ["b", {"c": "d"}]})
    )

    assert nul_problems(request) == []


def test_nul_is_found_in_fields_repeated_fields_and_structs() -> None:
    request = deals_pb2.CreateDealRequest(
        title="Dri\x00lls", fields=to_struct({"inn": "77\x00", "nested": {"deep": ["ok", "x\x00"]}})
    )
    pipeline = deals_pb2.CreatePipelineRequest(
        name="P", stages=[deals_pb2.StageInput(name="ok"), deals_pb2.StageInput(name="b\x00d")]
    )

    assert sorted(p.field for p in nul_problems(request)) == [
        "fields.inn",
        "fields.nested.deep.1",
        "title",
    ]
    assert [p.field for p in nul_problems(pipeline)] == ["stages.1.name"]
