"""Commissioning models side by side: each model's defining rule, optimised as a relaxation,
and a ranking of models worked out by hand.

The tiny models use the route switches of the real files in models/ (so a change to a model's
rules shows here), on the base instance of tests/factory.py: one scheme, 1 member of staff
day and night, no calls, on-site provider P1 at GBP 20/h by day and weekend, 30 at night
(22:00-07:00), GBP 25/h when paid by the hour. With the shifts 07:00-22:00 (15 h) and
22:00-07:00 (9 h) the round-the-clock core costs 5 x 15 x 20 + 2 x 15 x 20 + 7 x 9 x 30 =
GBP 3,990 a week.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model

from optimiser.cli import main
from optimiser.inputs.config import load_scenario
from optimiser.inputs.load import InputError
from optimiser.studies.compare import (
    COLUMNS,
    FAILED_VERIFICATION,
    INPUT_ERROR,
    RULES_UNMET,
    compare_models,
    comparison_table,
    write_comparison,
)

MODELS = Path(__file__).resolve().parents[1] / "models"
ROUTE_SWITCHES = ("require_24h_cover", "allow_block_care", "allow_onsite_spot",
                  "allow_framework", "direct_payments", "single_framework_rate")
DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}
BASE = 3990.0
SINGLE_RATE = 20.0  # the tiny single-rate model's rate, for easy arithmetic


def switches(model: str) -> dict[str, object]:
    """The route switches of a real model file: what makes that model what it is."""
    policy = tomllib.loads((MODELS / f"{model}.toml").read_text(encoding="utf-8"))["policy"]
    return {key: policy[key] for key in ROUTE_SWITCHES if key in policy}


def tiny_models(folder: Path, dataset: Path) -> list[Path]:
    """The five models on a tiny dataset; every rule but the routes left at its default."""
    policies = {name: switches(name) for name in
                ("optimised", "block", "core-addon", "framework", "single-rate")}
    policies["single-rate"]["single_framework_rate"] = SINGLE_RATE
    return [write_model(folder, dataset, policy=policy, shifts=DAY_NIGHT, name=name)
            for name, policy in policies.items()]


def allocations(run) -> pd.DataFrame:
    """The allocations table as written (and verified) in the run's folder."""
    return pd.read_csv(run.outcome.written_to / "allocations.csv")


# Ranking instance. R1 and R2 each have a 1-hour visit on Monday at 10:00. P1 (on site) and P2
# (off site, GBP 22/h) both pay 15 minutes' travel on framework visits; P1 bought from the
# budget on site pays none.
#   optimised:   R1 under the block, with the member of staff already on duty: 0. R2 would
#                need a second carer on duty (a 15-hour shift, 300), so P1 from the budget,
#                25 (P2 costs 22 x 75/60 = 27.50): 3990 + 25 = 4015.
#   block:       both under the block: a second 15-hour day shift on Monday, 15 x 20 = 300:
#                4290.
#   core-addon:  no care under the block: P1 from the budget for both, 2 x 25: 4040.
#   framework:   neither under the block nor bought on site: P2 for both, 2 x 27.50 (P1 on
#                the framework costs 25 x 75/60 = 31.25): 4045.
#   single-rate: optimised's routes at GBP 20 an hour for everyone: R1 under the block, R2
#                from P1 on site at 20: 4010. Cheaper than optimised because the council
#                sets the price, not because of the routes.
RANKING = {"single-rate": BASE + 20, "optimised": BASE + 25, "core-addon": BASE + 50,
           "framework": BASE + 55, "block": BASE + 300}


@pytest.fixture(scope="module")
def ranking(tmp_path_factory):
    root = tmp_path_factory.mktemp("ranking")
    data = write_dataset(
        root / "data",
        providers=[provider(travel_minutes_per_visit=15),
                   offsite(provider_id="P2", framework_rate_day=22, travel_minutes_per_visit=15)],
        residents=[resident(), resident(resident_id="R2")],
        visits=[visit(), visit(resident_id="R2")],
    )
    runs = compare_models(tiny_models(root, data), root / "results")
    return {run.name: run for run in runs}, root


def test_every_model_has_a_verified_plan(ranking):
    runs, _ = ranking
    for name, run in runs.items():
        assert run.has_plan, (name, run.status, run.reasons)
        assert run.status == "optimal"


def test_block_gives_all_care_under_the_block(ranking):
    runs, _ = ranking
    kinds = set(allocations(runs["block"])["route_kind"])
    assert not kinds & {"framework", "spot"}
    assert kinds == {"block"}  # nobody asked for a direct payment


