"""Re-solving with a kept HiGHS model and a starting plan gives the same plans as building
from scratch, on tiny instances whose optimum is worked out by hand.

Instance (tests/factory.py) with a day shift 07:00-22:00 and a waking night 22:00-07:00: one
member of staff round the clock costs 105 day hours at GBP 20 (weekdays and weekend alike) =
2100 plus 63 night hours at GBP 30 f when night rates are scaled by f: 2100 + 1890 f a week.
"""

from __future__ import annotations

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
from factory import offsite, provider, resident, visit, write_dataset, write_model

from optimiser.inputs.config import load_scenario
from optimiser.inputs.load import load_dataset
from optimiser.inputs.params import derive
from optimiser.model.build import build_model
from optimiser.solving.held import (
    BUILT,
    REBUILT,
    REUSED,
    START_FEASIBLE,
    START_NONE,
    START_REPAIR,
    STRUCTURE_CHANGED,
    Session,
    is_feasible,
    repair_set,
)
from optimiser.solving.highs import compile_model
from optimiser.studies.sweep import apply_scalings

DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}


def night_cost(factor: float) -> float:
    return 2100 + 1890 * factor


def scenario_model(model_file, factor: float = 1.0, overrides: dict | None = None):
    scenario = load_scenario(model_file, overrides or {})
    data = apply_scalings(load_dataset(scenario.dataset), {"rates.night*": factor})
    params = derive(data, scenario)
    return scenario, params, build_model(params)


def solve_with(session: Session, model_file, factor=1.0, start=None, overrides=None):
    scenario, params, model = scenario_model(model_file, factor, overrides)
    return session.solve(model, scenario.solver, start=start, routes=params.routes,
                         want_plan=True)


@pytest.fixture()
def model_file(tmp_path):
    data = write_dataset(tmp_path / "data")
    return write_model(tmp_path, data, shifts=DAY_NIGHT)


def test_cost_changes_reuse_the_model_and_match_rebuilding(model_file):
    session = Session(reuse=True)
    base = solve_with(session, model_file)
    assert (base.model, base.start) == (BUILT, START_NONE)
    assert base.result.objective == pytest.approx(night_cost(1.0))
    for factor in (1.1, 1.3, 0.7):
        reused = solve_with(session, model_file, factor, start=base.plan)
        fresh = solve_with(Session(reuse=False), model_file, factor)
        assert (reused.model, reused.start) == (REUSED, START_FEASIBLE)
        assert (fresh.model, fresh.start) == (REBUILT, START_NONE)
        assert reused.result.status == fresh.result.status == "optimal"
        assert reused.result.objective == pytest.approx(night_cost(factor))
        assert fresh.result.objective == pytest.approx(night_cost(factor))
        assert reused.plan == pytest.approx(fresh.plan)


def test_pushed_changes_leave_exactly_the_new_model_in_highs(model_file):
    session = Session(reuse=True)
    solve_with(session, model_file, 1.0)
    solve_with(session, model_file, 1.25)
    _, _, model = scenario_model(model_file, 1.25)
    wanted = compile_model(model).lp
    held = session.highs.getLp()
    for name in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        assert np.array_equal(np.asarray(getattr(held, name)), np.asarray(getattr(wanted, name)))
    assert np.array_equal(np.asarray(held.a_matrix_.value_), np.asarray(wanted.a_matrix_.value_))
    # block night hours now cost GBP 30 x 1.25 an hour; nothing is still priced at GBP 30
    costs = set(np.round(np.asarray(held.col_cost_), 6))
    assert 37.5 in costs and 30.0 not in costs


def test_a_policy_switch_that_removes_routes_is_a_structure_change(tmp_path):
    # One resident whose care the framework provider P2 can deliver; without the framework the
    # route goes, so the columns differ. Either way the on-site team carries the one visit
    # between calls, so the week costs the cover alone: GBP 3,990.
    data = write_dataset(tmp_path / "data", providers=[provider(), offsite(provider_id="P2")])
    model_file = write_model(tmp_path, data, shifts=DAY_NIGHT)
    session = Session(reuse=True)
    base = solve_with(session, model_file)
    closed = {"policy.allow_framework": False}
    changed = solve_with(session, model_file, start=base.plan, overrides=closed)
    fresh = solve_with(Session(reuse=False), model_file, overrides=closed)
    assert changed.model == STRUCTURE_CHANGED
    assert changed.start == START_FEASIBLE  # the base plan used no framework route
    assert changed.result.objective == pytest.approx(fresh.result.objective)
    assert changed.result.objective == pytest.approx(night_cost(1.0))
    assert not any("P2" in name for name in changed.plan)


