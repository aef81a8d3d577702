"""Sensitivity sweeps on tiny instances whose costs are worked out by hand.

Base instance (tests/factory.py) with a day shift 07:00-22:00 and a waking night 22:00-07:00:
one member of staff round the clock costs 1500 + 600 at GBP 20 (weekday and weekend days)
plus 63 night hours at GBP 30 = 1890, GBP 3,990 a week. Scaling night rates by f gives
2100 + 1890 f a week.
"""

from __future__ import annotations

import pandas as pd
import pytest
from factory import offsite, provider, write_dataset, write_model

from optimiser.inputs.load import InputError
from optimiser.studies import sweep
from optimiser.studies.sweep import (
    FACTORIAL,
    SweepSpec,
    Vary,
    load_sweep_file,
    parse_values,
    parse_vary,
    plan_scenarios,
    run_sweep,
)

DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}
NIGHT_FACTORS = (1.0, 1.1, 1.2, 1.3)


def night_cost(factor: float) -> float:
    return 2100 + 1890 * factor


@pytest.fixture()
def model(tmp_path):
    data = write_dataset(tmp_path / "data")
    return write_model(tmp_path, data, shifts=DAY_NIGHT)


def spec_of(model, *varies: str, **kwargs) -> SweepSpec:
    return SweepSpec(model_file=model, varies=tuple(parse_vary(v) for v in varies), **kwargs)


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    """The table without timings and whether a process reused its HiGHS model, which depend
    on how scenarios were shared out."""
    return table.drop(columns=["seconds", "model"])


# --- specs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "values"), [
    ("1.0:1.3:0.05", (1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3)),
    ("0.1:0.3:0.1", (0.1, 0.2, 0.3)),  # float-safe: 0.1 + 2 * 0.1 still ends the range
    ("1:1.25:0.1", (1.0, 1.1, 1.2)),  # the stop is kept only when a step lands on it
    ("0.9,1.0,1.1", (0.9, 1.0, 1.1)),
    ("1.2", (1.2,)),
    ("2..6", (2, 3, 4, 5, 6)),
    ("[requires_improvement, good]", ("requires_improvement", "good")),
    ("[true,false]", (True, False)),
])
def test_value_forms(text, values):
    assert parse_values("x", text) == values


def test_integer_ranges_stay_integers():
    assert all(isinstance(v, int) for v in parse_values("x", "2..4"))
    assert all(isinstance(v, float) for v in parse_values("x", "0.9,1.0"))


@pytest.mark.parametrize(("spec", "words"), [
    ("rates.night*", "PARAM=VALUES"),
    ("rates.nite*=1.1", "not a known scaling"),
    ("rates.night*=1.3:1.0:0.1", "end before it starts"),
    ("rates.night*=1.0:1.3:0", "above zero"),
    ("rates.night*=1.0:1.3", "start:stop:step"),
    ("rates.night*=0.9,abc", "factors above zero"),
    ("rates.night*=-1,1", "factors above zero"),
    ("demand*=", "no values"),
    ("policy.min_framework_per_zone=6..2", "end before it starts"),
    ("policy.min_framework_per_zone=2..x", "whole numbers"),
    ("policy.cqc_floor=[good", "must end with ']'"),
    ("budgets*=1.0,1.0", "listed twice"),
    ("Policy Floor=1", "neither a scaling nor a model-file key"),
])
def test_bad_specs_are_refused_naming_the_spec(spec, words):
    with pytest.raises(InputError) as err:
        parse_vary(spec)
    assert words in str(err.value)
    assert f"'{spec}'" in str(err.value)


def test_model_file_values_are_checked_before_solving(model):
    with pytest.raises(InputError, match="policy.cqc_floor=excellent"):
        plan_scenarios(spec_of(model, "policy.cqc_floor=[good,excellent]"))
    with pytest.raises(InputError, match="varied twice"):
        plan_scenarios(spec_of(model, "demand*=1.1", "demand*=1.2"))
    with pytest.raises(InputError, match="not one of"):
        plan_scenarios(spec_of(model, "demand*=1.1", mode="everything"))


