"""Input validation: every mistake is reported as one sentence naming the file, the row as a
spreadsheet shows it (the header is row 1), the column and the rule broken.

Each test copies the bundled Shireford dataset, breaks one thing and compares the exact text;
the CLI tests check the exit code, the message and that no traceback reaches the user.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from factory import resident, visit, write_dataset, write_model

from optimiser.cli import main
from optimiser.inputs.load import MAX_ERRORS_SHOWN, InputError, _explain, load_dataset
from optimiser.inputs.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
SHIREFORD = ROOT / "data" / "shireford"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of the bundled dataset that a test may break."""
    return Path(shutil.copytree(SHIREFORD, tmp_path / "shireford"))


def read_rows(folder: Path, table: str) -> list[list[str]]:
    with open(folder / f"{table}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def set_cell(folder: Path, table: str, row: int, column: str, value: str) -> str:
    """Change one cell; ``row`` is the spreadsheet row (header = 1). Returns the old value."""
    rows = read_rows(folder, table)
    col = rows[0].index(column)
    old = rows[row - 1][col]
    rows[row - 1][col] = value
    write_rows(folder, table, rows)
    return old


def problems(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    return caught.value.problems


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def exits_cleanly(result: Result, code: int) -> str:
    """Check the exit code came from sys.exit (CliRunner reports a crash as exit code 1 too)
    and return the output with line wrapping undone."""
    assert result.exit_code == code, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return flat(result.output)


# --------------------------------------------------------------------------- good data


def test_bundled_data_loads() -> None:
    data = load_dataset(SHIREFORD)
    assert (len(data.schemes), len(data.providers)) == (6, 14)
    assert len(data.residents) == len(read_rows(SHIREFORD, "residents")) - 1
    assert len(data.visits) == len(read_rows(SHIREFORD, "visits")) - 1
    assert set(data.checksums) == {f"{t}.csv" for t in
                                   ("schemes", "residents", "visits", "providers", "costs")}
    assert data.costs["weeks_per_year"] == pytest.approx(52.143)
    # Each table has exactly the schema's columns, in order, sorted by its key.
    for spec in TABLES:
        if spec.name == "costs":
            continue
        frame = getattr(data, spec.name)
        assert list(frame.columns) == [c.name for c in spec.columns], spec.name
    assert data.residents["resident_id"].is_monotonic_increasing


def test_byte_order_mark_is_accepted(data: Path) -> None:
    for table in ("schemes", "residents", "costs"):
        path = data / f"{table}.csv"
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    loaded = load_dataset(data)
    assert "scheme_id" in loaded.schemes.columns  # not '\ufeffscheme_id'
    assert loaded.schemes["scheme_id"].iloc[0] == "S01"


def test_windows_line_ends_are_accepted(data: Path) -> None:
    path = data / "visits.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert len(load_dataset(data).visits) == len(read_rows(SHIREFORD, "visits")) - 1


# --------------------------------------------------------------------------- headers and files


def test_missing_required_column(data: Path) -> None:
    rows = read_rows(data, "schemes")
    i = rows[0].index("flats")
    write_rows(data, "schemes", [r[:i] + r[i + 1:] for r in rows])
    assert problems(data) == ["schemes.csv: column 'flats' is missing (Number of flats.)"]


def test_unexpected_extra_column(data: Path) -> None:
    rows = read_rows(data, "visits")
    write_rows(data, "visits", [rows[0] + ["notes"]] + [r + ["x"] for r in rows[1:]])
    assert problems(data) == [
        "visits.csv: column 'notes' is not expected; expected columns are "
        "resident_id, day, start, minutes, carers"
    ]


def test_empty_file(data: Path) -> None:
    (data / "providers.csv").write_text("")
    assert problems(data) == [
        "providers.csv: the file is empty; expected a header row with columns provider_id, "
        "name, zones, onsite_capable, cqc_rating, satisfaction, block_rate_day, "
        "block_rate_night, block_rate_weekend, framework_rate_day, framework_rate_night, "
        "framework_rate_weekend, travel_minutes_per_visit, weekly_capacity_hours, "
        "framework_admission_cost, framework_monitoring_cost, min_block_hours"
    ]


def test_header_only_file(data: Path) -> None:
    write_rows(data, "schemes", read_rows(data, "schemes")[:1])
    assert problems(data) == ["schemes.csv: has no data rows; expected at least 1"]


def test_missing_file(data: Path) -> None:
    (data / "costs.csv").unlink()
    assert problems(data) == [f"costs.csv: file not found in {data}"]


def test_semicolon_separated_file(data: Path) -> None:
    rows = read_rows(data, "schemes")
    (data / "schemes.csv").write_text("\n".join(";".join(r) for r in rows) + "\n")
    assert problems(data) == [
        "schemes.csv: row 1 uses ';' between columns; expected ',' (comma-separated values)"
    ]


def test_non_utf8_bytes(data: Path) -> None:
    path = data / "schemes.csv"
    raw = path.read_bytes()
    assert b"Oakfield Court" in raw.splitlines()[1]
    path.write_bytes(raw.replace(b"Oakfield Court", "Oakfield Caf\u00e9".encode("latin-1")))
    assert problems(data) == [
        "schemes.csv: line 2 is not UTF-8 text (save the file as 'CSV UTF-8' in Excel)"
    ]


# --------------------------------------------------------------------------- cells


def test_text_in_number_column(data: Path) -> None:
    set_cell(data, "residents", 3, "weekly_budget", "lots")
    assert problems(data) == [
        "residents.csv: row 3, column 'weekly_budget' = 'lots': must be a number"
    ]


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "expected"),
    [
        ("schemes", 4, "flats", "-3",
         "schemes.csv: row 4, column 'flats' = -3: must be at least 1"),
        ("providers", 5, "satisfaction", "101",
         "providers.csv: row 5, column 'satisfaction' = 101: must be at most 100"),
        ("schemes", 2, "response_share", "1.5",
         "schemes.csv: row 2, column 'response_share' = 1.5: must be at most 0.9999"),
        ("visits", 3, "minutes", "1",
         "visits.csv: row 3, column 'minutes' = 1: must be at least 5"),
        ("costs", 3, "value", "-1", "costs.csv: row 3, column 'value' = -1: must be at least 0"),
        ("residents", 4, "weekly_budget", "-5",
         "residents.csv: row 4, column 'weekly_budget' = -5: must be at least 0"),
    ],
)
def test_out_of_range(data: Path, table: str, row: int, column: str, value: str,
                      expected: str) -> None:
    set_cell(data, table, row, column, value)
    assert problems(data) == [expected]


