"""Excel in and out: plan.xlsx equals its CSV files sheet by sheet and holds no formula; the
input template round-trips a dataset; malformed workbooks are refused naming sheet, row, column
(and cell); tidied CSVs keep whole numbers as integers and money to the penny."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from factory import provider, resident, visit, write_dataset, write_model
from openpyxl import load_workbook

from optimiser.cli import main
from optimiser.inputs.load import InputError, load_dataset
from optimiser.inputs.workbook import load_workbook_dataset, write_template
from optimiser.plan.columns import tidy
from optimiser.plan.workbook import OVERVIEW, WORKBOOK_NAME, read_sheet
from optimiser.run import solve_file

ROOT = Path(__file__).resolve().parents[1]
SHIREFORD = ROOT / "data" / "shireford"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A small solved plan with two residents, one with a named preference."""
    folder = tmp_path_factory.mktemp("plan")
    data = write_dataset(
        folder / "data",
        providers=[provider(), provider(provider_id="P2", name="=Second Care",
                                        onsite_capable="false", block_rate_day="",
                                        block_rate_night="", block_rate_weekend="",
                                        min_block_hours="")],
        residents=[resident(), resident(resident_id="R2", preferred_provider="P2",
                                        preference_strength="weak")],
        visits=[visit(), visit(resident_id="R2", start="11:00")])
    model = write_model(folder, data)
    outcome = solve_file(model, folder / "results")
    assert outcome.written_to is not None, outcome.problems or outcome.reasons
    return outcome.written_to


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", keep_default_na=False, na_values=[""])


def test_every_table_sheet_equals_its_csv(run_dir: Path) -> None:
    book = run_dir / WORKBOOK_NAME
    assert book.is_file()
    names = load_workbook(book, read_only=True).sheetnames
    assert names[:2] == [OVERVIEW, "Definitions"]
    tables = sorted(p.stem for p in run_dir.glob("*.csv"))
    assert sorted(names[2:]) == tables
    for name in tables:
        csv = _csv(run_dir, name)
        sheet = read_sheet(book, name)
        assert list(sheet.columns) == list(csv.columns), name
        assert len(sheet) == len(csv), name
        for col in csv.columns:
            for a, b in zip(csv[col], sheet[col], strict=True):
                if isinstance(a, str) and a.startswith("'"):
                    a = a[1:]  # the CSV's Excel guard; the sheet stores the text as text
                if pd.isna(a):
                    assert b is None or pd.isna(b) or b == "", (name, col, a, b)
                elif isinstance(a, bool) or isinstance(b, bool):
                    assert str(a).lower() == str(b).lower(), (name, col, a, b)
                elif isinstance(a, int | float):
                    assert b == pytest.approx(a, abs=1e-9), (name, col, a, b)
                else:
                    assert str(a) == str(b), (name, col, a, b)


def test_workbook_has_no_formula_frozen_headers_formats_and_definitions(run_dir: Path) -> None:
    wb = load_workbook(run_dir / WORKBOOK_NAME)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    alloc = wb["allocations"]
    assert alloc.freeze_panes == "A2"
    header = [c.value for c in alloc[1]]
    assert header.index("provider_name") == header.index("provider_id") + 1
    assert header.index("scheme_name") == header.index("scheme_id") + 1
    cost = alloc.cell(row=2, column=header.index("weekly_cost") + 1)
    share = alloc.cell(row=2, column=header.index("share") + 1)
    assert "£" in cost.number_format and "%" in share.number_format
    assert alloc.column_dimensions["E"].width >= 8
    defs = pd.DataFrame(list(wb["Definitions"].iter_rows(values_only=True))[1:],
                        columns=["table", "column", "meaning", "unit"])
    share_row = defs[(defs["table"] == "allocations") & (defs["column"] == "share")].iloc[0]
    assert "share" in share_row["meaning"].lower() and share_row["unit"]
    for name in ("budget_draw", "slack"):
        assert defs.loc[defs["column"] == name, "meaning"].str.len().min() > 10
    texts = [c.value for row in wb[OVERVIEW].iter_rows() for c in row if isinstance(c.value, str)]
    assert any("Annual cost" in t for t in texts)
    assert any(t == "Total" for t in texts)


