"""The solver wrapper's contract: statuses, values, bound and gap, refused options, rounding;
and the command line's exit code when no plan can meet the rules."""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo
import pytest
from click.testing import CliRunner
from factory import provider, write_dataset, write_model

from optimiser.cli import main
from optimiser.inputs.config import SolverOptions
from optimiser.solving.highs import compile_model, load_values, solve

EXACT = SolverOptions(time_limit=30, mip_rel_gap=0, threads=1, seed=0)


def tiny_mip() -> pyo.ConcreteModel:
    """min 2x + 3y + z  s.t.  x + 2y + z >= 7.5,  z <= 0.5,  x integer 0..10, y binary, z >= 0.

    By hand: z is the cheapest cover (1 per unit) but at most 0.5; y gives 2 units for 3
    (1.5 per unit); x gives 1 unit for 2. With y = 1: x + z >= 5.5 -> x = 5, z = 0.5, cost
    10 + 3 + 0.5 = 13.5 (x = 6, z = 0 costs 15). With y = 0: x + z >= 7.5 -> x = 7, z = 0.5,
    cost 14.5. So the unique optimum is x = 5, y = 1, z = 0.5 with objective 13.5.
    """
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.Integers, bounds=(0, 10))
    m.y = pyo.Var(domain=pyo.Binary)
    m.z = pyo.Var(domain=pyo.NonNegativeReals, bounds=(0, 0.5))
    m.cover = pyo.Constraint(expr=m.x + 2 * m.y + m.z >= 7.5)
    m.cost = pyo.Objective(expr=2 * m.x + 3 * m.y + m.z)
    return m


def test_tiny_mip_solves_to_the_hand_optimum() -> None:
    m = tiny_mip()
    result = solve(m, EXACT)
    assert result.status == "optimal"
    assert result.has_plan
    assert result.objective == pytest.approx(13.5, abs=1e-9)
    assert result.bound == pytest.approx(13.5, abs=1e-6)
    assert result.gap == pytest.approx(0, abs=1e-9)
    assert (pyo.value(m.x), pyo.value(m.y), pyo.value(m.z)) == (5.0, 1.0, pytest.approx(0.5))
    assert pyo.value(m.cost) == pytest.approx(13.5)
    assert result.size == {"variables": 3, "integer_variables": 2, "constraints": 1,
                           "nonzeros": 3}
    assert "optimal" in result.describe()


def test_constant_in_objective_is_kept() -> None:
    m = tiny_mip()
    m.cost.deactivate()
    m.cost2 = pyo.Objective(expr=2 * m.x + 3 * m.y + m.z + 100)
    result = solve(m, EXACT)
    assert result.objective == pytest.approx(113.5, abs=1e-9)


def test_maximisation() -> None:
    m = tiny_mip()
    m.cost.deactivate()
    m.worth = pyo.Objective(expr=m.x + m.y, sense=pyo.maximize)  # x = 10, y = 1
    result = solve(m, EXACT)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(11)
    assert (pyo.value(m.x), pyo.value(m.y)) == (10.0, 1.0)


def test_infeasible_model_reports_and_does_not_raise() -> None:
    m = tiny_mip()
    m.impossible = pyo.Constraint(expr=m.x + m.y >= 20)  # at most 10 + 1
    m.x.set_value(3)
    result = solve(m, EXACT)
    assert result.status == "infeasible"
    assert not result.has_plan
    assert result.objective is None and result.gap is None
    assert pyo.value(m.x) == 3  # nothing loaded
    assert "infeasible" in result.describe()