def test_scenario_counts_one_at_a_time_and_factorial(model):
    varies = ("rates.night*=1.0:1.2:0.1", "demand*=0.9,1.1", "policy.cqc_floor=[good]")
    one = plan_scenarios(spec_of(model, *varies))
    assert len(one) == 1 + 3 + 2 + 1  # the base, then each parameter alone
    assert one[0].varied == "base" and one[0].scalings == {}
    assert one[4].scalings == {"demand*": 0.9}
    assert one[4].values == {"rates.night*": 1.0, "demand*": 0.9,
                             "policy.cqc_floor": "requires_improvement"}
    full = plan_scenarios(spec_of(model, *varies, mode=FACTORIAL))
    assert len(full) == 3 * 2 * 1
    assert [t.scenario_id for t in full] == sorted(t.scenario_id for t in full)
    randoms = plan_scenarios(spec_of(model, random=5, seed=3))
    assert [t.draw for t in randoms] == [(3, i, 0.1) for i in range(1, 6)]


def test_sweep_file(tmp_path, model):
    path = tmp_path / "night.toml"
    path.write_text(f'model = "{model}"\nmode = "factorial"\nseed = 7\n'
                    'vary = ["rates.night*=1.0,1.1", "policy.min_framework_per_zone=0..1"]\n'
                    '[set]\n"solver.time_limit" = 30\n', encoding="utf-8")
    spec = load_sweep_file(path)
    assert spec.mode == FACTORIAL and spec.seed == 7
    assert spec.varies == (Vary("rates.night*", (1.0, 1.1)),
                           Vary("policy.min_framework_per_zone", (0, 1)))
    assert spec.fixed == {"solver.time_limit": 30}
    path.write_text(f'model = "{model}"\nvaries = []\n', encoding="utf-8")
    with pytest.raises(InputError, match="unknown key"):
        load_sweep_file(path)


def test_bundled_sweep_files_parse():
    from pathlib import Path

    files = sorted(Path(__file__).parent.parent.glob("sweeps/*.toml"))
    assert files
    for path in files:
        assert plan_scenarios(load_sweep_file(path))


# --- running ---------------------------------------------------------------------------------


def test_night_rate_sweep_costs_by_hand(tmp_path, model):
    out = run_sweep(spec_of(model, "rates.night*=1.0:1.3:0.1"), tmp_path / "out")
    table = out.table
    assert list(table["status"]) == ["optimal"] * 5
    night = table[table["varied"] == "rates.night*"]
    assert list(night["rates.night*"]) == pytest.approx(NIGHT_FACTORS)
    expected = [night_cost(f) for f in NIGHT_FACTORS]
    assert list(night["objective_weekly"]) == pytest.approx(expected)
    assert list(night["annual_cost"]) == pytest.approx([52 * c for c in expected])
    assert list(night["annual_onsite_staff"]) == pytest.approx([52 * c for c in expected])
    assert set(night["block_S1_provider"]) == {"P1"}
    assert list(night["block_S1_hours"]) == pytest.approx([168.0] * 4)
    assert table.loc[0, "objective_weekly"] == pytest.approx(3990)
    files = {p.name for p in out.folder.iterdir()}
    assert {"sweep.csv", "summary.txt", "tornado.png", "vary_rates_night_scale.png"} <= files
    summary = (out.folder / "summary.txt").read_text(encoding="utf-8")
    assert f"rates.night*: a range of GBP {52 * 1890 * 0.3:,.0f} a year" in summary
    on_disk = pd.read_csv(out.folder / "sweep.csv")
    assert list(on_disk["objective_weekly"]) == pytest.approx([3990, *expected])


def test_demand_and_random_draws_scale_visit_minutes(tmp_path, model):
    base = sweep.load_dataset(write_dataset(tmp_path / "d", visits=[
        {"resident_id": "R1", "day": "Mon", "start": "10:00", "minutes": 30, "carers": 1},
        {"resident_id": "R1", "day": "Tue", "start": "10:00", "minutes": 5, "carers": 1}]))
    scaled = sweep.apply_scalings(base, {"demand*": 1.25, "rates.night*": 2.0})
    assert list(scaled.visits["minutes"]) == [38, 6]  # 37.5 -> 38, 6.25 -> 6
    assert list(sweep.apply_scalings(base, {"demand*": 0.5}).visits["minutes"]) == [15, 5]
    assert scaled.providers["block_rate_night"].iloc[0] == 60
    assert base.visits["minutes"].iloc[0] == 30  # the input is untouched
    one = sweep.draw_demand(base, 1, 1, 0.1).visits["minutes"]
    assert list(one) == list(sweep.draw_demand(base, 1, 1, 0.1).visits["minutes"])
    draws = {tuple(sweep.draw_demand(base, 1, i, 0.3).visits["minutes"]) for i in range(1, 9)}
    assert len(draws) > 1


