"""A dataset as one Excel workbook: the blank template, and reading a filled one.

`optimiser template OUT.xlsx` writes a workbook with a "How to fill in" sheet, one sheet per
input table (the header row of the CSV file, frozen; drop-down lists for enumerations such as
CQC ratings, days and yes/no columns; text cells where Excel would otherwise turn a time or a
code into something else) and a Definitions sheet with every column's meaning, unit and rule.

`validate` and `solve` accept such a workbook wherever a dataset folder is expected. Every cell
is read as the text a CSV would hold and goes through the same validation (optimiser.inputs.
load), so the rules are the same; problems name the sheet, the row, the column and the cell
("sheet 'schemes', row 3, column 'flats' (cell D3) = -3: must be at least 1").
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from optimiser.inputs.load import Dataset, InputError, assemble, checksum, validate_table
from optimiser.inputs.schema import COST_NAMES, TABLES, ColumnSpec, TableSpec, rule_text

TEMPLATE_ROWS = 2000  # rows that carry the drop-down lists and text formats
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
GUIDE = "How to fill in"
DEFINITIONS = "Definitions"
TEXT_KINDS = ("id", "text", "enum", "bool", "time", "idlist")

HOW_TO = (
    "Your council's data for optimiser",
    "",
    "Fill in one sheet per table: schemes, residents, visits, providers and costs.",
    "Row 1 of each sheet holds the column names: keep them exactly as they are.",
    "One row per scheme, resident, visit or provider; leave no blank rows in between.",
    "Columns with a drop-down list take one of its values only (CQC rating, day, yes/no ...).",
    "Times are 24-hour HH:MM text, e.g. 07:30. Money is in GBP, without the £ sign.",
    "Resident ids are pseudonymous codes (R0001): no names, addresses or NHS numbers.",
    "The Definitions sheet says what every column means, its unit and its rule.",
    "",
    "Then, from the project folder:",
    "  .venv/bin/optimiser validate mydata.xlsx     (every problem, by sheet, row and column)",
    "  put dataset = \"mydata.xlsx\" in a copy of models/optimised.toml, and",
    "  .venv/bin/optimiser solve models/mine.toml   (the plan, in results/<model>/plan.xlsx)",
    "",
    "docs/your-data.md walks through every step.",
)


# --------------------------------------------------------------------------- the template

def _header(ws, names: list[str]) -> None:
    for j, name in enumerate(names, start=1):
        cell = ws.cell(row=1, column=j, value=name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    ws.freeze_panes = "A2"


def _choices(col: ColumnSpec) -> tuple[str, ...]:
    if col.kind == "enum":
        return col.choices
    if col.kind == "bool":
        return ("true", "false")
    return ()


def _cell(col: ColumnSpec, text: object) -> object:
    """A CSV text cell as the value to store: numbers as numbers, everything else as text."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text == "":
        return None
    if col.kind in ("int", "float"):
        try:
            number = float(str(text))
        except ValueError:
            return str(text)
        return int(number) if number.is_integer() and col.kind == "int" else number
    return str(text)


def _table_sheet(wb: Workbook, spec: TableSpec, rows: pd.DataFrame | None) -> None:
    ws = wb.create_sheet(spec.name)
    names = [c.name for c in spec.columns]
    if rows is not None:
        names += [c for c in rows.columns if c not in names]
    _header(ws, names)
    last = max(TEMPLATE_ROWS, (len(rows) if rows is not None else 0) + 200)
    for j, name in enumerate(names, start=1):
        col = spec.column(name) if name in {c.name for c in spec.columns} else \
            ColumnSpec(name, "text", "")
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(12, min(40, len(name) + 4))
        if col.kind in TEXT_KINDS:  # typed cells stay text: 07:30 no time, 007 no number
            ws.column_dimensions[letter].number_format = "@"
        choices = _choices(col)
        if choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"',
                                allow_blank=col.nullable or not col.required, showDropDown=False)
            dv.error = f"{name}: choose one of {', '.join(choices)}"
            dv.errorTitle = "Not one of the choices"
            dv.prompt = col.doc[:255]
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
    if rows is not None:
        for i, record in enumerate(rows.itertuples(index=False), start=2):
            for j, (name, value) in enumerate(zip(names, record, strict=True), start=1):
                col = spec.column(name) if name in {c.name for c in spec.columns} else \
                    ColumnSpec(name, "text", "")
                cell = ws.cell(row=i, column=j, value=_cell(col, value))
                if cell.data_type == "f":
                    cell.data_type = "s"
                if col.kind in TEXT_KINDS:
                    cell.number_format = "@"


def _blank_costs() -> pd.DataFrame:
    return pd.DataFrame({
        "name": list(COST_NAMES),
        "value": ["" if default is None else f"{default:g}"
                  for _doc, _unit, default in COST_NAMES.values()],
        "unit": [unit for _doc, unit, _default in COST_NAMES.values()],
        "source": ["" for _ in COST_NAMES],
    })


def definitions_frame() -> pd.DataFrame:
    rows = []
    for spec in TABLES:
        rows.append((spec.name, "", spec.doc, "", ""))
        for col in spec.columns:
            rows.append((spec.name, col.name, col.doc, col.unit, rule_text(col)))
    for name, (doc, unit, default) in COST_NAMES.items():
        rows.append(("costs", f"name = {name}", doc, unit,
                     "required" if default is None else f"optional, default {default:g}"))
    return pd.DataFrame(rows, columns=["sheet", "column", "meaning", "unit", "rule"])