def hard_knapsack(n: int = 300, constraints: int = 5, seed: int = 7) -> pyo.ConcreteModel:
    """A random multi-dimensional 0-1 knapsack with correlated profits (the OR-Library
    'mknap' recipe): 300 items, 5 capacity rows at half the total weight, written as a
    minimisation of the profit forgone (like every model of this project). HiGHS does not
    prove optimality within 20 s on a desktop, so a 0.05 s limit always stops it early."""
    rng = np.random.default_rng(seed)
    weight = rng.integers(1, 1001, size=(constraints, n))
    profit = weight.sum(axis=0) / constraints + rng.integers(0, 501, size=n)
    capacity = 0.5 * weight.sum(axis=1)
    m = pyo.ConcreteModel()
    m.goods = pyo.RangeSet(0, n - 1)
    m.take = pyo.Var(m.goods, domain=pyo.Binary)
    m.forgone = pyo.Objective(
        expr=float(profit.sum()) - sum(float(profit[i]) * m.take[i] for i in m.goods))
    m.capacity = pyo.Constraint(
        range(constraints),
        rule=lambda mm, k: sum(int(weight[k, i]) * mm.take[i] for i in mm.goods)
        <= float(capacity[k]),
    )
    return m


@pytest.mark.parametrize("seed", [7, 11])
def test_time_limited_hard_model(seed: int) -> None:
    m = hard_knapsack(seed=seed)
    result = solve(m, SolverOptions(time_limit=0.05, mip_rel_gap=0, threads=1, seed=0))
    assert result.status in {"feasible", "no_solution"}
    assert result.solver_status == "Time limit reached"
    assert result.solve_seconds < 5
    if result.status == "feasible":
        assert result.has_plan
        assert result.gap > 0
        assert result.bound <= result.objective  # the dual bound of a minimisation
        assert result.gap == pytest.approx(
            (result.objective - result.bound) / abs(result.objective))
        assert pyo.value(m.forgone) == pytest.approx(result.objective)
        assert {pyo.value(m.take[i]) for i in m.goods} == {0.0, 1.0}
        assert "not proven optimal" in result.describe()
    else:
        assert not result.has_plan
        assert result.objective is None and result.bound is None


def test_refused_highs_option_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="seed"):
        SolverOptions(seed=2**31)  # the model file refuses what HiGHS would refuse
    too_big_seed = SolverOptions.model_construct(time_limit=10.0, mip_rel_gap=0.0, threads=1,
                                                 seed=2**31)
    with pytest.raises(ValueError, match="random_seed"):
        solve(tiny_mip(), too_big_seed)
    negative_time = SolverOptions.model_construct(time_limit=-1.0, mip_rel_gap=0.0, threads=1,
                                                  seed=0)
    with pytest.raises(ValueError, match="time_limit"):
        solve(tiny_mip(), negative_time)


def test_load_values_rounds_integers_and_zeroes_noise() -> None:
    m = tiny_mip()
    m.w = pyo.Var(domain=pyo.Reals, bounds=(-5, 5))
    m.extra = pyo.Constraint(expr=m.w + m.z <= 3)
    compiled = compile_model(m)
    noisy = {"x": 4.9999997, "y": 1e-7, "z": 3e-11, "w": -0.25}
    names = [v.name for v in compiled.columns]
    assert sorted(names) == sorted(noisy)
    load_values(compiled, np.array([noisy[n] for n in names]))
    assert pyo.value(m.x) == 5.0 and isinstance(pyo.value(m.x), float)
    assert pyo.value(m.y) == 0.0
    assert pyo.value(m.z) == 0.0
    assert pyo.value(m.w) == -0.25  # real values are kept
    load_values(compiled, np.array([{"x": 2.0000004, "y": 0.9999991, "z": -4e-10,
                                     "w": 1e-3}[n] for n in names]))
    assert (pyo.value(m.x), pyo.value(m.y), pyo.value(m.z), pyo.value(m.w)) == (2, 1, 0, 1e-3)


def test_unused_variables_are_zero_after_a_solve() -> None:
    m = tiny_mip()
    m.unused = pyo.Var(domain=pyo.NonNegativeReals)
    m.unused.set_value(7)
    assert solve(m, EXACT).status == "optimal"
    assert pyo.value(m.unused) == 0.0


# --------------------------------------------------------------------------- command line


