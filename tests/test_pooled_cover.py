"""Cover paid from pooled budgets (micro-commissioning), checked against hand arithmetic.

One scheme whose on-site team costs GBP 3,990 a week (one member of staff round the clock, see
test_model_rules.py) and one resident with a 1-hour weekday visit, bought from the on-site
provider by the hour at GBP 25. The pool is the budget plus the 10 % top-up.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model

from optimiser.inputs.load import load_dataset
from optimiser.plan.checks import build_context, check_pooled_cover, verify_folder
from optimiser.run import solve_file
from optimiser.studies.sweep import SweepSpec, parse_vary, run_sweep

MICRO = {"allow_block_care": False, "cover_funding": "pooled_budgets"}
DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}


def micro(tmp_path, budget: float):
    data = write_dataset(tmp_path / "data", residents=[resident(weekly_budget=budget)])
    model = write_model(tmp_path, data, policy=MICRO, shifts=DAY_NIGHT)
    outcome = solve_file(model, tmp_path / "results", charts=False)
    assert outcome.result is not None and outcome.result.status == "optimal", outcome.reasons
    assert outcome.problems == [], outcome.problems
    assert verify_folder(outcome.written_to) == []
    return outcome


def test_a_pool_that_can_pay_keeps_the_cover(tmp_path):
    # Pool 5000 x 1.1 = 5500; care draws 25, leaving 5475 >= 3990: cover kept, 3990 + 25.
    out = micro(tmp_path, 5000)
    assert out.plan.cost_lines.set_index("line").at["total", "weekly_gbp"] == pytest.approx(4015)
    table = out.plan.extras["cover_funding"].iloc[0]
    assert bool(table["has_24h_cover"]) and table["restore_cost_weekly"] == 0
    assert table["pooled_budgets"] == pytest.approx(5500)


def test_a_pool_that_cannot_pay_loses_the_cover_and_prices_restoring_it(tmp_path):
    # Pool 3000 x 1.1 = 3300; care draws 25, leaving 3275 < 3990: the scheme loses its
    # cover; restoring it needs 3990 - 3275 = 715 a week (52 weeks: 37,180 a year). Without a
    # team on site the visit is bought from P1 as a framework provider at the same GBP 25.
    out = micro(tmp_path, 3000)
    assert out.plan.block_contracts.empty
    assert out.plan.cost_lines.set_index("line").at["total", "weekly_gbp"] == pytest.approx(25)
    row = out.plan.extras["cover_funding"].iloc[0]
    assert not bool(row["has_24h_cover"])
    assert row["restore_cost_weekly"] == pytest.approx(715)
    assert row["restore_cost_annual"] == pytest.approx(37180)
    assert out.scenario.policy.min_schemes_with_cover == 0  # no plan keeps the one scheme
    assert any("lose 24-hour cover" in note for note in out.notes)


def test_checker_refuses_a_team_the_pool_cannot_pay_for(tmp_path):
    # A plan made with a 5000 budget, checked against data where the budget is 3000: the
    # team (3990) plus care (25) exceed the 3300 pool, and the checker says so.
    out = micro(tmp_path / "ok", 5000)
    data = write_dataset(tmp_path / "poor", residents=[resident(weekly_budget=3000)])
    ctx = build_context(out.written_to, load_dataset(data), out.scenario)
    problems = check_pooled_cover(ctx)
    assert problems == [
        "budget: scheme S1 (Oakfield Court) packages and on-site team cost GBP 4,015.00 a week, "
        "above the pooled budgets plus top-up (GBP 3,300.00) that must pay for both"]
    # Checked against data where the one resident lives at another scheme, S2: Oakfield Court
    # has no budgets to pool at all (GBP 0), while its team still costs 3,990.
    elsewhere = write_dataset(tmp_path / "elsewhere", schemes=[
        scheme(), scheme(scheme_id="S2", name="Willow House")],
        residents=[resident(scheme_id="S2", weekly_budget=5000)])
    ctx = build_context(out.written_to, load_dataset(elsewhere), out.scenario)
    assert check_pooled_cover(ctx) == [
        "budget: scheme S1 (Oakfield Court) packages and on-site team cost GBP 3,990.00 a week, "
        "above the pooled budgets plus top-up (GBP 0.00) that must pay for both"]
    # The plan's rota taken out (a block holder with no team written), checked against a
    # budget of 23.20 (pool 25.52): the care alone (25.00) is within it, and a team that is not
    # there costs nothing.
    bare = shutil.copytree(out.written_to, tmp_path / "bare")
    rota = pd.read_csv(bare / "rota.csv", dtype=str)
    rota.iloc[0:0].to_csv(bare / "rota.csv", index=False)
    thin = write_dataset(tmp_path / "thin", residents=[resident(weekly_budget=23.2)])
    assert check_pooled_cover(build_context(bare, load_dataset(thin), out.scenario)) == []


def test_a_sweep_solves_micro_in_two_stages(tmp_path):
    # Budgets x1 (pool 5500): cover kept, 4015 a week. Budgets x0.6 (3000, pool 3300): cover
    # lost, 25 a week, restoring it 715 a week = 37,180 a year (see the tests above).
    data = write_dataset(tmp_path / "data", residents=[resident(weekly_budget=5000)])
    model = write_model(tmp_path, data, policy=MICRO, shifts=DAY_NIGHT)
    spec = SweepSpec(model_file=model, varies=(parse_vary("budgets*=1,0.6"),))
    outcome = run_sweep(spec, tmp_path / "sweep")
    table = pd.read_csv(outcome.folder / "sweep.csv")
    table = table[table["varied"] != "base"].set_index("budgets*")
    assert table.at[1.0, "annual_cost"] == pytest.approx(4015 * 52)
    assert table.at[1.0, "schemes_without_cover"] == 0
    assert table.at[0.6, "annual_cost"] == pytest.approx(25 * 52)
    assert table.at[0.6, "schemes_without_cover"] == 1
    assert table.at[0.6, "cover_restore_cost_annual"] == pytest.approx(37180)


def test_cover_is_kept_where_some_plan_leaves_the_pool_enough(tmp_path):
    # Four 1-hour weekday visits. The council's cheapest way is the on-site provider by the hour
    # (4 x 25 = 100, drawing 100); a framework provider P2 at GBP 20/h draws only 80 but costs
    # the council GBP 40 a week more to admit (2,080 a year, a 1-year term): 120.
    # Budget 3,710: pool 4,081. With the council's cheapest care the pool needs 3,990 + 100 =
    # 4,090 (short by 9), but with P2's care it needs 3,990 + 80 = 4,070 <= 4,081: cover is
    # kept, at 3,990 + 80 + 40 = 4,110 a week, the pool paying 4,070.
    visits = [visit(day=d) for d in ("Mon", "Tue", "Wed", "Thu")]
    providers = [provider(), offsite(provider_id="P2", name="Two", framework_rate_day=20,
                                     framework_admission_cost=2080)]
    data = write_dataset(tmp_path / "data", residents=[resident(weekly_budget=3710)],
                         visits=visits, providers=providers)
    model = write_model(tmp_path, data, policy=MICRO, shifts=DAY_NIGHT)
    out = solve_file(model, tmp_path / "results", charts=False)
    assert out.result is not None and out.result.status == "optimal", out.reasons
    assert out.problems == [], out.problems
    assert out.result.objective == pytest.approx(4110)
    row = out.plan.extras["cover_funding"].iloc[0]
    assert bool(row["has_24h_cover"]) and row["restore_cost_weekly"] == 0
    assert row["care_drawn"] + row["team_cost"] == pytest.approx(4070)
    assert out.scenario.policy.min_schemes_with_cover == 1
