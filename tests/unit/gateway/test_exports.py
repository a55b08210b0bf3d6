"""Reports as files: Accept decides, CSV holds one table, XLSX one sheet per table with
numbers as numbers and text escaped."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from starlette.requests import Request

from services.gateway.exports import CSV, XLSX, Table, csv_of, export, wanted, xlsx_of
from services.gateway.problems import Problem

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
STAGES = [["New <1>", 5, Decimal("1800.00")], ["Won", 1, None]]
TABLES = [
    Table("stages", ["stage", "deals", "sum"], STAGES),
    Table("lost", ["reason", "deals"], [["No budget", 1]]),
]


def _request(accept: str) -> Request:
    return Request({"type": "http", "headers": [(b"accept", accept.encode())]})


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        ("text/csv", CSV),
        (XLSX, XLSX),
        ("application/json, text/csv", None),
        ("text/csv;q=0.9, application/json", CSV),
        ("*/*", None),
        ("", None),
    ],
)
def test_accept_decides(accept: str, kind: str | None) -> None:
    assert wanted(_request(accept)) == kind


def test_csv_holds_the_chosen_table() -> None:
    assert csv_of(TABLES[0]) == "stage,deals,sum\r\nNew <1>,5,1800.00\r\nWon,1,\r\n"
    response = export(CSV, TABLES, name="funnel", table="lost")
    assert response.body == b"reason,deals\r\nNo budget,1\r\n"
    assert 'filename="funnel-lost.csv"' in response.headers["content-disposition"]
    with pytest.raises(Problem):
        export(CSV, TABLES, name="funnel", table="nope")


def test_xlsx_has_a_sheet_per_table() -> None:
    with zipfile.ZipFile(io.BytesIO(xlsx_of(TABLES))) as book:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        names = [s.get("name") for s in workbook.iterfind("m:sheets/m:sheet", NS)]
        assert names == ["stages", "lost"]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    cells = {c.get("r"): c for c in sheet.iterfind(".//m:c", NS)}
    assert cells["A2"].get("t") == "inlineStr"
    assert cells["A2"].findtext("m:is/m:t", namespaces=NS) == "New <1>"
    assert cells["C2"].get("t") is None and cells["C2"].findtext("m:v", namespaces=NS) == "1800.00"
    assert "C3" not in cells  # an empty value leaves the cell out