def test_core_addon_gives_no_planned_care_under_the_block(ranking):
    runs, _ = ranking
    assert "block" not in set(allocations(runs["core-addon"])["route_kind"])
    assert len(runs["core-addon"].outcome.plan.block_contracts) == 1  # the core is still there


def test_framework_buys_planned_care_only_from_the_framework(ranking):
    runs, _ = ranking
    assert set(allocations(runs["framework"])["route_kind"]) <= {"framework", "direct"}


def test_ranking_worked_out_by_hand(ranking):
    runs, _ = ranking
    weekly = {name: run.outcome.result.objective for name, run in runs.items()}
    assert weekly == pytest.approx(RANKING, abs=0.01)
    assert sorted(weekly, key=weekly.get) == list(RANKING)


def test_optimised_is_never_dearer_than_a_model_with_fewer_routes(ranking):
    runs, _ = ranking
    optimised = runs["optimised"].outcome.result.objective
    for name in ("block", "core-addon", "framework"):
        assert optimised <= runs[name].outcome.result.objective + 0.01, name


def test_optimised_relaxes_each_model_on_a_mixed_instance(tmp_path):
    # Two schemes, a double-up, a night visit, a direct-payment request, two framework
    # providers with travel and admission costs: whatever each model's optimum is, optimised
    # (all routes open, the same other rules) can copy it, so it is never dearer.
    data = write_dataset(
        tmp_path / "data",
        schemes=[scheme(), scheme(scheme_id="S2", name="Willow House", zone="South",
                                  night_min_staff=2)],
        providers=[provider(zones="North|South", travel_minutes_per_visit=10),
                   offsite(provider_id="P2", zones="North|South", framework_rate_day=21,
                           travel_minutes_per_visit=12, framework_admission_cost=780),
                   offsite(provider_id="P3", zones="South", framework_rate_day=23,
                           framework_rate_night=28, travel_minutes_per_visit=5)],
        residents=[resident(), resident(resident_id="R2"),
                   resident(resident_id="R3", scheme_id="S2", wants_direct_payment="true"),
                   resident(resident_id="R4", scheme_id="S2"),
                   resident(resident_id="R5", scheme_id="S2")],
        visits=[visit(), visit(resident_id="R2", start="10:30", minutes=45),
                visit(resident_id="R2", day="Sat", start="08:00"),
                visit(resident_id="R3"), visit(resident_id="R4", minutes=30, carers=2),
                visit(resident_id="R5", start="23:00", minutes=30),
                visit(resident_id="R5", day="Tue", start="10:00", minutes=90)],
    )
    runs = {run.name: run for run in compare_models(tiny_models(tmp_path, data)[:4],
                                                    tmp_path / "results")}
    assert all(run.has_plan for run in runs.values()), {n: r.reasons for n, r in runs.items()}
    optimised = runs["optimised"].outcome.result.objective
    for name in ("block", "core-addon", "framework"):
        assert optimised <= runs[name].outcome.result.objective + 0.01, name


def test_single_rate_pays_every_provider_the_same_rate(tmp_path):
    # R1 strongly prefers P2 (own rates 25 by day, 35 at night, 15 minutes' travel), so the
    # framework is used: a 30-minute double-up at 23:00 (2 x 45 paid minutes = 1.5 h) and a
    # 1-hour visit on Monday at 10:00 (75 paid minutes = 1.25 h): 2.75 h x GBP 20 = 55,
    # where P2's own rates would give 1.5 x 35 + 1.25 x 25 = 83.75.
    data = write_dataset(
        tmp_path / "data",
        providers=[provider(), offsite(provider_id="P2", travel_minutes_per_visit=15)],
        residents=[resident(preferred_provider="P2", preference_strength="strong")],
        visits=[visit(), visit(day="Tue", start="23:00", minutes=30, carers=2)],
    )
    policy = {**switches("single-rate"), "single_framework_rate": SINGLE_RATE}
    model = write_model(tmp_path, data, policy=policy, shifts=DAY_NIGHT, name="single-rate")
    (run,) = compare_models([model], tmp_path / "results")
    assert run.has_plan, run.reasons
    framework = allocations(run).query("route_kind == 'framework'")
    assert list(framework["provider_id"]) == ["P2"]
    visits = pd.read_csv(data / "visits.csv")
    paid_hours = (visits["carers"] * (visits["minutes"] + 15) / 60).sum()
    assert paid_hours == pytest.approx(2.75)
    assert framework["weekly_cost"].tolist() == pytest.approx([paid_hours * SINGLE_RATE])
    assert run.outcome.result.objective == pytest.approx(BASE + 55)