def test_empty_required_cell(data: Path) -> None:
    set_cell(data, "providers", 3, "cqc_rating", "")
    assert problems(data) == [
        "providers.csv: row 3, column 'cqc_rating' is empty; expected Current CQC rating."
    ]


def test_float_in_integer_column(data: Path) -> None:
    set_cell(data, "visits", 4, "carers", "2.5")
    set_cell(data, "schemes", 3, "flats", "40.5")
    assert problems(data) == [
        "schemes.csv: row 3, column 'flats' = 40.5: must be a whole number",
        "visits.csv: row 4, column 'carers' = 2.5: must be a whole number",
        "visits.csv: row 4, column 'carers' = 2.5: must be at most 2",
    ]


def test_half_carer_is_not_a_whole_number(data: Path) -> None:
    set_cell(data, "visits", 4, "carers", "1.5")
    assert problems(data) == ["visits.csv: row 4, column 'carers' = 1.5: must be a whole number"]


def test_whole_number_written_as_decimal_is_accepted(data: Path) -> None:
    set_cell(data, "visits", 4, "carers", "2.0")
    loaded = load_dataset(data)
    assert str(loaded.visits["carers"].dtype) == "int64"


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "expected"),
    [
        ("providers", 2, "cqc_rating", "excellent",
         "providers.csv: row 2, column 'cqc_rating' = 'excellent': must be one of outstanding, "
         "good, requires_improvement, inadequate, unrated"),
        ("visits", 2, "day", "Monday",
         "visits.csv: row 2, column 'day' = 'Monday': must be one of Mon, Tue, Wed, Thu, Fri, "
         "Sat, Sun"),
        ("visits", 2, "start", "25:00",
         "visits.csv: row 2, column 'start' = '25:00': must be a time of day such as 08:15 "
         "(8:15 and 08:15:00 are read alike; 00:00-23:59)"),
        ("schemes", 2, "lone_working_at_night", "maybe",
         "schemes.csv: row 2, column 'lone_working_at_night' = 'maybe': must be true or false "
         "(yes/no)"),
        ("residents", 7, "needs_band", "severe",
         "residents.csv: row 7, column 'needs_band' = 'severe': must be one of none, low, "
         "moderate, high"),
        ("schemes", 2, "zone", "North Side",
         "schemes.csv: row 2, column 'zone' = 'North Side': must be a short code of letters, "
         "digits, '_', '.' or '-'"),
        ("providers", 2, "zones", "North|South Side",
         "providers.csv: row 2, column 'zones' = 'North|South Side': must be codes separated "
         "by '|'"),
    ],
)
def test_bad_words(data: Path, table: str, row: int, column: str, value: str,
                   expected: str) -> None:
    set_cell(data, table, row, column, value)
    assert problems(data) == [expected]


