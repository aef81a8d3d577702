"""Marginal costs against hand-worked numbers on the base tiny instance (tests/factory.py).

One member of staff round the clock at GBP 20/h by day and weekend and GBP 30/h at night:
weekday day hours 75, weekend day hours 30, night hours 63 (GBP 3,990 a week).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from factory import write_dataset, write_model

from optimiser.cli import main
from optimiser.inputs.config import load_scenario
from optimiser.studies.marginal import Solved, change_range, marginal_costs, summarise

SHIFTS = {"patterns": [[7, 15], [22, 9]]}


@pytest.fixture()
def model(tmp_path):
    data = write_dataset(tmp_path / "data")
    return write_model(tmp_path, data, shifts=SHIFTS)


def test_marginal_costs_match_the_hand_arithmetic(model):
    table, summary = marginal_costs(load_scenario(model))
    rows = table.set_index(["change", "where"])
    # GBP 1/h more on P1's block rates costs the hours bought at each.
    assert rows.loc[("GBP 1/h more on the block night rate", "P1"), "weekly_gbp"] == 63
    assert rows.loc[("GBP 1/h more on the block day rate", "P1"), "weekly_gbp"] == 75
    assert rows.loc[("GBP 1/h more on the block weekend rate", "P1"), "weekly_gbp"] == 30
    # One more waking-night member of staff: 7 nights x 9 h x GBP 30 = 1,890 a week.
    night = rows.loc[("one more waking-night member of staff every night", "S1")]
    assert night["method"] == "re-solve" and night["weekly_gbp"] == pytest.approx(1890)
    assert night["annual_gbp"] == pytest.approx(1890 * 52)
    # P1 is rated Good: raising the floor from Requires Improvement to Good changes nothing.
    cqc = rows.loc[("CQC floor raised to good", "all providers")]
    assert cqc["weekly_gbp"] == pytest.approx(0)
    assert any("one more waking-night" in line and "+98,280" in line for line in summary)


def test_cli_writes_marginal_costs_where_a_later_solve_keeps_them(model, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["marginal", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 solves of up to 60 s each" in result.output  # 1 + 1 scheme + 3
    path = out / "marginal-test" / "marginal_costs.csv"
    written = path.read_text()
    assert written.splitlines()[0] == ("change,where,method,status,proven,weekly_gbp,annual_gbp,"
                                       "weekly_gbp_low,weekly_gbp_high,note")
    assert "one more waking-night member of staff every night,S1,re-solve,optimal,yes,1890" \
        in written
    solved = CliRunner().invoke(main, ["solve", str(model), "--out", str(out), "--no-charts"])
    assert solved.exit_code == 0, solved.output
    assert path.read_text() == written


def _solved(status: str, cost: float, bound: float | None) -> Solved:
    return Solved(status, cost, bound)


def test_a_time_limited_re_solve_is_unproven_and_never_negative():
    """The defect: the base stopped at its time limit at 10,000 a week (bound 9,000); the
    stricter model's plan costs 9,950 (bound 9,500). The stricter plan also meets the base
    rules, so the base optimum is at most 9,950: the change is 0 at best, not -50, and at
    most 9,950 - 9,000 = 950."""
    estimate, low, high = change_range(_solved("feasible", 10_000, 9_000),
                                       _solved("feasible", 9_950, 9_500))
    assert (estimate, low, high) == (0.0, 0.0, 950.0)
    # Both proven (gap 0): the change is exact.
    assert change_range(_solved("optimal", 100, 100), _solved("optimal", 130, 130)) == \
        (30.0, 30.0, 30.0)
    # No bound known for the base: no upper limit on the change.
    assert change_range(_solved("feasible", 100, None), _solved("optimal", 130, 130))[2] == \
        float("inf")


def test_unproven_changes_are_marked_in_words_and_in_the_table(model):
    table, _ = marginal_costs(load_scenario(model))
    base_annual = 1000.0
    row = table["method"] == "re-solve"
    table.loc[row, "proven"] = "no"
    table.loc[row, "weekly_gbp_low"] = 0.0
    table.loc[row, "weekly_gbp_high"] = 2000.0
    lines = summarise(table, base_annual, 52)
    night = next(line for line in lines if line.startswith("one more waking-night"))
    assert "UNPROVEN" in night and "between GBP +0 and GBP +104,000" in night
