"""The decomposition solve (optimiser.solving.decompose) against the single model and against
hand-computed optima, on tiny multi-scheme instances (tests/factory.py).

Base: every scheme needs one member of staff round the clock; with day 07-22 and waking night
22-07 patterns that is 105 day hours at GBP 20 and 63 night hours at GBP 30: GBP 3,990 a week
per scheme with P1 (test_model_rules.py). P1 is too dear off site (framework GBP 40 an hour)
where a test moves care off site.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.inputs.config import load_scenario
from optimiser.inputs.load import load_dataset
from optimiser.inputs.params import derive
from optimiser.model.build import build_model
from optimiser.run import solve_file
from optimiser.solving.decompose import prices
from optimiser.solving.decompose.orchestrate import Setup, _tasks
from optimiser.solving.decompose.subproblems import solve_block
from optimiser.solving.highs import compile_model

DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}
PER_SCHEME = 3990.0
NO_BLOCK_CARE = {"allow_block_care": False, "allow_onsite_spot": False}
ONSITE_DEAR = provider(framework_rate_day=40, framework_rate_night=50, framework_rate_weekend=40)
DEARER_ONSITE = provider(provider_id="P2", name="Provider Two", block_rate_day=25,
                         block_rate_night=35, block_rate_weekend=25, framework_rate_day=40,
                         framework_rate_night=50, framework_rate_weekend=40)


def two_schemes(**tables) -> dict:
    """Schemes S1 and S2 (zone North) with one resident each, one 1-hour Monday visit."""
    return {
        "schemes": [scheme(), scheme(scheme_id="S2", name="Willow House")],
        "residents": [resident(), resident(resident_id="R2", scheme_id="S2")],
        "visits": [visit(), visit(resident_id="R2")],
        **tables,
    }


def solved(folder: Path, method: str, policy=None, extra: dict | None = None, **tables):
    """Solve, write and verify a tiny model by the given method; the outcome."""
    data = write_dataset(folder / "data", **tables)
    model = write_model(folder, data, policy=policy, shifts=DAY_NIGHT)
    overrides = {"solver.method": method, **(extra or {})}
    outcome = solve_file(model, folder / f"results-{method}", overrides=overrides, charts=False)
    assert outcome.result is not None and outcome.result.has_plan, outcome.reasons
    assert outcome.problems == [], outcome.problems
    return outcome


def total(outcome) -> float:
    return float(outcome.plan.cost_lines.set_index("line").at["total", "weekly_gbp"])


def decomposed(tmp_path, policy=None, **tables):
    """The decomposition's outcome, checked against the single model solved to optimality."""
    single = solved(tmp_path / "single", "single", policy, **tables)
    outcome = solved(tmp_path / "decompose", "decompose", policy, **tables)
    assert outcome.result.details["method"] == "decompose"
    assert total(outcome) == pytest.approx(total(single), abs=1e-4)
    assert outcome.result.details["lagrangian_bound"] <= total(single) + 1e-6
    return outcome


# ------------------------------------------------------------- coupling rules that bind


def test_provider_capacity_binds_across_schemes(tmp_path):
    # P1 can supply 200 hours a week: one scheme's 168 round-the-clock hours, not two. The
    # other block goes to P2 at GBP 5 an hour more: 105 x 25 + 63 x 35 = 4,830; 3,990 + 4,830.
    outcome = decomposed(tmp_path, **two_schemes(
        providers=[provider(weekly_capacity_hours=200), DEARER_ONSITE]))
    assert total(outcome) == pytest.approx(PER_SCHEME + 4830.0)
    assert sorted(outcome.plan.block_contracts["provider_id"]) == ["P1", "P2"]


def test_market_share_binds_across_schemes(tmp_path):
    # No provider above half of all hours: P1 may hold one of the two 168-hour blocks only.
    outcome = decomposed(tmp_path, policy={"max_provider_share": 0.5}, **two_schemes(
        providers=[provider(), DEARER_ONSITE]))
    assert total(outcome) == pytest.approx(PER_SCHEME + 4830.0)


