"""A CSV file as numbered rows of cells by column (the gateway's upload and the command
line read files the same way): UTF-8 (a BOM is fine), the delimiter sniffed (`,` `;` tab)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from services.common.errors import FieldProblem, ValidationFailed


@dataclass(frozen=True)
class CsvRow:
    number: int  # the line of the file; the header is line 1
    values: dict[str, str]


def read_csv(data: bytes, *, field: str = "file") -> tuple[list[str], list[CsvRow]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(FieldProblem(field, "must be UTF-8 text")) from None
    if "\x00" in text:
        raise ValidationFailed(FieldProblem(field, "must be text, not binary"))
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValidationFailed(FieldProblem(field, "is empty")) from None
    except csv.Error as exc:
        raise ValidationFailed(FieldProblem(field, f"is not CSV: {exc}")) from None
    if not any(header) or len(set(header)) != len(header):
        raise ValidationFailed(FieldProblem(field, "the header needs unique column names"))
    rows: list[CsvRow] = []
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append(CsvRow(reader.line_num, dict(zip(header, cells, strict=False))))
    except csv.Error as exc:
        raise ValidationFailed(FieldProblem(field, f"line {reader.line_num}: {exc}")) from None
    return header, rows


def batches(rows: list[CsvRow], size: int) -> Iterator[list[CsvRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