def test_a_start_using_a_route_that_is_gone_is_repaired(tmp_path):
    # R1 strongly prefers framework provider P2, so the base plan uses that route (GBP 25 for
    # the hour on top of the cover: 4015). Closing the framework removes it: the start breaks
    # "each package delivered once", HiGHS completes it, and the plan is the cover alone.
    data = write_dataset(tmp_path / "data", providers=[provider(), offsite(provider_id="P2")],
                         residents=[resident(preferred_provider="P2",
                                             preference_strength="strong")])
    model_file = write_model(tmp_path, data, shifts=DAY_NIGHT)
    session = Session(reuse=True)
    base = solve_with(session, model_file)
    assert base.result.objective == pytest.approx(night_cost(1.0) + 25)
    closed = {"policy.allow_framework": False, "policy.honour_strong_preferences": False,
              "policy.min_preference_share": 0.0}
    repaired = solve_with(session, model_file, start=base.plan, overrides=closed)
    fresh = solve_with(Session(reuse=False), model_file, overrides=closed)
    assert (repaired.model, repaired.start) == (STRUCTURE_CHANGED, START_REPAIR)
    assert repaired.result.objective == pytest.approx(night_cost(1.0))
    assert fresh.result.objective == pytest.approx(night_cost(1.0))


def _tiny_lp() -> highspy.HighsLp:
    """a + b = 1 (binaries only); y = a (y continuous); b + c <= 1 (next to the first row);
    c + d <= 1 (two rows away from it)."""
    m = pyo.ConcreteModel()
    m.a = pyo.Var(within=pyo.Binary)
    m.b = pyo.Var(within=pyo.Binary)
    m.y = pyo.Var(bounds=(0, 1))
    m.c = pyo.Var(within=pyo.Binary)
    m.d = pyo.Var(within=pyo.Binary)
    m.one = pyo.Constraint(expr=m.a + m.b == 1)
    m.link = pyo.Constraint(expr=m.y - m.a == 0)
    m.next = pyo.Constraint(expr=m.b + m.c <= 1)
    m.far = pyo.Constraint(expr=m.c + m.d <= 1)
    m.cost = pyo.Objective(expr=m.a + 2 * m.b + m.y + m.c + m.d)
    return compile_model(m).lp


def test_feasibility_and_repair_set_by_hand():
    lp = _tiny_lp()
    # columns in the compiler's order: a, b, y, c, d
    assert is_feasible(lp, np.array([1.0, 0.0, 1.0, 1.0, 0.0]))
    assert not is_feasible(lp, np.array([1.0, 0.0, 0.0, 1.0, 0.0]))  # y = a broken
    assert not is_feasible(lp, np.array([0.5, 0.5, 0.5, 0.0, 0.0]))  # not integer
    # y = a is broken but y is continuous and can mend it: every integer stays fixed
    assert list(repair_set(lp, np.array([1.0, 0.0, 0.0, 1.0, 0.0]))) == [0, 1, 3, 4]
    # a + b = 1 is broken and has only integers: a and b are left to HiGHS, and c, tied to b
    # in the next row, too; d, two rows away, stays fixed
    assert list(repair_set(lp, np.array([0.0, 0.0, 0.0, 1.0, 0.0]))) == [4]


def test_demand_change_pushes_matrix_coefficients(tmp_path):
    # A 30-minute visit becomes 45 minutes (demand x 1.5): the same hour's planned-care load
    # changes from 0.5 to 0.75 staff, a coefficient, not the structure. One member of staff
    # on duty still carries it between calls, so the week still costs the cover: GBP 3,990.
    data = write_dataset(tmp_path / "data", visits=[visit(minutes=30)])
    model_file = write_model(tmp_path, data, shifts=DAY_NIGHT)
    session = Session(reuse=True)
    base = solve_with(session, model_file)
    scenario = load_scenario(model_file, {})
    params = derive(apply_scalings(load_dataset(scenario.dataset), {"demand*": 1.5}), scenario)
    wanted = compile_model(build_model(params)).lp
    before = np.asarray(session.highs.getLp().a_matrix_.value_).copy()
    longer = session.solve(build_model(params), scenario.solver, start=base.plan,
                           routes=params.routes)
    after = np.asarray(session.highs.getLp().a_matrix_.value_)
    assert longer.model == REUSED
    assert np.count_nonzero(before != after) > 0
    assert np.array_equal(after, np.asarray(wanted.a_matrix_.value_))
    assert longer.result.objective == pytest.approx(night_cost(1.0))