def test_framework_admission_is_shared_by_schemes(tmp_path):
    # Care off site: P2 at GBP 25 an hour but GBP 8 a week to admit (416 a year), P3 at GBP 30
    # with no admission cost. Each scheme on its own would pick P3 (25 + 8 > 30); together one
    # admission serves both: 2 x 25 + 8 = 58 < 60.
    fw = [ONSITE_DEAR, offsite(provider_id="P2", framework_admission_cost=416),
          offsite(provider_id="P3", framework_rate_day=30)]
    outcome = decomposed(tmp_path, policy=NO_BLOCK_CARE, **two_schemes(providers=fw))
    assert total(outcome) == pytest.approx(2 * PER_SCHEME + 58.0)
    assert set(outcome.plan.allocations["provider_id"]) == {"P2"}


def test_mean_satisfaction_binds_across_schemes(tmp_path):
    # P2 (GBP 25, satisfaction 70) and P3 (GBP 27, satisfaction 90); the hours-weighted mean
    # must reach 80, so one of the two residents goes to P3: 25 + 27 = 52 (50 without).
    fw = [ONSITE_DEAR, offsite(provider_id="P2", satisfaction=70),
          offsite(provider_id="P3", framework_rate_day=27, satisfaction=90)]
    outcome = decomposed(tmp_path, policy={**NO_BLOCK_CARE, "min_mean_satisfaction": 80},
                         **two_schemes(providers=fw))
    assert total(outcome) == pytest.approx(2 * PER_SCHEME + 52.0)


def test_preference_share_binds_across_schemes(tmp_path):
    # Both residents asked (weakly) for P3 at GBP 30; P2 charges 25. Half of the preferences
    # must be honoured: one resident gets P3: 25 + 30 = 55 (50 without).
    fw = [ONSITE_DEAR, offsite(provider_id="P2"), offsite(provider_id="P3", framework_rate_day=30)]
    asked = {"preferred_provider": "P3", "preference_strength": "weak"}
    tables = two_schemes(providers=fw)
    tables["residents"] = [resident(**asked), resident(resident_id="R2", scheme_id="S2", **asked)]
    outcome = decomposed(tmp_path, policy={**NO_BLOCK_CARE, "min_preference_share": 0.5},
                         **tables)
    assert total(outcome) == pytest.approx(2 * PER_SCHEME + 55.0)


# ------------------------------------------------------------------ the bound and prices


def _setup(folder: Path, policy: dict, **tables) -> Setup:
    data = write_dataset(folder / "data", **tables)
    scenario = load_scenario(write_model(folder, data, policy=policy, shifts=DAY_NIGHT))
    params = derive(load_dataset(scenario.dataset), scenario)
    return Setup.build(compile_model(build_model(params)), params), scenario


def _lagrangian(setup: Setup, scenario, y: np.ndarray, relax: bool = False) -> float:
    tasks = _tasks(setup, y, scenario.solver, 60.0, relax=relax)
    return setup.lagrangian(y, [solve_block(task) for task in tasks])


COUPLED = {"max_provider_share": 0.6, "min_mean_satisfaction": 78, "min_preference_share": 0.5,
           "min_framework_per_zone": 1}


def coupled_instance() -> dict:
    fw = [provider(weekly_capacity_hours=250), DEARER_ONSITE,
          offsite(provider_id="P3", satisfaction=70, framework_admission_cost=300),
          offsite(provider_id="P4", framework_rate_day=28, satisfaction=90)]
    tables = two_schemes(providers=fw)
    tables["residents"] = [resident(preferred_provider="P4", preference_strength="weak"),
                           resident(resident_id="R2", scheme_id="S2")]
    return tables


def test_relaxed_blocks_at_the_lp_duals_give_the_lp_value(tmp_path):
    # LP duality: with the full LP's duals as prices, the blocks' LP relaxations sum to the
    # LP optimum exactly; a sign slip or a dropped row in the bookkeeping breaks this.
    setup, scenario = _setup(tmp_path, COUPLED, **coupled_instance())
    duals, lp_value, _ = prices.lp_relaxation(setup.compiled, 60.0)
    y = duals[setup.structure.coupling_rows]
    assert len(y) > 0
    assert _lagrangian(setup, scenario, y, relax=True) == pytest.approx(lp_value, abs=1e-6)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=64, max_size=64))
