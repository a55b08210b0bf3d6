"""Reports as CSV or XLSX by the Accept header: a report gives its tables, this writes them.
The XLSX is written with the standard library (a zip of SpreadsheetML parts): one sheet per
table, numbers as numbers."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from fastapi import Request, Response

from services.common.errors import FieldProblem
from services.gateway.problems import Problem

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, CSV: {}, XLSX: {}}}
}


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    rows: list[list[Any]]


def wanted(request: Request) -> str | None:
    """CSV or XLSX when the Accept header asks for it (before JSON), else None."""
    for part in request.headers.get("accept", "").split(","):
        kind = part.split(";")[0].strip().lower()
        if kind in (CSV, XLSX):
            return kind
        if kind in ("application/json", "*/*", "application/*"):
            return None
    return None


def export(kind: str, tables: list[Table], *, name: str, table: str = "") -> Response:
    """The tables as a file: CSV holds one (`table`, else the first), XLSX all of them."""
    if kind == CSV:
        chosen = next((t for t in tables if t.name == table), None) if table else tables[0]
        if chosen is None:
            names = ", ".join(t.name for t in tables)
            raise Problem(422, "no such table", errors=[FieldProblem("table", f"one of {names}")])
        body, suffix = csv_of(chosen).encode(), f"{name}-{chosen.name}.csv"
    else:
        body, suffix = xlsx_of(tables), f"{name}.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{suffix}"'}
    media = f"{CSV}; charset=utf-8" if kind == CSV else XLSX
    return Response(body, media_type=media, headers=headers)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def csv_of(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([[_text(v) for v in row] for row in table.rows])
    return out.getvalue()


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _sheet(table: Table) -> str:
    lines = []
    for r, row in enumerate([table.columns, *table.rows], start=1):
        cells = "".join(_cell(f"{_column(c)}{r}", v) for c, v in enumerate(row))
        lines.append(f'<row r="{r}">{cells}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(lines)}</sheetData></worksheet>"
    )


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def xlsx_of(tables: list[Table]) -> bytes:
    sheets = range(1, len(tables) + 1)
    types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for i in sheets
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f"{types}</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            "<sheets>"
            + "".join(
                f'<sheet name="{escape(t.name[:31])}" sheetId="{i}" r:id="rId{i}"/>'
                for i, t in zip(sheets, tables, strict=True)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in sheets
            )
            + "</Relationships>"
        ),
    }
    for i, t in zip(sheets, tables, strict=True):
        parts[f"xl/worksheets/sheet{i}.xml"] = _sheet(t)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in parts.items():
            z.writestr(path, text)
    return out.getvalue()