def test_provider_name_that_looks_like_a_formula_stays_text(run_dir: Path) -> None:
    wb = load_workbook(run_dir / WORKBOOK_NAME)
    values = [c.value for row in wb["allocations"].iter_rows() for c in row]
    assert "=Second Care" in values  # stored as a string, not a formula
    assert "'=Second Care" in (run_dir / "allocations.csv").read_text()


def test_tidied_csv_integers_pennies_and_names(run_dir: Path) -> None:
    text = (run_dir / "rota.csv").read_text().splitlines()
    header = text[0].split(",")
    staff = [line.split(",")[header.index("staff")] for line in text[1:]]
    assert all(s.isdigit() for s in staff)
    summary = _csv(run_dir, "summary").set_index("metric")
    assert str(summary.at["schemes", "value"]) == "1"
    assert summary.at["weekly_cost", "unit"] == "GBP/week"
    alloc = _csv(run_dir, "allocations")
    assert alloc["provider_name"].notna().all()
    for money in ("weekly_cost", "budget_draw"):
        assert (alloc[money].round(2) == alloc[money]).all()
    assert (run_dir / "summary.txt").read_text().startswith("Commissioning model")


def test_tidy_rounds_by_kind_and_keeps_fractions() -> None:
    frame = pd.DataFrame({"resident_id": ["R1", "R2"], "share": [1 / 3, 2 / 3],
                          "weekly_cost": [10.123456, 20.0], "package_hours": [5.0, 6.0],
                          "satisfaction": [80.0, 90.5]})
    out = tidy("allocations", frame)
    assert out["share"].tolist() == [0.333333, 0.666667]
    assert out["weekly_cost"].tolist() == [10.12, 20.0]
    assert str(out["package_hours"].dtype) == "Int64"
    counts = tidy("cover", pd.DataFrame({"reserve": [1.5, 2.0], "on_duty": [2.0, 3.0]}))
    assert counts["reserve"].tolist() == [1.5, 2.0]  # a count that is not whole is kept
    assert str(counts["on_duty"].dtype) == "Int64"


def test_run_json_records_every_package_used(run_dir: Path) -> None:
    import json

    versions = json.loads((run_dir / "run.json").read_text())["versions"]
    for name in ("pyomo", "highspy", "pandas", "numpy", "openpyxl", "pydantic", "matplotlib",
                 "rich", "scipy", "click"):
        assert any(k.lower() == name for k in versions), name


# --------------------------------------------------------------------------- input workbooks

def test_template_round_trips_the_bundled_dataset(tmp_path: Path) -> None:
    book = write_template(tmp_path / "shireford.xlsx", SHIREFORD)
    a, b = load_dataset(SHIREFORD), load_workbook_dataset(book)
    for table in ("schemes", "residents", "visits", "providers"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert a.costs == b.costs
    assert load_dataset(book).costs == a.costs  # load_dataset takes the workbook too


def test_blank_template_has_sheets_dropdowns_and_definitions(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["template", str(tmp_path / "blank.xlsx")])
    assert result.exit_code == 0, result.output
    wb = load_workbook(tmp_path / "blank.xlsx")
    assert {"schemes", "residents", "visits", "providers", "costs", "Definitions"} <= set(
        wb.sheetnames)
    lists = {tuple(dv.sqref.ranges)[0].coord.split(":")[0][0]: dv.formula1
             for dv in wb["providers"].data_validations.dataValidation}
    header = [c.value for c in wb["providers"][1]]
    rating = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[header.index("cqc_rating")]
    assert "outstanding" in lists[rating] and "inadequate" in lists[rating]
    days = [dv.formula1 for dv in wb["visits"].data_validations.dataValidation]
    assert any("Mon" in f and "Sun" in f for f in days)
    assert [c.value for c in wb["costs"]["A"]][1] == "direct_payment_hourly_rate"
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "blank.xlsx")])
    assert result.exit_code == 1
    assert "sheet 'schemes': has no data rows" in result.output


