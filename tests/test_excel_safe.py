"""Plan tables are opened in Excel: a text cell that Excel would run as a formula (CSV
injection) is written with a leading apostrophe; numbers are written as numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model

from optimiser.plan.files import excel_safe, write_csv
from optimiser.run import solve_file

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Oakfield Court", "Oakfield Court"),
        ("a=b", "a=b"),
        ("", ""),
        ("'already quoted", "'already quoted"),
    ],
)
def test_text_cells(text: str, expected: str) -> None:
    for dtype in (object, "string", "str"):
        frame = pd.DataFrame({"name": pd.Series([text], dtype=dtype)})
        assert excel_safe(frame)["name"].iloc[0] == expected, dtype


def test_numbers_are_untouched() -> None:
    frame = pd.DataFrame({
        "int": [-3, 0, 7],
        "float": [-1.5, 2.25, np.nan],
        "mixed": [-12.5, "=1+1", None],  # an object column like summary.csv's value column
        "flag": [True, False, True],
    })
    safe = excel_safe(frame)
    pd.testing.assert_series_equal(safe["int"], frame["int"])
    pd.testing.assert_series_equal(safe["float"], frame["float"])
    pd.testing.assert_series_equal(safe["flag"], frame["flag"])
    assert safe["mixed"].tolist()[:2] == [-12.5, "'=1+1"]
    assert safe["mixed"].iloc[2] is None
    assert frame["mixed"].iloc[1] == "=1+1"  # the input frame is not changed


def test_write_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "name": ["=cmd|' /C calc'!A0", "Beech Lodge", "-minus"],
        "weekly_gbp": [-125.5, 1 / 3, 1e7],
        "staff": [2, -1, 0],
    })
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    raw = path.read_bytes()
    assert b"\r\n" not in raw
    assert raw.decode("utf-8").splitlines() == [
        "name,weekly_gbp,staff",
        "'=cmd|' /C calc'!A0,-125.5,2",
        "Beech Lodge,0.3333333333,-1",
        "'-minus,10000000,0",
    ]


def test_plan_from_hostile_names_has_no_formula_cells(tmp_path: Path) -> None:
    """Scheme and provider names as an attacker (or a careless paste) might write them."""
    dataset = write_dataset(
        tmp_path / "data",
        schemes=[scheme(name='=HYPERLINK("x")')],
        providers=[
            provider(name="+Plus Care"),
            offsite(provider_id="P2", name="-Minus Care", framework_rate_day=10),
            offsite(provider_id="P3", name="@At Care", framework_rate_day=11),
        ],
        residents=[
            resident(),
            resident(resident_id="R2", preferred_provider="P2", preference_strength="strong"),
            resident(resident_id="R3", preferred_provider="P3", preference_strength="strong"),
        ],
        visits=[visit(), visit(resident_id="R2"), visit(resident_id="R3", day="Sat")],
    )
    model = write_model(tmp_path, dataset)
    outcome = solve_file(model, tmp_path / "results", verify=True, charts=False)
    assert outcome.written_to is not None, outcome.reasons or outcome.result
    cells: list[str] = []
    for path in sorted(outcome.written_to.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            cells += [cell for row in csv.reader(fh) for cell in row]
    for cell in cells:
        if cell.startswith("-"):
            float(cell)  # a negative number is fine; text starting with '-' is not
        else:
            assert not cell.startswith(DANGEROUS), cell
    # the names did reach the tables, defused
    for name in ('=HYPERLINK("x")', "+Plus Care", "-Minus Care", "@At Care"):
        assert "'" + name in cells
        assert name not in cells