def test_resume_solves_only_missing_scenarios(tmp_path, model, monkeypatch):
    spec = spec_of(model, "rates.night*=1.0:1.3:0.1")
    first = run_sweep(spec, tmp_path / "out", charts=False)
    path = first.folder / "sweep.csv"
    table = pd.read_csv(path)
    table[table["scenario_id"] != "s0003"].to_csv(path, index=False)
    calls = []
    real = sweep.run_scenario
    monkeypatch.setattr(sweep, "run_scenario", lambda task: calls.append(task.scenario_id)
                        or real(task))
    again = run_sweep(spec, tmp_path / "out", charts=False)
    assert calls == ["s0003"] and again.solved == ["s0003"]
    assert len(again.skipped) == 4
    pd.testing.assert_frame_equal(comparable(again.table), comparable(first.table),
                                  check_dtype=False)
    # A changed model file changes every scenario's hash: nothing is reused.
    model.write_text(model.read_text(encoding="utf-8").replace("time_limit = 60",
                                                               "time_limit = 61"))
    calls.clear()
    run_sweep(spec, tmp_path / "out", charts=False)
    assert len(calls) == 5


def test_failing_scenarios_are_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    # Two framework providers per zone cannot be met with one provider: no plan, with reason.
    data = write_dataset(tmp_path / "data")
    model = write_model(tmp_path, data, shifts=DAY_NIGHT)
    real = sweep.build_model

    def breaks_on_dear_nights(params):
        if params.data.providers["block_rate_night"].iloc[0] > 37:
            raise RuntimeError("solver exploded")
        return real(params)

    monkeypatch.setattr(sweep, "build_model", breaks_on_dear_nights)
    spec = spec_of(model, "rates.night*=1.0,1.2,1.3", "policy.min_framework_per_zone=0..2")
    table = run_sweep(spec, tmp_path / "out").table.set_index("scenario_id")
    assert list(table["status"]) == ["optimal", "optimal", "optimal", "error", "optimal",
                                     "optimal", "infeasible"]
    assert table.loc["s0003", "reason"] == "RuntimeError: solver exploded"
    assert "framework providers" in table.loc["s0006", "reason"]
    summary = (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")
    assert "At policy.min_framework_per_zone = 2, there is no plan" in summary
    assert "1 scenario(s) failed" in summary


def test_structure_change_is_reported(tmp_path):
    # P2 is dearer by day (GBP 21.30 for 105 hours: +136.50) and cheaper at night (GBP 28 for
    # 63 hours: -126 f when night rates are scaled by f), so it takes the block once
    # 126 f > 136.5, i.e. f > 1.083: between 1.05 and 1.2.
    data = write_dataset(tmp_path / "data", providers=[
        provider(), provider(provider_id="P2", block_rate_day=21.3, block_rate_weekend=21.3,
                             block_rate_night=28)])
    model = write_model(tmp_path, data, shifts=DAY_NIGHT)
    table = run_sweep(spec_of(model, "rates.night*=1.0,1.05,1.2"), tmp_path / "out").table
    assert list(table["block_S1_provider"]) == ["P1", "P1", "P1", "P2"]
    assert list(table["objective_weekly"]) == pytest.approx(
        [3990, 3990, night_cost(1.05), 105 * 21.3 + 63 * 28 * 1.2])
    summary = (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")
    assert "At rates.night* = 1.2, S1's block moves from P1 to P2." in summary


def test_two_workers_give_the_same_table(tmp_path, model):
    spec = spec_of(model, "rates.night*=1.0:1.3:0.1", "demand*=0.9,1.1")
    one = run_sweep(spec, tmp_path / "one", charts=False).table
    two = run_sweep(spec, tmp_path / "two", workers=2, charts=False).table
    pd.testing.assert_frame_equal(comparable(one), comparable(two))


def test_dask_cluster_gives_the_same_table(tmp_path, model):
    distributed = pytest.importorskip(
        "distributed", reason="the Dask path needs the 'distributed' package")
    spec = spec_of(model, "rates.night*=1.0,1.2", random=2, seed=1)
    local = run_sweep(spec, tmp_path / "local", charts=False).table
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run_sweep(spec, tmp_path / "dask", scheduler=cluster.scheduler_address,
                           charts=False).table
    pd.testing.assert_frame_equal(comparable(local), comparable(remote))
    assert list(remote["status"]) == ["optimal"] * 5


def test_offsite_only_instance_reports_no_block(tmp_path):
    # Without 24-hour cover required and no on-site provider, no scheme has a block: the
    # table has no block columns and the summary still reads.
    data = write_dataset(tmp_path / "data", providers=[offsite()],
                         schemes=[{**__import__("factory").SCHEME}])
    model = write_model(tmp_path, data, policy={"require_24h_cover": False}, shifts=DAY_NIGHT)
    table = run_sweep(spec_of(model, "rates.day*=1.0,1.2"), tmp_path / "out").table
    assert list(table["status"]) == ["optimal"] * 3
    assert list(table["objective_weekly"]) == pytest.approx([25, 25, 30])


def test_reuse_gives_the_same_table_as_rebuilding(tmp_path, model):
    spec = spec_of(model, "rates.night*=1.0:1.3:0.1", "demand*=0.9,1.1")
    reused = run_sweep(spec, tmp_path / "reuse", charts=False).table
    rebuilt = run_sweep(spec, tmp_path / "rebuild", charts=False, reuse=False).table
    night = reused[reused["varied"] == "rates.night*"]
    assert list(night["objective_weekly"]) == pytest.approx(
        [night_cost(f) for f in NIGHT_FACTORS])
    assert list(rebuilt["model"]) == ["rebuilt"] * 7 and set(rebuilt["start"]) == {"none"}
    # the base is solved first and cold; every other scenario starts from its plan
    assert reused.loc[0, "start"] == "none" and set(reused["start"][1:]) == {"base plan"}
    assert "reused" in set(reused["model"])
    same = ["scenario_id", "status", "objective_weekly", "annual_cost", "block_S1_hours"]
    pd.testing.assert_frame_equal(reused[same], rebuilt[same])
    saved = (tmp_path / "reuse" / sweep.START_PLAN_NAME).read_text(encoding="utf-8")
    assert reused.loc[0, "spec_hash"] in saved


def test_decomposed_scenarios_start_from_the_base_plan(tmp_path):
    # Two schemes, each one member of staff round the clock at P1's rates: twice the one-scheme
    # cost at every night factor. Decomposed, the base is solved cold and every other scenario
    # starts from its plan (it meets every rule: only rates moved); rebuilding starts none.
    from factory import resident, scheme, visit

    data = write_dataset(tmp_path / "data", schemes=[scheme(), scheme(scheme_id="S2")],
                         residents=[resident(), resident(resident_id="R2", scheme_id="S2")],
                         visits=[visit(), visit(resident_id="R2")])
    spec = spec_of(write_model(tmp_path, data, shifts=DAY_NIGHT), "rates.night*=1.0:1.2:0.1",
                   fixed={"solver.method": "decompose"})
    reused = run_sweep(spec, tmp_path / "reuse", charts=False).table
    rebuilt = run_sweep(spec, tmp_path / "rebuild", charts=False, reuse=False).table
    night = reused[reused["varied"] == "rates.night*"]
    assert list(night["objective_weekly"]) == pytest.approx(
        [2 * night_cost(f) for f in (1.0, 1.1, 1.2)])
    assert set(reused["model"]) == {sweep.DECOMPOSED} == set(rebuilt["model"])
    assert reused.loc[0, "start"] == "none" and set(reused["start"][1:]) == {"base plan"}
    assert set(rebuilt["start"]) == {"none"}
    same = ["scenario_id", "status", "objective_weekly"]
    pd.testing.assert_frame_equal(reused[same], rebuilt[same])


def test_base_settings_apply_to_the_first_scenario_only(model):
    spec = spec_of(model, "rates.night*=1.1,1.2", base_fixed={"solver.time_limit": 300})
    tasks = plan_scenarios(spec)
    assert tasks[0].overrides["solver.time_limit"] == 300
    assert all("solver.time_limit" not in t.overrides for t in tasks[1:])
    with pytest.raises(InputError, match="time_limit"):
        plan_scenarios(spec_of(model, "rates.night*=1.1", base_fixed={"solver.time_limit": -1}))