def test_bool_words_in_any_case_are_accepted(data: Path) -> None:
    assert set_cell(data, "schemes", 2, "lone_working_at_night", "Yes") == "false"
    assert set_cell(data, "schemes", 3, "lone_working_at_night", "N") == "true"
    assert set_cell(data, "schemes", 4, "lone_working_at_night", "TRUE") == "false"
    schemes = load_dataset(data).schemes.set_index("scheme_id")["lone_working_at_night"]
    assert schemes.to_dict() == {"S01": True, "S02": False, "S03": True, "S04": True,
                                 "S05": True, "S06": False}


def test_duplicate_key(data: Path) -> None:
    set_cell(data, "schemes", 4, "scheme_id", "S02")
    assert problems(data) == ["schemes.csv: row 4 repeats scheme_id = S02 (must be unique)"]


def test_duplicate_compound_key(data: Path) -> None:
    rows = read_rows(data, "visits")
    rows.insert(3, list(rows[2]))  # row 3 repeated as row 4
    write_rows(data, "visits", rows)
    r, day, start = rows[2][:3]
    assert problems(data) == [
        f"visits.csv: row 4 repeats resident_id, day, start = {r}, {day}, {start} (must be unique)"
    ]



def test_one_visit_written_two_ways_is_a_duplicate(tmp_path: Path) -> None:
    # 8:15 and 08:15:00 are both read as 08:15, so the second row repeats the first.
    data = write_dataset(tmp_path / "data", visits=[visit(start="8:15"),
                                                    visit(start="08:15:00")])
    with pytest.raises(InputError, match=r"row 3 repeats resident_id, day, start = R1, Mon, "
                                         r"08:15 \(must be unique\)"):
        load_dataset(data)

# --------------------------------------------------------------------------- references


def test_unknown_scheme_of_resident(data: Path) -> None:
    set_cell(data, "residents", 5, "scheme_id", "S99")
    assert problems(data) == [
        "residents.csv: row 5, column 'scheme_id' = 'S99': no such id in schemes.csv"
    ]


def test_unknown_resident_of_visit(data: Path) -> None:
    set_cell(data, "visits", 6, "resident_id", "R99999")
    assert problems(data) == [
        "visits.csv: row 6, column 'resident_id' = 'R99999': no such id in residents.csv"
    ]


def test_unknown_preferred_provider(data: Path) -> None:
    rows = read_rows(data, "residents")
    col = rows[0].index("preferred_provider")
    row = next(i for i, r in enumerate(rows[1:], 2) if r[col])
    set_cell(data, "residents", row, "preferred_provider", "P99")
    assert problems(data) == [
        f"residents.csv: row {row}, column 'preferred_provider' = 'P99': "
        "no such id in providers.csv"
    ]


def test_provider_zone_with_no_scheme(data: Path) -> None:
    set_cell(data, "providers", 2, "zones", "Central|East")
    assert problems(data) == [
        "providers.csv: row 2, column 'zones' names zone(s) East that no scheme is in"
    ]


def test_onsite_provider_without_block_rates(data: Path) -> None:
    assert set_cell(data, "providers", 2, "onsite_capable", "true") == "true"
    set_cell(data, "providers", 2, "block_rate_night", "")
    assert problems(data) == [
        "providers.csv: row 2, column 'block_rate_night' is empty; an on-site capable provider "
        "needs its block rates and minimum block hours"
    ]