def test_any_sign_feasible_prices_bound_the_optimum(draws):
    # Weak duality: L(y) <= optimum for every sign-feasible y, whatever the prices.
    optimum, setup, scenario = _coupled_optimum()
    raw = np.resize(np.array(draws), len(setup.lower))
    y = prices.project(raw, setup.lower, setup.upper)
    assert _lagrangian(setup, scenario, y) <= optimum + 1e-6


_CACHE: dict = {}


def _coupled_optimum():
    if not _CACHE:
        folder = Path(tempfile.mkdtemp())
        single = solved(folder / "single", "single", COUPLED, **coupled_instance())
        setup, scenario = _setup(folder / "setup", COUPLED, **coupled_instance())
        _CACHE["value"] = (total(single), setup, scenario)
    return _CACHE["value"]


# ------------------------------------------------------- random instances, single vs blocks


@st.composite
def instances(draw) -> tuple[dict, dict]:
    """2-3 schemes, 1-2 residents each, two on-site and two framework providers with drawn
    rates, capacities and satisfaction, and drawn coupling rules."""
    n = draw(st.integers(2, 3))
    schemes = [scheme(scheme_id=f"S{i}", name=f"Scheme {i}") for i in range(1, n + 1)]
    residents, visits = [], []
    for i in range(1, n + 1):
        for r in range(draw(st.integers(1, 2))):
            rid = f"R{i}{r}"
            pref = draw(st.sampled_from(["", "P3", "P4"]))
            residents.append(resident(resident_id=rid, scheme_id=f"S{i}", preferred_provider=pref,
                                      preference_strength="weak" if pref else "none"))
            visits.append(visit(resident_id=rid, start=f"{draw(st.integers(8, 20)):02d}:00",
                                minutes=draw(st.sampled_from([30, 60, 90]))))
    providers = [
        provider(weekly_capacity_hours=draw(st.sampled_from([200, 400, 10000]))),
        DEARER_ONSITE,
        offsite(provider_id="P3", framework_rate_day=draw(st.integers(22, 30)),
                satisfaction=draw(st.integers(60, 95)),
                framework_admission_cost=draw(st.sampled_from([0, 416, 2080]))),
        offsite(provider_id="P4", framework_rate_day=draw(st.integers(22, 30)),
                satisfaction=draw(st.integers(60, 95))),
    ]
    policy = {
        "max_provider_share": draw(st.sampled_from([1.0, 0.7])),
        "min_mean_satisfaction": draw(st.sampled_from([0, 75, 82])),
        "min_preference_share": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "allow_block_care": draw(st.booleans()),
    }
    tables = {"schemes": schemes, "residents": residents, "visits": visits,
              "providers": providers}
    return tables, policy


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_decomposition_matches_the_proven_single_model(case):
    tables, policy = case
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        data = write_dataset(base / "data", **tables)
        model = write_model(base, data, policy=policy, shifts=DAY_NIGHT)
        single = solve_file(model, base / "one", overrides={"solver.method": "single"},
                            charts=False)
        split = solve_file(model, base / "two", overrides={"solver.method": "decompose"},
                           charts=False)
        if single.result is None or not single.result.has_plan:
            assert split.result is None or not split.result.has_plan
            return
        assert single.result.status == "optimal"
        optimum = single.result.objective
        assert split.result.has_plan and split.problems == []
        assert split.result.details["lagrangian_bound"] <= optimum + 1e-6
        assert split.result.bound <= optimum + 1e-6
        assert split.result.objective <= optimum * (1 + split.result.gap) + 1e-6
        assert total(split) == pytest.approx(total(single), abs=1e-4)


# ---------------------------------------------------------- where the blocks are solved


def _tables(outcome) -> dict[str, bytes]:
    folder = outcome.written_to
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def test_workers_and_dask_give_byte_identical_plans(tmp_path):
    distributed = pytest.importorskip("distributed")
    tables = coupled_instance()
    alone = solved(tmp_path / "alone", "decompose", COUPLED, **tables)
    pool = solved(tmp_path / "pool", "decompose", COUPLED, {"solver.workers": 2}, **tables)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dask = solved(tmp_path / "dask", "decompose", COUPLED,
                      {"solver.scheduler": cluster.scheduler_address}, **tables)
    assert alone.result.details["rounds"] >= 1
    assert _tables(pool) == _tables(alone)
    assert _tables(dask) == _tables(alone)


# ------------------------------------------------- every commissioning model, bundled data

