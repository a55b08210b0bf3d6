"""The broken-access matrix (tests/e2e/test_access_matrix.py) knows every path parameter of
the gateway: a route added with a new one fails here first, with what to do."""

from __future__ import annotations

import pytest

from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings
from tests.e2e.access_matrix import Operation, UnknownParameter, operations
from tests.unit.gateway.conftest import SECRET


def test_every_path_parameter_of_the_api_is_in_the_table() -> None:
    app = create_app(GatewaySettings(jwt_secret=SECRET), clients=object())  # type: ignore[arg-type]
    ops = operations(app.openapi())

    assert len(ops) > 40
    for op in ops:
        assert op.kinds is not None  # raises UnknownParameter for a parameter not in KINDS


def test_an_unknown_parameter_says_add_it_to_the_table() -> None:
    with pytest.raises(UnknownParameter, match="add 'widgets/{widget_id}' to KINDS"):
        _ = Operation("GET", "/api/v1/widgets/{widget_id}", {}).kinds


def test_a_parameter_inside_a_segment_is_keyed_by_the_segment() -> None:
    op = Operation("POST", "/api/v1/{entity}-fields", {})

    assert op.kinds == [("entity", "record_fields")]
    assert op.url({"record_fields": "contact"}) == "/contact-fields"
    assert op.record_path == "/api/v1/{entity}-fields"
    run = Operation("GET", "/api/v1/deals/{deal_id}/processes/{workflow_id}", {})
    ids = {"deal": "7", "process_run": "deal/7/sample-return/1"}
    assert run.url(ids) == "/deals/7/processes/deal/7/sample-return/1"
    assert Operation("POST", "/api/v1/leads/{lead_id}/move", {}).record_path.endswith("{lead_id}")