def test_no_needs_but_visits(data: Path) -> None:
    set_cell(data, "residents", 2, "needs_band", "none")
    assert problems(data) == [
        "residents.csv: row 2, column 'needs_band' is 'none' but the resident has visits in "
        "visits.csv"
    ]


def test_needs_but_no_visits(data: Path) -> None:
    rid = read_rows(data, "residents")[1][0]
    write_rows(data, "visits", [r for r in read_rows(data, "visits") if r[0] != rid])
    band = read_rows(data, "residents")[1][2]
    assert problems(data) == [
        f"residents.csv: row 2, column 'needs_band' is '{band}' but the resident has no visits "
        "in visits.csv"
    ]


def test_named_provider_with_strength_none(data: Path) -> None:
    assert set_cell(data, "residents", 2, "preferred_provider", "P01") == ""
    assert problems(data) == [
        "residents.csv: row 2, column 'preference_strength' is 'none' but preferred_provider is "
        "'P01'; set it to weak or strong, or clear the provider"
    ]


def test_strength_without_provider(data: Path) -> None:
    set_cell(data, "residents", 2, "preference_strength", "strong")
    assert problems(data) == [
        "residents.csv: row 2, column 'preferred_provider' is empty but preference_strength is "
        "'strong'; name the provider or set it to none"
    ]


# --------------------------------------------------------------------------- costs


def test_costs_missing_required_name(data: Path) -> None:
    rows = read_rows(data, "costs")
    # weeks_per_year has a default, framework_term_years does not
    keep = [r for r in rows if r[0] not in ("framework_term_years", "weeks_per_year")]
    write_rows(data, "costs", keep)
    assert problems(data) == [
        "costs.csv: no row named 'framework_term_years' (Length of the framework agreement, "
        "over which admission costs are spread., years)"
    ]


def test_costs_unknown_name(data: Path) -> None:
    rows = read_rows(data, "costs")
    write_rows(data, "costs", rows + [["night_rate_uplift", "0.1", "share", "guess"]])
    assert problems(data) == [
        f"costs.csv: row {len(rows) + 1}, column 'name' = 'night_rate_uplift': not a known cost; "
        "expected one of direct_payment_hourly_rate, direct_payment_admin_per_year, "
        "direct_payment_satisfaction, coordination_per_provider_scheme_per_week, "
        "block_contract_management_per_year, framework_term_years, weeks_per_year, "
        "employer_oncost_rate"
    ]


def test_costs_default_used_when_optional_name_missing(data: Path) -> None:
    write_rows(data, "costs", [r for r in read_rows(data, "costs") if r[0] != "weeks_per_year"])
    assert load_dataset(data).costs["weeks_per_year"] == 52.143


def _set_cost(folder: Path, name: str, value: str) -> None:
    write_rows(folder, "costs", [[r[0], value, *r[2:]] if r[0] == name else r
                                 for r in read_rows(folder, "costs")])


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("framework_term_years", "0", ["costs.csv: framework_term_years must be greater than 0"]),
    ("framework_term_years", "0.5", None),
    ("direct_payment_satisfaction", "101",
     ["costs.csv: direct_payment_satisfaction must be at most 100"]),
    ("direct_payment_satisfaction", "100", None),
    # weeks_per_year may be 1 to 53 inclusive (a 53-week year of weekly pay runs is allowed)
    ("weeks_per_year", "53", None),
    ("weeks_per_year", "1", None),
    ("weeks_per_year", "53.5",
     ["costs.csv: weeks_per_year is 53.5; it turns weekly costs into annual ones, so it must "
      "be between 1 and 53 (365 / 7 = 52.143)"]),
    ("weeks_per_year", "0.5",
     ["costs.csv: weeks_per_year is 0.5; it turns weekly costs into annual ones, so it must "
      "be between 1 and 53 (365 / 7 = 52.143)"]),
])
def test_costs_rules_at_their_bounds(data: Path, name: str, value: str,
                                     expected: list[str] | None) -> None:
    _set_cost(data, name, value)
    if expected is None:
        assert load_dataset(data).costs[name] == float(value)
    else:
        assert problems(data) == expected