def test_model_files_state_their_defining_rules():
    block, core, framework, single, optimised = (
        load_scenario(MODELS / f"{name}.toml").policy
        for name in ("block", "core-addon", "framework", "single-rate", "optimised"))
    assert (block.allow_block_care, block.allow_onsite_spot, block.allow_framework) == (
        True, False, False)
    assert (core.allow_block_care, core.allow_onsite_spot, core.allow_framework) == (
        False, True, True)
    assert (framework.allow_block_care, framework.allow_onsite_spot,
            framework.allow_framework) == (False, False, True)
    assert single.single_framework_rate is not None and single.cqc_floor == "good"
    assert optimised.single_framework_rate is None
    for policy in (block, core, framework, single, optimised):
        assert policy.require_24h_cover and policy.direct_payments == "on_request"


def test_single_rate_must_be_positive(tmp_path):
    data = write_dataset(tmp_path / "data")
    model = write_model(tmp_path, data, policy={"single_framework_rate": 0})
    with pytest.raises(InputError, match="single_framework_rate"):
        load_scenario(model)


def test_models_without_a_plan_are_rows_that_say_why(tmp_path):
    # P1 can supply 100 hours a week but the scheme needs 168 staff-hours: no plan. A second
    # model file has a typo in a policy key. Both are rows with their status and reason.
    data = write_dataset(tmp_path / "data", providers=[provider(weekly_capacity_hours=100)])
    short = write_model(tmp_path, data, shifts=DAY_NIGHT, name="short")
    typo = write_model(tmp_path, data, policy={"alow_framework": True}, name="typo")
    runs = compare_models([short, typo], tmp_path / "results")
    table = comparison_table(runs)
    assert list(table.columns) == list(COLUMNS)
    assert list(table["status"]) == [RULES_UNMET, INPUT_ERROR]
    assert "providers' weekly capacity" in table.at[0, "reason"]
    assert "alow_framework" in table.at[1, "reason"]
    assert table["annual_cost"].isna().all()
    folder = write_comparison(table, tmp_path / "results")
    written = pd.read_csv(folder / "comparison.csv")
    assert list(written["model"]) == ["short", "typo"]
    assert (folder / "cost_lines.png").stat().st_size > 0
    assert not (tmp_path / "results" / "short").exists()