MODELS = sorted((Path(__file__).resolve().parents[1] / "models").glob("*.toml"))


@pytest.mark.slow
@pytest.mark.parametrize("model_file", MODELS, ids=[m.stem for m in MODELS])
def test_every_model_costs_the_same_decomposed_as_single(model_file, tmp_path):
    # The two methods stop at their own gaps, so their costs agree within the two gaps added.
    single = solve_file(model_file, tmp_path / "single", charts=False,
                        overrides={"solver.method": "single"})
    split = solve_file(model_file, tmp_path / "split", charts=False,
                       overrides={"solver.method": "decompose"})
    if single.result is None or not single.result.has_plan:
        assert split.result is None or not split.result.has_plan
        return
    assert split.result.has_plan and split.problems == [] and single.problems == []
    a, b = total(single), total(split)
    allowed = (single.result.gap + split.result.gap) * max(a, b) + 1e-6
    assert abs(a - b) <= allowed
    # The bound against the single plan's own objective: the CSV total is rounded to pennies.
    assert split.result.bound <= single.result.objective + 1e-6


def test_implied_bounds_follow_chains_of_rows():
    # x <= 5 and z <= 3 as rows; y = x + z; w >= y - 10 has no upper side: y <= 8 (two
    # passes: x and z first), w stays unbounded above, x, z, y keep their lower bounds of 0.
    from scipy.sparse import csr_matrix

    from optimiser.solving.decompose.bounds import implied_bounds

    a = csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 1, 0], [-1, 1, -1, 0], [0, -1, 0, 1.0]]))
    inf = np.inf
    lower, upper = implied_bounds(a, np.array([-inf, -inf, 0, -10]), np.array([5, 3, 0, inf]),
                                  np.zeros(4), np.full(4, inf))
    assert upper[:3] == pytest.approx([5, 8, 3], rel=1e-5)
    assert upper[3] == inf
    assert list(lower) == [0, 0, 0, 0]


def test_a_block_stopped_before_its_root_still_bounds_with_its_lp(tmp_path):
    # A block given no time at all stops before its root LP: no plan to fix, and the bound it
    # reports is its LP relaxation's value, never above the block's MIP optimum.
    import dataclasses

    setup, scenario = _setup(tmp_path, COUPLED, **coupled_instance())
    y = np.zeros(len(setup.lower))
    for task in _tasks(setup, y, scenario.solver, 60.0):
        mip = solve_block(task)
        lp = solve_block(dataclasses.replace(task, relax=True))
        stopped = solve_block(dataclasses.replace(task, time_limit=0.0))
        if not task.problem.integer.any():
            continue  # an LP block is solved by its LP
        assert stopped.values is None
        assert stopped.bound == pytest.approx(lp.objective)
        assert stopped.bound <= mip.objective + 1e-6


def test_rounds_give_way_to_the_finish_once_the_blocks_slack_is_small():
    # Plan 110, bound 100: an open gap of 10. A further round at the same prices can raise the
    # bound by at most the blocks' slack (objective - bound summed: 3 + 1 = 4 here), under
    # half the gap, so the whole-model finish takes the time instead; a slack of 5 (half the
    # gap) keeps the rounds, and so does a finish that cannot reach its root: 20 x the LP's
    # 0.1 s is 2 s, more than the 1 s left.
    import math
    import time

    from optimiser.solving.decompose.orchestrate import Search, State, block_slack
    from optimiser.solving.decompose.subproblems import BlockSolution

    blocks = [BlockSolution("S1", "feasible", 53.0, 50.0, None, 1.0),
              BlockSolution("S2", "optimal", 41.0, 40.0, None, 1.0)]
    assert block_slack(blocks) == pytest.approx(4.0)
    assert block_slack([*blocks, BlockSolution("S3", "none", math.inf, 7.0, None, 1.0)]) \
        == math.inf
    search = Search.__new__(Search)
    search.state = State(bound=100.0, plan=110.0, lp_seconds=0.1)
    search.deadline = time.perf_counter() + 60.0
    assert not search._rounds_pay(block_slack(blocks))
    assert search._rounds_pay(5.0)
    search.deadline = time.perf_counter() + 1.0
    assert search._rounds_pay(4.0)
    search.state = State(bound=100.0, lp_seconds=0.1)  # no plan yet: rounds go on
    search.deadline = time.perf_counter() + 60.0
    assert search._rounds_pay(0.0)