def test_zero_and_infinite_numbers_are_refused(data: Path) -> None:
    # Every number column has an upper bound, so infinity meets it before the finiteness rule.
    set_cell(data, "schemes", 2, "mean_call_minutes", "0")
    set_cell(data, "schemes", 3, "mean_call_minutes", "inf")
    assert problems(data) == [
        "schemes.csv: row 2, column 'mean_call_minutes' = 0: must be greater than 0",
        "schemes.csv: row 3, column 'mean_call_minutes' = inf: must be at most 240",
    ]


def test_calls_no_number_of_staff_can_answer(data: Path) -> None:
    # 100 calls an hour of 240 minutes each: 400 erlangs, more than the 200 staff the reserve
    # search allows. Every value is within its own range; together they are impossible.
    set_cell(data, "schemes", 2, "day_calls_per_hour", "100")
    set_cell(data, "schemes", 2, "mean_call_minutes", "240")
    assert problems(data) == [
        "schemes.csv: row 2, scheme S01 (Oakfield Court): 100 day calls an hour taking 240 "
        "minutes each cannot have 90 % reached within 10 minutes by any number of staff (up to "
        "200); check day_calls_per_hour, mean_call_minutes, response_target_minutes and "
        "response_share"]


def test_overlapping_visits_of_one_resident(tmp_path: Path) -> None:
    # A 61-minute visit at 09:00 ends at 10:01, a minute into the 10:00 one (60 minutes would
    # just fit). A 60-minute visit on Sunday at 23:30 runs into the week's first, Monday
    # 00:00 (the week wraps).
    tail = "; a resident has one visit at a time (a visit needing two carers at once is one " \
           "row with carers = 2)"
    data = write_dataset(tmp_path / "a", visits=[
        visit(start="09:00", minutes=61), visit(start="10:00", minutes=30)])
    assert problems(data) == [
        "visits.csv: rows 2 and 3: resident R1's visit on Mon at 09:00 (61 minutes) overlaps "
        "the one on Mon at 10:00" + tail]
    data = write_dataset(tmp_path / "b", visits=[
        visit(start="09:00", minutes=60), visit(start="10:00", minutes=30)])
    load_dataset(data)
    data = write_dataset(tmp_path / "c", visits=[
        visit(day="Mon", start="00:00", minutes=30), visit(day="Sun", start="23:30")])
    assert problems(data) == [
        "visits.csv: rows 3 and 2: resident R1's visit on Sun at 23:30 (60 minutes) overlaps "
        "the one on Mon at 00:00" + tail]


# --------------------------------------------------------------------------- collecting


def test_problems_are_collected_across_tables(data: Path) -> None:
    set_cell(data, "schemes", 2, "flats", "many")
    set_cell(data, "visits", 3, "minutes", "1")
    set_cell(data, "providers", 4, "cqc_rating", "excellent")
    assert problems(data) == [
        "schemes.csv: row 2, column 'flats' = 'many': must be a number",
        "visits.csv: row 3, column 'minutes' = 1: must be at least 5",
        "providers.csv: row 4, column 'cqc_rating' = 'excellent': must be one of outstanding, "
        "good, requires_improvement, inadequate, unrated",
    ]


def test_problems_are_collected_within_a_table(data: Path) -> None:
    set_cell(data, "schemes", 2, "flats", "0")
    set_cell(data, "schemes", 5, "day_min_staff", "x")
    set_cell(data, "schemes", 3, "zone", "")
    set_cell(data, "schemes", 6, "flats", "2000")
    assert problems(data) == [
        "schemes.csv: row 2, column 'flats' = 0: must be at least 1",
        "schemes.csv: row 3, column 'zone' is empty; expected Commissioning zone (locality) the "
        "scheme lies in.",
        "schemes.csv: row 5, column 'day_min_staff' = 'x': must be a number",
        "schemes.csv: row 6, column 'flats' = 2000: must be at most 1000",
    ]


def test_problems_are_in_row_order_by_number(data: Path) -> None:
    """Row 10 comes after row 9 (as numbers, not as text)."""
    set_cell(data, "residents", 10, "weekly_budget", "-5")
    set_cell(data, "residents", 9, "weekly_budget", "-6")
    assert problems(data) == [
        "residents.csv: row 9, column 'weekly_budget' = -6: must be at least 0",
        "residents.csv: row 10, column 'weekly_budget' = -5: must be at least 0",
    ]


