"""Read a dataset folder into validated tables, or explain exactly what is wrong.

Data loading never imports Pyomo. Every problem is reported as a sentence naming the file,
the row (as a spreadsheet shows it: the header is row 1), the column and the rule broken; all
problems of a table are collected before stopping so a commissioner fixes them in one pass.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from optimiser.inputs.queueing import MAX_RESERVE, reserve_staff
from optimiser.inputs.schema import (
    BOOL_WORDS,
    COST_NAMES,
    DAYS,
    ID_PATTERN,
    TABLES,
    TIME_PATTERN,
    ColumnSpec,
    TableSpec,
)

MAX_ERRORS_SHOWN = 25


class InputError(Exception):
    """A user mistake in the input data or model file; the message is for the commissioner."""

    def __init__(self, problems: list[str], subject: str = "The input data"):
        self.problems = problems
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        text = "\n".join(f"  - {p}" for p in shown)
        if more > 0:
            text += f"\n  ... and {more} more problem(s)"
        super().__init__(f"{subject} has {len(problems)} problem(s):\n{text}")


class CommandLineError(InputError):
    """A mistake in how a command was typed (an option or a --set), not in a file."""

    def __init__(self, problems: list[str]):
        super().__init__(problems, "The command line")


@dataclass(frozen=True)
class Dataset:
    """Validated input tables, typed, ordered by their keys, plus their checksums."""

    path: Path
    schemes: pd.DataFrame
    residents: pd.DataFrame
    visits: pd.DataFrame
    providers: pd.DataFrame
    costs: dict[str, float]
    checksums: dict[str, str] = field(default_factory=dict)


def _row(index: object) -> str:
    """Spreadsheet row number of a zero-based data row (header is row 1)."""
    try:
        return str(int(index) + 2)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "?"


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError([f"{path.name}: cannot be read ({exc.strerror or exc})"]) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # Excel writes a byte-order mark; it is harmless
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            [f"{path.name}: line {line} is not UTF-8 text (save the file as 'CSV UTF-8' in Excel)"]
        ) from None


def _read_csv(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read a CSV as text cells, refusing the commonest export mistakes with a clear message."""
    text = _read_text(path)
    if not text.strip():
        raise InputError(
            [
                f"{path.name}: the file is empty; expected a header row with columns "
                f"{', '.join(c.name for c in spec.columns if c.required)}"
            ]
        )
    first = text.splitlines()[0]
    if ";" in first and "," not in first:
        raise InputError(
            [f"{path.name}: row 1 uses ';' between columns; expected ',' (comma-separated values)"]
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,  # keep row numbers as a spreadsheet shows them
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError([f"{path.name}: cannot be read as CSV ({exc})"]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda col: col.str.strip()).replace("", np.nan)
    return frame.dropna(how="all")  # blank lines and Excel's trailing ',,,,' rows


def _header_problems(frame: pd.DataFrame, spec: TableSpec) -> list[str]:
    problems = []
    known = {c.name for c in spec.columns}
    for col in spec.columns:
        if col.required and col.name not in frame.columns:
            problems.append(f"{spec.filename}: column '{col.name}' is missing ({col.doc})")
    for name in frame.columns:
        if name not in known:
            problems.append(
                f"{spec.filename}: column '{name}' is not expected; "
                f"expected columns are {', '.join(c.name for c in spec.columns)}"
            )
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    problems += [f"{spec.filename}: column '{d}' appears twice" for d in dupes]
    return problems


def _checks(col: ColumnSpec) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if col.ge is not None:
        checks.append(pa.Check.ge(col.ge, error=f"must be at least {col.ge:g}"))
    if col.gt is not None:
        checks.append(pa.Check.gt(col.gt, error=f"must be greater than {col.gt:g}"))
    if col.le is not None:
        checks.append(pa.Check.le(col.le, error=f"must be at most {col.le:g}"))
    if col.kind in ("float", "int"):
        checks.append(
            pa.Check(lambda s: np.isfinite(s), element_wise=False, error="must be a finite number")
        )
    if col.kind == "enum":
        checks.append(pa.Check.isin(col.choices, error=f"must be one of {', '.join(col.choices)}"))
    if col.kind == "bool":
        checks.append(pa.Check.isin(list(BOOL_WORDS), error="must be true or false (yes/no)"))
    if col.kind == "id":
        checks.append(
            pa.Check.str_matches(
                ID_PATTERN, error="must be a short code of letters, digits, '_', '.' or '-'"
            )
        )
    if col.kind == "idlist":
        checks.append(
            pa.Check(
                lambda s: s.str.split("|").map(lambda ids: all(_is_id(i) for i in ids)),
                element_wise=False,
                error="must be codes separated by '|'",
            )
        )
    if col.kind == "time":
        checks.append(
            pa.Check.str_matches(TIME_PATTERN, error="must be a time of day such as 08:15 "
                                 "(8:15 and 08:15:00 are read alike; 00:00-23:59)")
        )
    return checks


def _is_id(text: str) -> bool:
    import re

    return re.fullmatch(ID_PATTERN, text.strip()) is not None


_DTYPES = {"int": "float64", "float": "float64"}  # ints checked for wholeness after coercion


def _schema(spec: TableSpec, present: set[str]) -> pa.DataFrameSchema:
    columns = {
        c.name: pa.Column(
            _DTYPES.get(c.kind, str),
            checks=_checks(c),
            nullable=c.nullable,
            coerce=True,
            required=False,
        )
        for c in spec.columns
        if c.name in present
    }
    return pa.DataFrameSchema(columns, strict=False)


def _explain(
    spec: TableSpec, failures: pd.DataFrame, skip: set[tuple[str, str]] | None = None
) -> list[str]:
    """Turn pandera's failure table into one sentence per bad cell (cells in ``skip`` were
    already reported as not being numbers)."""
    problems: list[str] = []
    seen: set[tuple[str, str]] = set(skip or ())
    # A cell that is not a number makes pandera run the range checks on the uncoerced text
    # column, which fail as a whole (no row); the cell itself is already reported.
    located = {str(c) for c, i in zip(failures["column"], failures["index"], strict=True)
               if _row(i) != "?"}
    for case in failures.itertuples(index=False):
        column = str(case.column)
        row = _row(case.index)
        if (column, row) in seen or (row == "?" and column in located):
            continue
        seen.add((column, row))
        check = str(case.check)
        col = spec.column(column) if column in {c.name for c in spec.columns} else None
        value = case.failure_case
        if check.startswith(("coerce_dtype", "dtype")):
            rule = "must be a number" if col is not None and col.kind in _DTYPES else check
        elif check == "not_nullable":
            rule = "must not be empty"
        else:
            rule = check
        if value is None or (isinstance(value, float) and np.isnan(value)):
            shown = "empty"
        elif isinstance(value, float) and value.is_integer():
            shown = str(int(value))  # as typed: flats -3, not -3.0
        else:
            shown = repr(value)
        if rule == "must not be empty":
            problems.append(
                f"{spec.filename}: row {row}, column '{column}' is empty; "
                f"expected {col.doc if col else 'a value'}"
            )
        else:
            problems.append(f"{spec.filename}: row {row}, column '{column}' = {shown}: {rule}")
    return sorted(problems, key=_problem_order)


def _problem_order(problem: str) -> tuple[int, str]:
    try:
        return int(problem.split("row ")[1].split(",")[0]), problem
    except (IndexError, ValueError):
        return 0, problem


def _integer_problems(frame: pd.DataFrame, spec: TableSpec) -> list[str]:
    problems = []
    for col in spec.columns:
        if col.kind != "int" or col.name not in frame.columns:
            continue
        values = frame[col.name]
        bad = values.notna() & (values != values.round())
        problems += [
            f"{spec.filename}: row {_row(i)}, column '{col.name}' = {values[i]:g}: "
            "must be a whole number"
            for i in values.index[bad]
        ]
    return problems


def _key_problems(frame: pd.DataFrame, spec: TableSpec) -> list[str]:
    if not spec.key or not set(spec.key) <= set(frame.columns):
        return []
    dup = frame.duplicated(list(spec.key), keep="first")
    return [
        f"{spec.filename}: row {_row(i)} repeats {', '.join(spec.key)} = "
        f"{', '.join(str(frame.at[i, k]) for k in spec.key)} (must be unique)"
        for i in frame.index[dup]
    ]


def _typed(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    out = frame.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            out[col.name] = col.default
            continue
        if col.kind == "int":
            out[col.name] = out[col.name].astype("Int64" if col.nullable else "int64")
        elif col.kind == "bool":
            out[col.name] = out[col.name].str.lower().map(BOOL_WORDS).astype(bool)
        elif col.kind == "float":
            out[col.name] = out[col.name].astype("float64")
    return out[[c.name for c in spec.columns]]


def read_table(folder: Path, spec: TableSpec) -> pd.DataFrame:
    """Read and validate one table on its own (types, ranges, required cells, unique key)."""
    path = folder / spec.filename
    if path.is_dir():
        raise InputError([f"{spec.filename}: is a folder in {folder}, not a CSV file"])
    if not path.exists():
        raise InputError([f"{spec.filename}: file not found in {folder}"])
    return validate_table(_read_csv(path, spec), spec)


def validate_table(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Validate one table read as text cells (index: spreadsheet row - 2), raising InputError
    with every problem; shared by the CSV reader and the Excel reader."""
    problems = _header_problems(frame, spec)
    if problems:
        raise InputError(problems)
    if len(frame) < spec.min_rows:
        raise InputError([f"{spec.filename}: has no data rows; expected at least {spec.min_rows}"])
    lowered = frame.copy()
    for col in spec.columns:
        if col.kind == "bool" and col.name in lowered.columns:
            lowered[col.name] = lowered[col.name].str.lower()
    lowered = _times(lowered, spec)
    lowered, type_problems, bad_cells = _numbers(lowered, spec)
    try:
        validated = _schema(spec, set(frame.columns)).validate(lowered, lazy=True)
        problems = []
    except pa.errors.SchemaErrors as exc:
        validated = None
        problems = _explain(spec, exc.failure_cases, skip=bad_cells)
    problems += _integer_problems(lowered, spec)
    problems = sorted(type_problems + problems, key=_problem_order)
    if problems:
        raise InputError(problems)
    problems = _key_problems(validated, spec)
    if problems:
        raise InputError(problems)
    return _typed(validated, spec)


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_time(text: object) -> str | None:
    """A time of day in any form a spreadsheet writes it (8:15, 08:15, 08:15:00) as 'HH:MM';
    None if it is not one (or has seconds other than :00: visits start on a whole minute)."""
    match = _CLOCK.fullmatch(str(text).strip())
    if match is None:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second != 0:
        return None
    return f"{hour:02d}:{minute:02d}"


def _times(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Times read once, here, into one form, so 8:15 and 08:15 are the same visit and
    everything after the loader sees HH:MM; a cell that is no time is left for the schema
    to refuse by name."""
    out = frame.copy()
    for col in spec.columns:
        if col.kind == "time" and col.name in out.columns:
            parsed = out[col.name].map(parse_time, na_action="ignore")
            out[col.name] = parsed.where(parsed.notna(), out[col.name])
    return out


def _numbers(
    frame: pd.DataFrame, spec: TableSpec
) -> tuple[pd.DataFrame, list[str], set[tuple[str, str]]]:
    """Convert number columns, reporting every cell that is not a number, so the range checks
    still run on the rest of the column; returns the (column, row) cells already reported."""
    out = frame.copy()
    problems = []
    cells: set[tuple[str, str]] = set()
    for col in spec.columns:
        if col.kind not in _DTYPES or col.name not in out.columns:
            continue
        raw = out[col.name]
        values = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & values.isna()
        problems += [
            f"{spec.filename}: row {_row(i)}, column '{col.name}' = {raw[i]!r}: must be a number"
            for i in raw.index[bad]
        ]
        cells |= {(col.name, _row(i)) for i in raw.index[bad]}
        out[col.name] = values.astype("float64")
    return out, problems, cells


def _reference_problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Ids that must exist in another table, and cross-table rules."""
    problems: list[str] = []
    ids = {
        "schemes": set(tables["schemes"]["scheme_id"]),
        "residents": set(tables["residents"]["resident_id"]),
        "providers": set(tables["providers"]["provider_id"]),
    }
    for spec in TABLES:
        for column, target in spec.foreign_keys.items():
            values = tables[spec.name][column]
            bad = values.notna() & ~values.isin(ids[target])
            problems += [
                f"{spec.filename}: row {_row(i)}, column '{column}' = {values[i]!r}: "
                f"no such id in {target}.csv"
                for i in values.index[bad]
            ]
    zones = set(tables["schemes"]["zone"])
    for i, served in tables["providers"]["zones"].items():
        unknown = [z for z in served.split("|") if z.strip() not in zones]
        if unknown:
            problems.append(
                f"providers.csv: row {_row(i)}, column 'zones' names zone(s) "
                f"{', '.join(unknown)} that no scheme is in"
            )
    return (problems + _provider_problems(tables["providers"]) + _resident_problems(tables)
            + _call_problems(tables["schemes"]) + _visit_problems(tables["visits"]))


def _call_problems(schemes: pd.DataFrame) -> list[str]:
    """Calls that no number of staff can answer within the target: every value is allowed on
    its own, but together they ask the impossible (the solve would have no reserve)."""
    problems = []
    for i, row in schemes.iterrows():
        for band in ("day", "night"):
            calls = float(row[f"{band}_calls_per_hour"])
            try:
                reserve_staff(calls, float(row["mean_call_minutes"]),
                              float(row["response_target_minutes"]), float(row["response_share"]))
            except ValueError:
                problems.append(
                    f"schemes.csv: row {_row(i)}, scheme {row['scheme_id']} ({row['name']}): "
                    f"{calls:g} {band} calls an hour taking {row['mean_call_minutes']:g} minutes "
                    f"each cannot have {100 * row['response_share']:g} % reached within "
                    f"{row['response_target_minutes']:g} minutes by any number of staff (up to "
                    f"{MAX_RESERVE}); check {band}_calls_per_hour, mean_call_minutes, "
                    "response_target_minutes and response_share")
    return problems


def _visit_problems(visits: pd.DataFrame) -> list[str]:
    """A resident's visits must fit one after another in the week (wrapping Sunday night into
    Monday): two that overlap cannot both happen as listed."""
    if visits.empty:
        return []
    at = visits["day"].map({d: i for i, d in enumerate(DAYS)}) * 1440 + visits["start"].map(
        lambda t: int(t[:2]) * 60 + int(t[3:5]))
    v = visits.assign(at=at, end=at + visits["minutes"]).sort_values(["resident_id", "at"])
    first = v.groupby("resident_id")["at"].transform("first") + 7 * 1440
    following = v.groupby("resident_id")["at"].shift(-1).fillna(first)
    next_row = pd.Series(v.index, index=v.index).groupby(v["resident_id"]).shift(-1).fillna(
        pd.Series(v.index, index=v.index).groupby(v["resident_id"]).transform("first"))
    problems = []
    for i in v.index[(v["end"] > following) & (next_row != v.index)]:
        j = int(next_row[i])
        problems.append(
            f"visits.csv: rows {_row(i)} and {_row(j)}: resident {v.at[i, 'resident_id']}'s "
            f"visit on {v.at[i, 'day']} at {v.at[i, 'start']} ({v.at[i, 'minutes']:g} minutes) "
            f"overlaps the one on {v.at[j, 'day']} at {v.at[j, 'start']}; a resident has one "
            "visit at a time (a visit needing two carers at once is one row with carers = 2)")
    return problems


def _provider_problems(providers: pd.DataFrame) -> list[str]:
    problems = []
    block_cols = ["block_rate_day", "block_rate_night", "block_rate_weekend", "min_block_hours"]
    for i, row in providers[providers["onsite_capable"]].iterrows():
        for col in block_cols:
            if pd.isna(row[col]):
                problems.append(
                    f"providers.csv: row {_row(i)}, column '{col}' is empty; an on-site capable "
                    "provider needs its block rates and minimum block hours"
                )
    return problems


def _resident_problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    residents = tables["residents"]
    problems = []
    pref = residents["preferred_provider"]
    strength = residents["preference_strength"]
    for i in residents.index[pref.isna() & (strength != "none")]:
        problems.append(
            f"residents.csv: row {_row(i)}, column 'preferred_provider' is empty but "
            f"preference_strength is '{strength[i]}'; name the provider or set it to none"
        )
    for i in residents.index[pref.notna() & (strength == "none")]:
        problems.append(
            f"residents.csv: row {_row(i)}, column 'preference_strength' is 'none' but "
            f"preferred_provider is '{pref[i]}'; set it to weak or strong, or clear the provider"
        )
    with_visits = set(tables["visits"]["resident_id"])
    no_care = residents["needs_band"] == "none"
    for i in residents.index[no_care & residents["resident_id"].isin(with_visits)]:
        problems.append(
            f"residents.csv: row {_row(i)}, column 'needs_band' is 'none' but the resident "
            "has visits in visits.csv"
        )
    for i in residents.index[~no_care & ~residents["resident_id"].isin(with_visits)]:
        problems.append(
            f"residents.csv: row {_row(i)}, column 'needs_band' is "
            f"'{residents.at[i, 'needs_band']}' but the resident has no visits in visits.csv"
        )
    return problems


def _costs(frame: pd.DataFrame) -> dict[str, float]:
    values = dict(zip(frame["name"], frame["value"].astype(float), strict=True))
    problems = [
        f"costs.csv: no row named '{name}' ({doc}, {unit})"
        for name, (doc, unit, default) in COST_NAMES.items()
        if name not in values and default is None
    ]
    problems += [
        f"costs.csv: row {_row(i)}, column 'name' = {name!r}: not a known cost; expected one of "
        f"{', '.join(COST_NAMES)}"
        for i, name in frame["name"].items()
        if name not in COST_NAMES
    ]
    weeks = values.get("weeks_per_year", COST_NAMES["weeks_per_year"][2])
    if not 1 <= weeks <= 53:
        problems.append(f"costs.csv: weeks_per_year is {weeks:g}; it turns weekly costs into "
                        "annual ones, so it must be between 1 and 53 (365 / 7 = 52.143)")
    if values.get("framework_term_years", 1) <= 0:
        problems.append("costs.csv: framework_term_years must be greater than 0")
    if values.get("direct_payment_satisfaction", 0) > 100:
        problems.append("costs.csv: direct_payment_satisfaction must be at most 100")
    if problems:
        raise InputError(problems)
    defaults = {n: d for n, (_, _, d) in COST_NAMES.items() if d is not None}
    return {**defaults, **values}


def checksum(path: Path) -> str:
    """SHA-256 of a file, so a plan can be traced to the exact data it came from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_dataset(folder: Path | str) -> Dataset:
    """Load and validate every table of a dataset folder, or of one .xlsx workbook with a
    sheet per table (optimiser.inputs.workbook); raise InputError on any mistake."""
    folder = Path(folder)
    if folder.suffix.lower() == ".xlsx":
        from optimiser.inputs.workbook import load_workbook_dataset

        return load_workbook_dataset(folder)
    if not folder.is_dir():
        raise InputError([f"dataset folder {folder} does not exist"])
    tables: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    for spec in TABLES:
        try:
            tables[spec.name] = read_table(folder, spec)
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return assemble(folder, tables,
                    {spec.filename: checksum(folder / spec.filename) for spec in TABLES})


def assemble(path: Path, tables: dict[str, pd.DataFrame], checksums: dict[str, str]) -> Dataset:
    """Check the rules across validated tables and build the Dataset."""
    problems = _reference_problems(tables)
    if problems:
        raise InputError(problems)
    return Dataset(
        path=path,
        schemes=tables["schemes"].sort_values("scheme_id").reset_index(drop=True),
        residents=tables["residents"].sort_values("resident_id").reset_index(drop=True),
        visits=tables["visits"].sort_values(["resident_id", "day", "start"]).reset_index(drop=True),
        providers=tables["providers"].sort_values("provider_id").reset_index(drop=True),
        costs=_costs(tables["costs"]),
        checksums=checksums,
    )