def test_repair_step_moves_only_the_broken_rows_prices_towards_meeting_them():
    # Rows: a >= row short by 1 (price 2 -> 2 + max(0.25 x 2, 1) = 3), an equality short by
    # 1 (price 0 -> 1), a <= row over by 0.5 (price -4 -> -4 - max(1, 1) = -5), a >= row
    # short but not counted broken (its price stays 10), a >= row short with price 8
    # (8 + 0.25 x 8 = 10).
    inf = np.inf
    y = np.array([2.0, 0.0, -4.0, 10.0, 8.0])
    lower = np.array([0.0, 5.0, -inf, 0.0, 0.0])
    upper = np.array([inf, 5.0, 3.0, inf, inf])
    activity = np.array([-1.0, 4.0, 3.5, -2.0, -1.0])
    broken = np.array([True, True, True, False, True])
    moved = prices.repair_step(y, activity, lower, upper, broken, 0.25)
    assert moved == pytest.approx([3.0, 1.0, -5.0, 10.0, 10.0])


def test_global_rows_over_the_schemes_sums_are_priced():
    # Columns: scheme A's hours, scheme B's hours, the provider's hours (global, continuous),
    # its admission (global, binary). Rows: hours = A + B (coupling: spans blocks); hours <= 10
    # (capacity: global only, but over a sum of the schemes' hours, so priced); admit >= 1
    # (global only, over no such sum: stays in the global block); A <= 5 (scheme A's own).
    from scipy.sparse import csr_matrix

    from optimiser.solving.decompose.structure import _price_rows_on_scheme_sums, _row_blocks

    a = csr_matrix(np.array([[1, 1, -1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0.0]]))
    column_block = np.array([0, 1, 2, 2])
    rows = _row_blocks(a, column_block, 2)
    assert list(rows) == [-1, 2, 2, 0]
    integer = np.array([False, False, False, True])
    assert list(_price_rows_on_scheme_sums(a, rows, column_block, integer, 2)) == [-1, -1, 2, 0]


def test_broken_rows_are_read_with_the_sums_the_schemes_imply():
    # Columns: scheme A's hours, scheme B's hours (4 and 7), the provider's hours and the
    # county total (global, continuous; the global block's own answer left them at 0), and a
    # global slack no equality defines. Rows: provider = A + B (so 11), total = provider (11),
    # capacity provider <= 10 (broken: 11), slack + A >= 100 (its slack is never settled,
    # so the row is not judged).
    from scipy.sparse import csr_matrix

    from optimiser.solving.decompose.orchestrate import Setup

    inf = np.inf
    coupling = csr_matrix(np.array([[-1, -1, 1, 0, 0], [0, 0, -1, 1, 0], [0, 0, 1, 0, 0],
                                    [1, 0, 0, 0, 1.0]]))
    continuous_global = np.array([False, False, True, True, True])
    setup = Setup(None, None, [], coupling, np.array([0, 0, -inf, 100.0]),
                  np.array([0, 0, 10, inf]), np.zeros(5), 0.0,
                  np.array([True, True, True, True]), continuous_global)
    x = np.array([4.0, 7.0, 0.0, 0.0, 0.0])
    filled, settled = setup.implied_globals(x)
    assert list(filled) == [4, 7, 11, 11, 0]
    assert list(settled) == [True, True, True, True, False]
    assert list(setup.broken_rows(x)) == [False, False, True, False]


def test_the_dearest_schemes_are_those_whose_fixed_rota_cost_the_plan_most():
    # Costs 1..5 on five columns (S1, S1, S2, S3, global); the blocks chose 1 everywhere, the
    # plan 3, 1, 1, 2, 0: S1 costs 1 x 2 = 2 more, S2 nothing, S3 4 x 1 = 4 more, the global
    # block 5 less (it has no rota to free). 80 % of the 6 excess needs S3 then S1; half of it
    # S3 alone; at most one scheme, S3.
    from scipy.sparse import csr_matrix

    from optimiser.solving.decompose.plan import dearest_schemes
    from optimiser.solving.decompose.structure import Structure

    structure = Structure(["S1", "S2", "S3", "(global)"], np.array([0, 0, 1, 2, 3]),
                          np.array([], dtype=int), csr_matrix((0, 5)), np.zeros(5, dtype=bool))
    cost, blocks_x = np.arange(1.0, 6.0), np.ones(5)
    plan = np.array([3.0, 1.0, 1.0, 2.0, 0.0])
    assert dearest_schemes(structure, cost, blocks_x, plan, 0.8, 3) == ["S3", "S1"]
    assert dearest_schemes(structure, cost, blocks_x, plan, 0.5, 3) == ["S3"]
    assert dearest_schemes(structure, cost, blocks_x, plan, 0.8, 1) == ["S3"]