def test_long_lists_of_problems_are_cut_with_a_count() -> None:
    many = [f"problem {i}" for i in range(MAX_ERRORS_SHOWN + 3)]
    lines = str(InputError(many)).splitlines()
    assert lines[0] == f"The input data has {MAX_ERRORS_SHOWN + 3} problem(s):"
    assert lines[1:3] == ["  - problem 0", "  - problem 1"]
    assert lines[-1] == "  ... and 3 more problem(s)"
    assert len(lines) == 1 + MAX_ERRORS_SHOWN + 1
    exact = str(InputError(many[:MAX_ERRORS_SHOWN])).splitlines()
    assert len(exact) == 1 + MAX_ERRORS_SHOWN and exact[-1].startswith("  - ")
    one_more = str(InputError(many[:MAX_ERRORS_SHOWN + 1])).splitlines()
    assert one_more[-1] == "  ... and 1 more problem(s)"


def test_non_number_does_not_hide_range_errors_in_its_column(data: Path) -> None:
    set_cell(data, "schemes", 2, "flats", "0")
    set_cell(data, "schemes", 5, "flats", "x")
    assert problems(data) == [
        "schemes.csv: row 2, column 'flats' = 0: must be at least 1",
        "schemes.csv: row 5, column 'flats' = 'x': must be a number",
    ]


def test_a_failure_of_a_whole_column_is_reported_once() -> None:
    """The schema library reports a check that fails on a column as a whole with no row. In
    a column whose bad cells are already named row by row, that line adds nothing and is
    dropped; in any other column it is kept, as row '?'."""
    schemes = next(spec for spec in TABLES if spec.name == "schemes")
    failures = pd.DataFrame([
        {"column": "flats", "index": 0, "check": "must be at least 1", "failure_case": 0.0},
        {"column": "flats", "index": None, "check": "must be at least 1",
         "failure_case": "TypeError"},
        {"column": "zone", "index": None, "check": "must be a zone", "failure_case": False},
    ])
    assert _explain(schemes, failures) == [
        "schemes.csv: row ?, column 'zone' = False: must be a zone",
        "schemes.csv: row 2, column 'flats' = 0: must be at least 1",
    ]


def test_a_type_failure_reads_must_be_a_number_in_number_columns_only() -> None:
    """The schema library names a cell it cannot read as the column's type by its type check.
    In a number column (flats) that is said as 'must be a number'; in a text column (zone) the
    check's own name is kept. Index 1 is spreadsheet row 3 (header row 1, first data row 2)."""
    schemes = next(spec for spec in TABLES if spec.name == "schemes")
    failures = pd.DataFrame([
        {"column": "flats", "index": 1, "check": "coerce_dtype('float64')",
         "failure_case": "many"},
        {"column": "zone", "index": 2, "check": "dtype('str')", "failure_case": "x"},
    ])
    assert _explain(schemes, failures) == [
        "schemes.csv: row 3, column 'flats' = 'many': must be a number",
        "schemes.csv: row 4, column 'zone' = 'x': dtype('str')",
    ]

def test_row_numbers_count_blank_lines(data: Path) -> None:
    set_cell(data, "schemes", 5, "flats", "-1")
    path = data / "schemes.csv"
    lines = path.read_text().split("\n")
    lines.insert(2, "")  # a blank row 3: the broken row moves to spreadsheet row 6
    path.write_text("\n".join(lines))
    assert problems(data) == ["schemes.csv: row 6, column 'flats' = -1: must be at least 1"]


# --------------------------------------------------------------------------- command line


def test_cli_validate_good_data() -> None:
    result = CliRunner().invoke(main, ["validate", str(SHIREFORD)])
    assert result.exit_code == 0, result.output
    assert "valid. 6 schemes" in flat(result.output)


def test_cli_validate_broken_data(data: Path) -> None:
    set_cell(data, "visits", 3, "start", "25:00")
    set_cell(data, "schemes", 2, "flats", "many")
    out = exits_cleanly(CliRunner().invoke(main, ["validate", str(data)]), 1)
    assert "The input data has 2 problem(s)" in out
    assert "visits.csv: row 3, column 'start' = '25:00': must be a time of day such as 08:15" in out
    assert "schemes.csv: row 2, column 'flats' = 'many': must be a number" in out