def write_template(path: Path, dataset: Path | None = None) -> Path:
    """Write the input workbook: blank (costs named, values to fill), or filled from a dataset
    folder's CSV files (to move a dataset into Excel)."""
    wb = Workbook()
    guide = wb.active
    guide.title = GUIDE
    for i, line in enumerate(HOW_TO, start=1):
        guide.cell(row=i, column=1, value=line).font = Font(bold=(i == 1), size=14 if i == 1
                                                            else 11)
    guide.column_dimensions["A"].width = 100
    for spec in TABLES:
        rows = None
        if dataset is not None:
            path_csv = Path(dataset) / spec.filename
            if not path_csv.is_file():
                raise InputError([f"{spec.filename}: not found in {dataset}"])
            rows = pd.read_csv(path_csv, dtype=str, keep_default_na=False)
        elif spec.name == "costs":
            rows = _blank_costs()
        _table_sheet(wb, spec, rows)
    defs = wb.create_sheet(DEFINITIONS)
    frame = definitions_frame()
    _header(defs, list(frame.columns))
    for i, record in enumerate(frame.itertuples(index=False), start=2):
        for j, value in enumerate(record, start=1):
            cell = defs.cell(row=i, column=j, value=value or None)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if not record[1]:
                cell.font = Font(bold=True)
    for letter, width in zip("ABCDE", (12, 34, 80, 14, 40), strict=True):
        defs.column_dimensions[letter].width = width
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# --------------------------------------------------------------------------- reading

def _text(value: object, kind: str) -> object:
    """A cell as the text a CSV would hold (NaN for an empty cell)."""
    if value is None:
        return np.nan
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if kind == "time" or (value.date() == dt.date(1899, 12, 30)):
            return f"{value.hour:02d}:{value.minute:02d}"
        return value.isoformat(sep=" ")
    if isinstance(value, dt.time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if kind == "time" and 0 <= value < 1:  # a time Excel stored as a fraction of a day
            minutes = round(value * 1440)
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    text = str(value).strip()
    return text if text else np.nan


def _sheet_frame(ws, spec: TableSpec) -> tuple[pd.DataFrame, dict[str, str]]:
    """A sheet as text cells, indexed so that index + 2 is the sheet row; and the column
    letter of each header."""
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return pd.DataFrame(), {}
    names: list[str] = []
    for j, value in enumerate(header, start=1):
        name = "" if value is None else str(value).strip()
        names.append(name or f"(blank header in column {get_column_letter(j)})")
    kinds = {c.name: c.kind for c in spec.columns}
    records, index = [], []
    for i, row in enumerate(rows):
        cells = [_text(v, kinds.get(n, "text")) for n, v in zip(names, row, strict=False)]
        cells += [np.nan] * (len(names) - len(cells))
        records.append(cells)
        index.append(i)
    frame = pd.DataFrame(records, columns=names, index=index, dtype=object)
    # trailing columns with neither a header nor any value are not columns
    keep = [n for n in names if not (n.startswith("(blank header") and frame[n].isna().all())]
    frame = frame[keep].dropna(how="all")
    letters = {n: get_column_letter(j) for j, n in enumerate(names, start=1)}
    return frame, letters


CELL = re.compile(r"^(?P<table>\w+)\.csv: row (?P<row>\d+), column '(?P<col>[^']*)'")


def _in_sheet(problem: str, letters: dict[str, dict[str, str]]) -> str:
    """'schemes.csv: row 3, column 'flats' ...' -> 'sheet 'schemes', row 3, column 'flats'
    (cell D3) ...'; other mentions of a table's CSV file name its sheet."""
    match = CELL.match(problem)
    if match:
        table, row, col = match["table"], match["row"], match["col"]
        letter = letters.get(table, {}).get(col)
        cell = f" (cell {letter}{row})" if letter else ""
        problem = f"sheet '{table}', row {row}, column '{col}'{cell}" + problem[match.end():]
    for spec in TABLES:
        problem = re.sub(rf"^{spec.name}\.csv:", f"sheet '{spec.name}':", problem)
        problem = problem.replace(f"in {spec.filename}", f"in sheet '{spec.name}'")
    return problem


def read_workbook(path: Path) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, str]]]:
    """Every table sheet validated on its own; raises InputError naming sheet, row, column."""
    path = Path(path)
    if not path.is_file():
        raise InputError([f"workbook {path} does not exist"])
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError([f"{path.name}: cannot be read as an Excel workbook (.xlsx): "
                          f"{exc}"]) from None
    tables: dict[str, pd.DataFrame] = {}
    letters: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    try:
        present = {name.strip().lower(): name for name in wb.sheetnames}
        for spec in TABLES:
            if spec.name not in present:
                problems.append(f"sheet '{spec.name}' is missing; the workbook needs sheets "
                                f"{', '.join(s.name for s in TABLES)} (optimiser template "
                                "writes one)")
                continue
            frame, letters[spec.name] = _sheet_frame(wb[present[spec.name]], spec)
            if frame.empty and not len(frame.columns):
                problems.append(f"sheet '{spec.name}' is empty; row 1 must hold the column "
                                f"names {', '.join(c.name for c in spec.columns if c.required)}")
                continue
            try:
                tables[spec.name] = validate_table(frame, spec)
            except InputError as exc:
                problems += [_in_sheet(p, letters) for p in exc.problems]
    finally:
        wb.close()
    if problems:
        raise InputError(problems, f"The workbook {path.name}")
    return tables, letters


def load_workbook_dataset(path: Path) -> Dataset:
    """Load and validate a dataset given as one .xlsx workbook."""
    path = Path(path)
    tables, letters = read_workbook(path)
    try:
        return assemble(path, tables, {path.name: checksum(path)})
    except InputError as exc:
        raise InputError([_in_sheet(p, letters) for p in exc.problems],
                         f"The workbook {path.name}") from None