# ------------------------------------------------------------------ sweeps: a start plan


def _capacity_model(folder: Path, night: float):
    """The capacity instance above, with every night rate set to `night`."""
    rates = {"block_rate_night": night}
    data = write_dataset(folder / "data", **two_schemes(providers=[
        provider(weekly_capacity_hours=200, **rates),
        provider(provider_id="P2", name="Provider Two", block_rate_day=25,
                 block_rate_night=night + 5, block_rate_weekend=25, framework_rate_day=40,
                 framework_rate_night=50, framework_rate_weekend=40)]))
    scenario = load_scenario(write_model(folder, data, shifts=DAY_NIGHT),
                             {"solver.method": "decompose"})
    params = derive(load_dataset(scenario.dataset), scenario)
    return build_model(params), params, scenario


def test_a_start_plan_that_meets_every_rule_is_the_first_incumbent_at_this_scenarios_costs(
        tmp_path):
    # Base: P1 holds one block (3,990), P2 the other (4,830). Night rates up by 6 (P1 30 -> 36,
    # P2 35 -> 41): the same rota now costs 105 x 20 + 63 x 36 = 4,368 and 105 x 25 + 63 x 41
    # = 5,208, 9,576 in all, still the optimum; the start is kept as the plan (a completion of
    # equal cost does not replace it) and priced at the new rates.
    from optimiser.solving.decompose import solve_from_plan

    model, params, scenario = _capacity_model(tmp_path / "base", 30.0)
    base = solve_from_plan(model, params, scenario.solver, None)
    assert base.start == "none"
    assert base.result.objective == pytest.approx(PER_SCHEME + 4830.0)
    model, params, scenario = _capacity_model(tmp_path / "dearer", 36.0)
    again = solve_from_plan(model, params, scenario.solver, base.plan)
    assert again.start == "base plan"
    assert again.result.details["plan_from"] == "start plan"
    assert again.result.objective == pytest.approx(4368.0 + 5208.0)
    assert again.result.bound <= again.result.objective + 1e-6


def test_a_start_plan_that_breaks_a_rule_is_not_used(tmp_path):
    # One block award and nothing else breaks every cover row: solved as if from no start.
    from optimiser.solving.decompose import solve_from_plan

    model, params, scenario = _capacity_model(tmp_path, 30.0)
    started = solve_from_plan(model, params, scenario.solver, {"award[S1,P1]": 1.0})
    assert started.start == "base plan breaks a rule here"
    assert started.result.details["plan_from"] != "start plan"
    assert started.result.objective == pytest.approx(PER_SCHEME + 4830.0)


# ------------------------------------------------------- global binaries rounded from the LP


def test_global_binaries_are_rounded_to_the_nearest_choice_their_rows_allow():
    # Full model: column 0 a scheme's, columns 1-3 admission binaries g1..g3, column 4 a
    # continuous global. The global block's rows: g1 + g2 = 1 (one provider in zone A) and
    # g2 + g3 >= 1 (at least one in zone B). LP values (0.6, 0.4, 0.45): the L1 distances of
    # the allowed choices are (1,0,1) 0.4 + 0.4 + 0.55 = 1.35, (0,1,0) 0.6 + 0.6 + 0.45 = 1.65,
    # (0,1,1) 1.75: (1,0,1). At (0.3, 0.7, 0.2): (0,1,0) 0.3 + 0.3 + 0.2 = 0.8 is nearest.
    from scipy.sparse import csc_matrix

    from optimiser.solving.decompose.plan import rounded_globals
    from optimiser.solving.decompose.subproblems import BlockProblem

    problem = BlockProblem("(global)", np.array([1, 2, 3, 4]),
                           csc_matrix(np.array([[1.0, 1, 0, 0], [0, 1, 1, 0]])),
                           np.array([1.0, 1.0]), np.array([1.0, np.inf]), np.zeros(4),
                           np.array([1.0, 1, 1, 10]), np.array([True, True, True, False]))
    binaries = np.array([False, True, True, True, False])
    near = rounded_globals(problem, binaries, np.array([0.9, 0.6, 0.4, 0.45, 5.0]), 0)
    assert list(np.round(near[1:4])) == [1, 0, 1]
    assert near[0] == 0.0
    assert list(np.round(rounded_globals(problem, binaries, np.array(
        [0.0, 0.3, 0.7, 0.2, 5.0]), 0)[1:4])) == [0, 1, 0]


