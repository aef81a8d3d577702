"""plan.xlsx: the whole plan as one Excel workbook for the commissioner.

An Overview sheet (the plain-English summary, status and gap, cost lines, headline figures), a
Definitions sheet (every column: meaning and unit), then one sheet per plan table holding the
same rows and values as its CSV file. Numbers are stored as numbers with formats by unit
(GBP, hours, percentages), headers are frozen, columns sized to fit, and no cell is a formula:
text that Excel would read as one is stored as plain text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimiser.plan.columns import EXCEL_FORMATS, SUMMARY_FIGURES, column, definitions, table_doc

WORKBOOK_NAME = "plan.xlsx"
OVERVIEW = "Overview"  # not "Summary": sheet names ignore case and summary is a table
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)
MAX_WIDTH = 60
MIN_WIDTH = 8


def _cell_value(value: object) -> object:
    """A Python value openpyxl stores as it is: no NaN, no numpy scalars."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _put(ws: Worksheet, row: int, col: int, value: object, fmt: str | None = None):
    cell = ws.cell(row=row, column=col, value=_cell_value(value))
    if cell.data_type == "f":  # text starting with '=' is kept as text, never a formula
        cell.data_type = "s"
    if fmt and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
        cell.number_format = fmt
    return cell


def _header(ws: Worksheet, row: int, names: list[str]) -> None:
    for j, name in enumerate(names, start=1):
        cell = _put(ws, row, j, name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="top")


def _fit(ws: Worksheet, widths: dict[int, int]) -> None:
    for j, width in widths.items():
        ws.column_dimensions[get_column_letter(j)].width = max(MIN_WIDTH,
                                                               min(MAX_WIDTH, width + 2))


def _format(table: str, name: str, values: pd.Series) -> str | None:
    kind = column(table, name).kind
    if kind == "people" and pd.api.types.is_integer_dtype(values):
        return EXCEL_FORMATS["count"]
    return EXCEL_FORMATS.get(kind) if kind != "text" else None


def table_sheet(wb: Workbook, name: str, frame: pd.DataFrame) -> Worksheet:
    """One plan table on its own sheet: header row frozen and filtered, formats by unit."""
    ws = wb.create_sheet(title=name[:31])
    names = [str(c) for c in frame.columns]
    _header(ws, 1, names)
    widths = {j: len(n) for j, n in enumerate(names, start=1)}
    formats = [_format(name, n, frame[n]) for n in names]
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        for j, (value, fmt) in enumerate(zip(row, formats, strict=True), start=1):
            cell = _put(ws, i, j, value, fmt)
            if cell.value is not None:
                shown = f"{cell.value:,.2f}" if isinstance(cell.value, float) else str(cell.value)
                widths[j] = max(widths[j], len(shown))
    ws.freeze_panes = "A2"
    if len(frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}{len(frame) + 1}"
    _fit(ws, widths)
    return ws


def summary_sheet(wb: Workbook, tables: dict[str, pd.DataFrame], text: str,
                  record: dict) -> Worksheet:
    """The first sheet: what the plan says, in words and in figures."""
    ws = wb.active
    ws.title = OVERVIEW
    model = record.get("model", "")
    _put(ws, 1, 1, f"Commissioning plan: model '{model}'").font = TITLE_FONT
    _put(ws, 2, 1, f"Dataset: {record.get('dataset', '')}; status: "
                   f"{record.get('status_text', record.get('status', ''))}")
    row = 4
    _put(ws, row, 1, "In plain English").font = SECTION_FONT
    for line in (text or "").splitlines():
        row += 1
        _put(ws, row, 1, line)
    row += 2
    _put(ws, row, 1, "Cost lines").font = SECTION_FONT
    row += 1
    _header(ws, row, ["Cost line", "GBP a week", "GBP a year"])
    lines = tables.get("cost_lines", pd.DataFrame())
    for line in lines.itertuples(index=False):
        row += 1
        _put(ws, row, 1, line.description).font = Font(bold=line.line == "total")
        _put(ws, row, 2, line.weekly_gbp, EXCEL_FORMATS["gbp"])
        _put(ws, row, 3, line.annual_gbp, "£#,##0")
    row += 2
    _put(ws, row, 1, "Summary figures").font = SECTION_FONT
    row += 1
    _header(ws, row, ["Figure", "Value", "Unit", "Meaning", "Name in summary.csv"])
    summary = tables.get("summary", pd.DataFrame(columns=["metric", "value", "unit"]))
    for metric, value, unit in summary[["metric", "value", "unit"]].itertuples(index=False):
        row += 1
        spec = SUMMARY_FIGURES.get(metric)
        fmt = EXCEL_FORMATS.get(spec.kind) if spec and spec.kind != "text" else None
        if spec and spec.kind == "people" and isinstance(value, int):
            fmt = EXCEL_FORMATS["count"]
        _put(ws, row, 1, metric.replace("_", " ").capitalize())
        _put(ws, row, 2, value, fmt)
        _put(ws, row, 3, unit)
        _put(ws, row, 4, spec.meaning if spec else "")
        _put(ws, row, 5, metric)
    row += 2
    _put(ws, row, 1, "Sheets").font = SECTION_FONT
    for name in tables:
        row += 1
        _put(ws, row, 1, name)
        _put(ws, row, 2, table_doc(name))
    ws.column_dimensions["A"].width = 46
    for letter, width in (("B", 16), ("C", 16), ("D", 60), ("E", 34)):
        ws.column_dimensions[letter].width = width
    return ws


def definitions_sheet(wb: Workbook, tables: dict[str, pd.DataFrame]) -> Worksheet:
    frame = definitions(tables)
    docs = pd.DataFrame({"table": list(tables), "column": "", "unit": "",
                         "meaning": [table_doc(t) for t in tables]})
    frame = pd.concat([docs, frame], ignore_index=True)
    frame["order"] = frame["column"].ne("")
    frame = frame.sort_values(["table", "order"], kind="stable",
                              key=lambda s: s.map(list(tables).index) if s.name == "table"
                              else s)[["table", "column", "meaning", "unit"]]
    ws = table_sheet(wb, "Definitions", frame.reset_index(drop=True))
    ws.column_dimensions["C"].width = 90
    for row in ws.iter_rows(min_row=2, max_col=3, min_col=3):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    return ws


def write_plan_workbook(path: Path, tables: dict[str, pd.DataFrame], text: str,
                        record: dict) -> None:
    """Write plan.xlsx from the tables exactly as their CSV files hold them."""
    wb = Workbook()
    summary_sheet(wb, tables, text, record)
    definitions_sheet(wb, tables)
    for name, frame in tables.items():
        table_sheet(wb, name, frame)
    wb.properties.title = f"Commissioning plan: {record.get('model', '')}"
    wb.properties.creator = "optimiser"
    wb.save(path)


def read_sheet(path: Path, name: str) -> pd.DataFrame:
    """A table sheet of plan.xlsx back as a frame (values as stored)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        rows = list(wb[name].iter_rows(values_only=True))
    finally:
        wb.close()
    return pd.DataFrame(rows[1:], columns=rows[0])