def test_cli_static_infeasibility_is_explained(tmp_path) -> None:
    """One provider serves the zone, but the policy asks for three framework providers."""
    dataset = write_dataset(tmp_path / "data")
    model = write_model(tmp_path, dataset, policy={"min_framework_per_zone": 3})
    out = tmp_path / "results"
    result = CliRunner().invoke(main, ["solve", str(model), "--out", str(out), "--no-charts"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    text = " ".join(result.output.split())
    assert "No plan can meet every rule" in text
    assert "Zone North must have 3 framework providers but only 1" in text
    assert not out.exists()


def test_cli_solver_infeasibility_exits_2_and_keeps_old_results(tmp_path) -> None:
    """The only provider can supply 10 staff-hours a week; 24-hour cover needs 168."""
    dataset = write_dataset(tmp_path / "data")
    model = write_model(tmp_path, dataset)
    out = tmp_path / "results"
    args = ["solve", str(model), "--out", str(out), "--no-charts"]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    write_dataset(dataset, providers=[provider(weekly_capacity_hours=10)])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    text = " ".join(result.output.split())
    assert "No plan can meet every rule" in text and "weekly capacity" in text
    assert "Nothing was written" in text
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_cli_solver_infeasibility_writes_no_folder(tmp_path) -> None:
    dataset = write_dataset(tmp_path / "data", providers=[provider(weekly_capacity_hours=10)])
    model = write_model(tmp_path, dataset)
    out = tmp_path / "results"
    result = CliRunner().invoke(main, ["solve", str(model), "--out", str(out), "--no-charts"])
    assert result.exit_code == 2, result.output
    assert not (out / "test").exists()
    assert not out.exists() or not any(out.iterdir())


def test_gap_of_unbounded_bound_is_infinite() -> None:
    from optimiser.solving.highs import _gap

    assert _gap(10.0, -math.inf) == math.inf
    assert _gap(10.0, 9.0) == pytest.approx(0.1)
    assert _gap(0.0, 0.0) == 0.0


def test_progress_is_reported_while_searching() -> None:
    seen: list[tuple[float, float | None, float | None]] = []
    result = solve(hard_knapsack(), SolverOptions(time_limit=2.5, mip_rel_gap=0.0),
                   progress=lambda t, best, bound: seen.append((t, best, bound)))
    assert result.status in ("feasible", "no_solution")
    assert seen, "no progress report in 2.5 s of search"
    assert all(t >= 0 for t, _, _ in seen)
    with_plan = [(best, bound) for _, best, bound in seen if best is not None and bound is not None]
    assert all(bound <= best + 1e-6 for best, bound in with_plan)  # a minimisation's bounds


def test_ctrl_c_interrupts_cleanly_and_keeps_earlier_results(tmp_path) -> None:
    import shutil
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    earlier = tmp_path / "results" / "optimised"
    earlier.mkdir(parents=True)
    (earlier / "summary.csv").write_text("metric,value\nstatus,earlier good plan\n")
    model = tmp_path / "optimised.toml"
    shutil.copy(root / "models" / "optimised.toml", model)
    text = model.read_text().replace('dataset = "data/shireford"',
                                     f'dataset = "{root / "data" / "shireford"}"')
    model.write_text(text.replace("time_limit = 300", "time_limit = 120")
                     .replace("mip_rel_gap = 0.005", "mip_rel_gap = 0.0"))
    # The single model at a gap of 0 is still searching after 8 s (the decomposition can prove
    # the bundled data's optimum sooner than that, and then there is nothing to interrupt).
    child = subprocess.Popen([sys.executable, "-m", "optimiser.cli", "solve", str(model), "--out",
                              str(tmp_path / "results"), "--no-charts", "--method", "single"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, out + err
    assert "Interrupted: nothing was written" in err
    assert "Traceback" not in out + err
    assert (earlier / "summary.csv").read_text() == "metric,value\nstatus,earlier good plan\n"