def test_cli_validate_missing_folder(tmp_path: Path) -> None:
    out = exits_cleanly(CliRunner().invoke(main, ["validate", str(tmp_path / "nowhere")]), 1)
    assert "does not exist" in out


def test_cli_validate_in_a_real_process_prints_no_traceback(data: Path) -> None:
    set_cell(data, "providers", 4, "satisfaction", "101")
    done = subprocess.run([sys.executable, "-m", "optimiser.cli", "validate", str(data)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "providers.csv: row 4, column 'satisfaction' = 101: must be at most 100" in \
        flat(done.stderr)


def test_cli_prints_brackets_in_cells_verbatim(data: Path) -> None:
    set_cell(data, "providers", 2, "cqc_rating", "[/good]")
    out = exits_cleanly(CliRunner().invoke(main, ["validate", str(data)]), 1)
    assert "providers.csv: row 2, column 'cqc_rating' = '[/good]'" in out


def test_cli_solve_with_broken_bundled_data(data: Path, tmp_path: Path) -> None:
    model = tmp_path / "optimised.toml"
    text = (ROOT / "models" / "optimised.toml").read_text()
    assert 'dataset = "data/shireford"' in text
    model.write_text(text.replace('dataset = "data/shireford"', f'dataset = "{data}"'))
    set_cell(data, "residents", 5, "scheme_id", "S99")
    results = tmp_path / "results"
    out = exits_cleanly(CliRunner().invoke(main, ["solve", str(model), "--out", str(results),
                                                  "--no-charts", "--time-limit", "5"]), 1)
    assert "residents.csv: row 5, column 'scheme_id' = 'S99': no such id in schemes.csv" in out
    assert not results.exists()


def test_cli_solve_with_broken_data_keeps_earlier_results(tmp_path: Path) -> None:
    dataset = write_dataset(
        tmp_path / "data",
        residents=[resident(), resident(resident_id="R2")],
        visits=[visit(), visit(resident_id="R2", day="Tue", carers=2)],
    )
    model = write_model(tmp_path, dataset)
    results = tmp_path / "results"
    args = ["solve", str(model), "--out", str(results), "--no-charts"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    before = {p.relative_to(results): p.read_bytes()
              for p in sorted(results.rglob("*")) if p.is_file()}
    assert Path("test/allocations.csv") in before

    set_cell(dataset, "visits", 3, "minutes", "1")
    out = exits_cleanly(CliRunner().invoke(main, args), 1)
    assert "visits.csv: row 3, column 'minutes' = 1: must be at least 5" in out
    after = {p.relative_to(results): p.read_bytes()
             for p in sorted(results.rglob("*")) if p.is_file()}
    assert after == before
    assert sorted(p.name for p in results.iterdir()) == ["test"]  # no staging folder left


def test_cli_unknown_policy_key(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "data")
    model = write_model(tmp_path, dataset, policy={"cqc_flor": "good"}, name="typo")
    out = exits_cleanly(
        CliRunner().invoke(main, ["solve", str(model), "--out", str(tmp_path / "r")]), 1)
    assert "typo.toml: key 'policy.cqc_flor'" in out
    assert not (tmp_path / "r").exists()


def test_cli_invalid_policy_value(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "data")
    model = write_model(tmp_path, dataset, policy={"cqc_floor": "excellent"}, name="bad")
    out = exits_cleanly(
        CliRunner().invoke(main, ["solve", str(model), "--out", str(tmp_path / "r")]), 1)
    assert "bad.toml: key 'policy.cqc_floor'" in out
    assert "'requires_improvement'" in out  # the allowed values are listed
    assert not (tmp_path / "r").exists()


def test_cli_invalid_override(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "data")
    model = write_model(tmp_path, dataset)
    out = exits_cleanly(CliRunner().invoke(main, [
        "solve", str(model), "--out", str(tmp_path / "r"), "--set",
        "policy.max_provider_share=2"]), 1)
    assert "key 'policy.max_provider_share'" in out