def _filled(tmp_path: Path) -> Path:
    return write_template(tmp_path / "data.xlsx", write_dataset(tmp_path / "csv"))


def _problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_workbook_dataset(path)
    return caught.value.problems


def test_missing_sheet_is_named(tmp_path: Path) -> None:
    path = _filled(tmp_path)
    wb = load_workbook(path)
    del wb["visits"]
    wb.save(path)
    assert any("sheet 'visits' is missing" in p for p in _problems(path))


def _edited(tmp_path: Path, edits: dict[tuple[str, str], object]) -> list[str]:
    """The problems of a filled workbook after setting the given (sheet, cell) values."""
    path = _filled(tmp_path)
    wb = load_workbook(path)
    for (sheet, cell), value in edits.items():
        wb[sheet][cell] = value
    wb.save(path)
    return _problems(path)


def test_wrong_header_is_named(tmp_path: Path) -> None:
    problems = _edited(tmp_path, {("schemes", "D1"): "flat_count"})
    assert any("sheet 'schemes': column 'flats' is missing" in p for p in problems)
    assert any("column 'flat_count' is not expected" in p for p in problems)


def test_text_in_a_number_cell_names_sheet_row_column_and_cell(tmp_path: Path) -> None:
    path = _filled(tmp_path)
    wb = load_workbook(path)
    ws = wb["providers"]
    header = [c.value for c in ws[1]]
    col = header.index("weekly_capacity_hours") + 1
    ws.cell(row=2, column=col, value="lots")
    wb["schemes"]["D2"] = -3
    wb.save(path)
    problems = _problems(path)
    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[col - 1]
    assert (f"sheet 'providers', row 2, column 'weekly_capacity_hours' (cell {letter}2) = "
            "'lots': must be a number") in problems
    assert "sheet 'schemes', row 2, column 'flats' (cell D2) = -3: must be at least 1" in problems


def test_unknown_id_names_the_sheet(tmp_path: Path) -> None:
    problems = _edited(tmp_path, {("residents", "B2"): "S9"})
    assert any(p.startswith("sheet 'residents', row 2, column 'scheme_id' (cell B2)")
               and "no such id in schemes.csv" not in p and "sheet 'schemes'" in p
               for p in problems), problems


def test_times_typed_into_excel_are_read_as_times(tmp_path: Path) -> None:
    import datetime as dt

    path = _filled(tmp_path)
    wb = load_workbook(path)
    wb["visits"]["C2"] = dt.time(10, 0)  # Excel turned "10:00" into a time
    wb.save(path)
    assert load_workbook_dataset(path).visits.at[0, "start"] == "10:00"


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_text("not a workbook")
    assert "cannot be read as an Excel workbook" in _problems(path)[0]


def test_solve_takes_a_workbook_dataset(tmp_path: Path) -> None:
    book = _filled(tmp_path)
    model = write_model(tmp_path, book, name="fromexcel")
    outcome = solve_file(model, tmp_path / "results")
    assert outcome.written_to is not None
    result = CliRunner().invoke(main, ["verify", str(outcome.written_to)])
    assert result.exit_code == 0, result.output


def test_validate_describe_prints_every_table() -> None:
    result = CliRunner().invoke(main, ["validate", "--describe"])
    assert result.exit_code == 0
    for name in ("schemes.csv", "residents.csv", "visits.csv", "providers.csv", "costs.csv",
                 "cqc_rating", "outstanding", "HH:MM", "weeks_per_year"):
        assert name in result.output


def test_top_level_help_summaries_are_whole_sentences() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    commands = result.output.split("Commands:")[1].strip().splitlines()
    assert len(commands) >= 10
    for line in commands:
        assert not line.rstrip().endswith("..."), line
    for name in ("template", "report", "diff", "validate"):
        assert any(line.strip().startswith(name) for line in commands), name


def test_copy_of_shireford_in_excel_validates_from_the_cli(tmp_path: Path) -> None:
    shutil.copytree(SHIREFORD, tmp_path / "shire")
    out = tmp_path / "shire.xlsx"
    result = CliRunner().invoke(main, ["template", str(out), "--from", str(tmp_path / "shire")])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 schemes, 311 residents" in result.output