def _one_per_zone(folder: Path):
    """Two schemes in zone North, one framework provider per zone: P2 at GBP 25 or P3 at 30;
    no care under the block or on-site spot. The Pyomo model is returned too: the compiled
    columns refer to its variables, which must stay alive while they are read."""
    fw = [ONSITE_DEAR, offsite(provider_id="P2"), offsite(provider_id="P3", framework_rate_day=30)]
    policy = {**NO_BLOCK_CARE, "min_framework_per_zone": 1, "max_framework_per_zone": 1}
    data = write_dataset(folder / "data", **two_schemes(providers=fw))
    scenario = load_scenario(write_model(folder, data, policy=policy, shifts=DAY_NIGHT))
    params = derive(load_dataset(scenario.dataset), scenario)
    model = build_model(params)
    return Setup.build(compile_model(model), params), scenario, params, model


def test_a_plan_the_fixed_rotas_cannot_hold_is_built_on_the_lps_admission(tmp_path):
    # The blocks' answers: both residents with P3, which the global block did not admit (the
    # admission rows are broken), and no rota at all (so the completion with the rotas fixed
    # has no plan). The LP admits P2 alone (25 < 30); with P2 fixed as the zone's provider
    # HiGHS completes the rest: 2 x 3,990 + 2 x 25 = 8,030, the single model's optimum. With
    # the rounding pointing at P3 instead, the admission stays where it was fixed: 8,040.
    from optimiser.solving.decompose.plan import (
        breaks_global_integers,
        build_plan,
        fixable,
        global_binaries,
        rounded_globals,
    )
    from optimiser.solving.decompose.structure import GLOBAL

    setup, scenario, params, _model = _one_per_zone(tmp_path)
    compiled, structure = setup.compiled, setup.structure
    routes = params.routes
    at_p3 = set(routes.loc[routes["provider_id"] == "P3", "route"])
    x = np.zeros(len(compiled.columns))
    for i, v in enumerate(compiled.columns):
        name, index = v.parent_component().name, v.index()
        if (name == "in_scheme" and index[1] == "P3") or (name == "care" and index in at_p3):
            x[i] = 1.0
    assert breaks_global_integers(structure, compiled, x)
    _, _, lp_values = prices.lp_relaxation(compiled, 60.0)
    binaries = global_binaries(compiled, structure)
    problem = next(pb for pb in setup.problems if pb.name == GLOBAL)
    rounded = rounded_globals(problem, binaries, lp_values, 0)
    admitted = {compiled.columns[i].index() for i in np.flatnonzero(binaries & (rounded > 0.5))}
    assert admitted == {"P2"}
    fixed = fixable(compiled, structure)
    done = build_plan(compiled, structure, x, scenario.solver, 60.0, fixed, None, rounded)
    assert done.globals_rounded and done.objective == pytest.approx(2 * PER_SCHEME + 50.0)
    assert done.freed == ["S1", "S2"]
    p3 = np.where(binaries, 0.0, rounded)
    p3[[i for i in np.flatnonzero(binaries) if compiled.columns[i].index() == "P3"]] = 1.0
    done = build_plan(compiled, structure, x, scenario.solver, 60.0, fixed, None, p3)
    assert done.globals_rounded and done.objective == pytest.approx(2 * PER_SCHEME + 60.0)
    # Without a rounding the old repair (freeing the schemes behind the broken rows) runs.
    done = build_plan(compiled, structure, x, scenario.solver, 60.0, fixed, None, None)
    assert not done.globals_rounded
