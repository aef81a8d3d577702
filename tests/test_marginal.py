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
from optimiser.studies.marginal import marginal_costs

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


def test_cli_writes_marginal_costs(model, tmp_path):
    result = CliRunner().invoke(main, ["marginal", str(model), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out" / "test" / "marginal_costs.csv").read_text()
    assert written.splitlines()[0] == "change,where,method,status,weekly_gbp,annual_gbp,note"
    assert "one more waking-night member of staff every night,S1,re-solve" in written