def test_compare_command_writes_the_comparison(ranking):
    runs, root = ranking
    files = [root / f"{name}.toml" for name in ("optimised", "block")]
    out = root / "cli"
    result = CliRunner().invoke(main, ["compare", *map(str, files), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "compare" / "comparison.csv")
    assert list(table["model"]) == ["optimised", "block"]
    assert table["annual_cost"].tolist() == pytest.approx(
        [RANKING["optimised"] * 52, RANKING["block"] * 52], abs=1)
    assert table.at[1, "onsite_share_of_planned_care"] == pytest.approx(1.0)
    assert "Commissioning models side by side" in result.output
    assert FAILED_VERIFICATION not in result.output
    assert not list((out / "compare").glob(".*"))  # no temporary files left behind


def test_an_interrupted_solve_stops_the_comparison(tmp_path, monkeypatch):
    # Ctrl-C during the first model: the second is not solved, and the command writes no
    # comparison (a table silently missing models would mislead).
    from optimiser.run import Outcome
    from optimiser.solving.highs import INTERRUPTED, SolveResult
    from optimiser.studies import compare

    def interrupted(scenario, out_root, progress=None):
        return Outcome(scenario=scenario, result=SolveResult(INTERRUPTED, "Interrupt"))

    monkeypatch.setattr(compare, "solve_scenario", interrupted)
    data = write_dataset(tmp_path / "data")
    files = [write_model(tmp_path, data, name=name) for name in ("first", "second")]
    runs = compare_models(files, tmp_path / "results")
    assert [run.name for run in runs] == ["first"] and runs[0].interrupted
    result = CliRunner().invoke(main, ["compare", *map(str, files), "--out",
                                       str(tmp_path / "results")])
    assert result.exit_code == 130
    assert not (tmp_path / "results" / "compare").exists()


# The models with rules beyond the route switches, on the ranking instance (two 1-hour
# Monday visits; on-site P1 at 25 from the budget, P2 at 22 x 75/60 = 27.50 on the framework).
DEFINING = {
    "micro": ("allow_block_care", "allow_onsite_spot", "cover_funding"),
    "core-flexi": ("allow_block_care", "cash_allocation_share"),
    "tiers": ("support_tiers", "tier_visits_per_week", "tier_visit_minutes"),
    "zones": ("allow_onsite_spot", "min_framework_per_zone", "max_framework_per_zone",
              "framework_monitoring_factor", "outcome_payment_share", "reablement_share",
              "reablement_bonus"),
    "cost-quality": ("call_off_in_rank_order", "rank_price_weight",
                     "framework_monitoring_factor"),
    "outcomes": ("outcome_payment_share", "reablement_share", "reablement_no_care",
                 "reablement_reduced", "reablement_reduction", "reablement_weeks",
                 "reablement_bonus"),
}


def defining(model: str) -> dict[str, object]:
    policy = tomllib.loads((MODELS / f"{model}.toml").read_text(encoding="utf-8"))["policy"]
    return {key: policy[key] for key in DEFINING[model]}


@pytest.fixture(scope="module")
def paper_models(ranking):
    _, root = ranking
    data = root / "data"
    (root / "papers").mkdir()
    files = [write_model(root / "papers", data, policy=defining(name), shifts=DAY_NIGHT,
                         name=name) for name in DEFINING]
    runs = compare_models(files, root / "papers" / "results")
    return {run.name: run for run in runs}


def test_every_paper_model_has_a_verified_plan(paper_models):
    for name, run in paper_models.items():
        assert run.has_plan and run.status == "optimal", (name, run.status, run.reasons)


def test_micro_loses_cover_the_pool_cannot_pay_for(paper_models):
    # Budgets 2 x 1000 plus 10 % = 2200. Keeping cover (council pays), both visits are bought
    # from P1 on site at 25: 2200 - 50 = 2150 left for a team costing 3990: short by 1840 a
    # week. So no team; both visits from P2 on the framework at 27.50: GBP 55 a week.
    run = paper_models["micro"]
    plan = run.outcome.plan
    assert plan.block_contracts.empty
    assert run.outcome.result.objective == pytest.approx(55.0)
    funding = plan.extras["cover_funding"].iloc[0]
    assert funding["restore_cost_weekly"] == pytest.approx(1840.0)
    row = comparison_table([run]).iloc[0]
    assert row["cover_restore_cost_annual"] == pytest.approx(1840.0 * 52)
    assert "lose 24-hour cover" in row["findings"]


def test_core_flexi_pays_cash_and_keeps_care_off_the_block(paper_models):
    # Cash 10 % of 2 x 1000 = 200; both visits from P1 on site at 25: 3990 + 50 + 200.
    run = paper_models["core-flexi"]
    assert "block" not in set(allocations(run)["route_kind"])
    assert run.outcome.result.objective == pytest.approx(BASE + 250)


def test_zones_have_exactly_one_provider_per_zone(paper_models):
    alloc = allocations(paper_models["zones"])
    assert len(paper_models["zones"].outcome.plan.framework) == 1
    hourly = alloc[alloc["route_kind"].isin(["framework", "spot"])]
    assert hourly["provider_id"].nunique() == 1 and set(hourly["route_kind"]) == {"framework"}


def test_cost_quality_calls_off_the_best_ranked_admitted_provider(paper_models):
    run = paper_models["cost-quality"]
    ranking = run.outcome.plan.extras["ranking"]
    admitted = ranking[ranking["admitted"]].sort_values("rank")
    framework = allocations(run).query("route_kind == 'framework'")
    assert set(framework["provider_id"]) <= {admitted["provider_id"].iloc[0]} | set(
        ranking.loc[ranking["full"], "provider_id"])


def test_tiers_and_outcomes_write_their_tables(paper_models):
    assert set(paper_models["tiers"].outcome.plan.extras["tiers"]["tier"]) == {2}
    fw = allocations(paper_models["outcomes"]).query("route_kind in ['framework', 'spot']")
    # Spot at P1 (a = 0.8): 25 x 0.95 x (1 - 0.1 x 0.8 x 0.625 x 46/52) + 0.1 x 0.8 x 0.52
    # x 400 / 52 = 23.0128 a visit.
    expected = 25 * 0.95 * (1 - 0.05 * 46 / 52) + 0.08 * 0.52 * 400 / 52
    assert fw["weekly_cost"].tolist() == pytest.approx([expected] * len(fw), abs=0.01)


def test_optimised_is_never_dearer_than_cost_quality(ranking, paper_models):
    runs, _ = ranking
    assert runs["optimised"].outcome.result.objective <= (
        paper_models["cost-quality"].outcome.result.objective + 0.01)
