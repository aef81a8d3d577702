"""Fast re-solves for sweeps: one HiGHS model kept between scenarios, started from a known plan.

A sweep solves the same commissioning model many times with a few numbers moved (night rates,
budgets, ...). Most of the cost of a scenario is HiGHS searching for a first good plan; the
Pyomo build and the hand-off take about 1.5 s on a county-sized dataset. So a ``Session``:

1. builds and compiles each scenario's Pyomo model as usual (the model modules stay the single
   source of truth: no second, hand-maintained formula for what a rate change does to the
   matrix, which would be a second place for a modelling error to hide);
2. compares the compiled form with the one its HiGHS instance holds. If the columns, rows,
   sparsity pattern, integrality and objective sense are the same (the *structure*), only the
   numbers that differ are pushed into the held instance: costs, column bounds, row bounds,
   matrix coefficients and the objective offset. Otherwise, because a policy switch removed a
   care route, a rate made a provider unaffordable for a resident, ..., the held model is
   replaced ("structure changed");
3. gives HiGHS a starting plan before it searches, mapped by what each variable means (care
   routes by resident, way of delivery and provider, since their positions shift when routes
   come and go). A start that meets every rule of the scenario is given whole and is HiGHS's
   first plan at once. A start that breaks a rule here (the base plan used a route this
   scenario no longer has) is given in part: its integer values, less those in broken rows
   that no continuous variable can mend and in the rows next to them (see repair_set); HiGHS
   fixes those and solves for the rest, and if that fails it searches as if no start had been
   given.

Determinism. The start is always the plan of the sweep's *first* scenario (the base), never
"the previous scenario this process happened to solve", and the held instance's solver state
(basis, incumbent) is cleared before every run. A scenario's result is therefore a function of
its own model, the base plan and the solver options only, whatever order the scenarios run in
and however many processes share them: 1 worker, N workers and a Dask cluster give the same
table (time-limited solves apart, whose plans depend on the machine's speed in any case).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimiser.inputs.config import SolverOptions
from optimiser.solving.highs import (
    Compiled,
    SolveResult,
    compile_model,
    load_plan,
    run_held,
    set_options,
)

BUILT = "built"  # first model of this process: nothing held yet
REUSED = "reused"  # same structure: changed numbers pushed into the held HiGHS model
STRUCTURE_CHANGED = "rebuilt: structure changed"  # held model replaced
REBUILT = "rebuilt"  # reuse switched off: a new HiGHS model every time

START_NONE = "none"
START_FEASIBLE = "base plan"  # the base plan meets every rule of this scenario
START_REPAIR = "base plan, repaired"  # it breaks a rule here: HiGHS completes part of it

FEASIBILITY_TOLERANCE = 1e-6
# A repaired start also frees the integer columns of rows (with at most this many integer
# columns) that share a column with a broken row: a resident who loses the route the base plan
# gave them may need another provider admitted or another member of staff on the rota. Measured
# on the county dataset, night rates x1.6 to x1.99: freeing only the broken rows' columns left
# HiGHS's completion infeasible; with this one step it completed in 1.5-3 s.
REPAIR_ROW_LIMIT = 300
# Above this share of changed matrix coefficients, passing the whole model is simpler and no
# slower than changing coefficients one by one (each is a Python call).
MAX_COEFFICIENT_CHANGES = 0.05

Plan = dict[str, float]  # variable name -> value, nonzero values only


# Variables indexed by a care route's position in Params.routes. Positions shift when a route
# is added or removed (a rate change can make a provider unaffordable for a resident), so a
# start is mapped through what the route *is*: resident, way of delivery, provider.
ROUTE_VARIABLES = ("care", "double_up_by_team")


def column_names(compiled: Compiled, routes: pd.DataFrame | None = None) -> list[str]:
    """A name for each compiled column that means the same thing in every scenario: Pyomo's
    name, except that route-indexed variables are named by resident, kind and provider
    (about 20 ms for 9,000 columns)."""
    if routes is None:
        return [var.name for var in compiled.columns]
    route = routes.set_index("route")
    labels = {j: f"{r},{k},{'' if pd.isna(p) else p}" for j, r, k, p in zip(
        route.index, route["resident_id"], route["kind"], route["provider_id"], strict=True)}
    names = []
    for var in compiled.columns:
        family = var.parent_component().name
        if family in ROUTE_VARIABLES and var.index() in labels:
            names.append(f"{family}[{labels[var.index()]}]")
        else:
            names.append(var.name)
    return names


def plan_of(names: list[str], values: np.ndarray) -> Plan:
    """A solution as a start for other scenarios: nonzero values by variable name, so it maps
    onto a model with other columns and can be sent to another process or machine."""
    return {name: float(v) for name, v in zip(names, values, strict=True) if abs(v) > 1e-9}


def start_vector(names: list[str], plan: Plan) -> np.ndarray:
    """The plan on these columns; columns it does not name start at 0."""
    return np.array([plan.get(name, 0.0) for name in names], dtype=float)


def _integer_mask(lp: highspy.HighsLp) -> np.ndarray:
    return np.array([t != highspy.HighsVarType.kContinuous for t in lp.integrality_], dtype=bool)


def is_feasible(lp: highspy.HighsLp, x: np.ndarray, tol: float = FEASIBILITY_TOLERANCE) -> bool:
    """Does x meet every bound, integrality and row of the model (to HiGHS's default primal
    tolerance)? Decides whether the start is a ready plan or needs HiGHS to repair it."""
    col_lower, col_upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    if np.any(x < col_lower - tol) or np.any(x > col_upper + tol):
        return False
    integer = _integer_mask(lp)
    if np.any(np.abs(x[integer] - np.round(x[integer])) > tol):
        return False
    activity = _matrix(lp) @ x
    row_lower, row_upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    slack = tol * np.maximum(1.0, np.abs(activity))
    return bool(np.all(activity >= row_lower - slack) and np.all(activity <= row_upper + slack))


def _matrix(lp: highspy.HighsLp):
    from scipy.sparse import csc_matrix

    a = lp.a_matrix_
    return csc_matrix((np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)),
                      shape=(lp.num_row_, lp.num_col_))


def repair_set(lp: highspy.HighsLp, x: np.ndarray,
               tol: float = FEASIBILITY_TOLERANCE) -> np.ndarray:
    """The integer columns to keep from a start that breaks some rows of this scenario.

    HiGHS completes a partial start by fixing the integers it is given and solving for the
    rest. Continuous columns are always left to it. Of the integer columns, those in a broken
    row that has no continuous column (so no continuous value can mend it; e.g. "each package
    delivered once" when the base plan's route is unaffordable here) are left free, and so
    are the integer columns of the rows next to them (sharing a freed column and having at
    most REPAIR_ROW_LIMIT integer columns), so that what they are tied to can move too.
    """
    a = _matrix(lp).tocsr()
    integer = _integer_mask(lp)
    activity = a @ x
    row_lower, row_upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    slack = tol * np.maximum(1.0, np.abs(activity))
    broken = np.flatnonzero((activity < row_lower - slack) | (activity > row_upper + slack))
    freed = np.zeros(len(x), dtype=bool)
    for row in broken:
        cols = a.indices[a.indptr[row]:a.indptr[row + 1]]
        if integer[cols].all():
            freed[cols] = True
    by_column = a.tocsc()
    nearby = {int(r) for j in np.flatnonzero(freed)
              for r in by_column.indices[by_column.indptr[j]:by_column.indptr[j + 1]]}
    for row in nearby:
        cols = a.indices[a.indptr[row]:a.indptr[row + 1]]
        cols = cols[integer[cols]]
        if len(cols) <= REPAIR_ROW_LIMIT:
            freed[cols] = True
    return np.flatnonzero(integer & ~freed).astype(np.int32)


@dataclass
class Held:
    """What the session's HiGHS instance holds: the compiled model and its column names."""

    compiled: Compiled
    names: list[str]


def same_structure(old: Held, new: Compiled, names: list[str]) -> bool:
    """Same columns and rows in the same order, same sparsity, integrality and sense: only
    numbers may differ, so they can be changed in place."""
    a, b = old.compiled.lp, new.lp
    return (
        old.names == names
        and old.compiled.rows == new.rows
        and old.compiled.sense == new.sense
        and np.array_equal(np.asarray(a.a_matrix_.start_), np.asarray(b.a_matrix_.start_))
        and np.array_equal(np.asarray(a.a_matrix_.index_), np.asarray(b.a_matrix_.index_))
        and np.array_equal(_integer_mask(a), _integer_mask(b))
    )


def _changed(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.asarray(old) != np.asarray(new)).astype(np.int32)


def _ok(status: highspy.HighsStatus, what: str) -> None:
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"HiGHS refused to change {what} of the held model ({status})")


def push_changes(h: highspy.Highs, old: highspy.HighsLp, new: highspy.HighsLp) -> bool:
    """Change the held model's numbers to the new model's; False (nothing changed) if so many
    coefficients differ that passing the whole model is the better way."""
    old_values, new_values = np.asarray(old.a_matrix_.value_), np.asarray(new.a_matrix_.value_)
    coefficients = _changed(old_values, new_values)
    if len(coefficients) > MAX_COEFFICIENT_CHANGES * max(1, len(new_values)):
        return False
    cost = _changed(old.col_cost_, new.col_cost_)
    if len(cost):
        _ok(h.changeColsCost(len(cost), cost, np.asarray(new.col_cost_)[cost]), "costs")
    cols = np.union1d(_changed(old.col_lower_, new.col_lower_),
                      _changed(old.col_upper_, new.col_upper_)).astype(np.int32)
    if len(cols):
        _ok(h.changeColsBounds(len(cols), cols, np.asarray(new.col_lower_)[cols],
                               np.asarray(new.col_upper_)[cols]), "column bounds")
    rows = np.union1d(_changed(old.row_lower_, new.row_lower_),
                      _changed(old.row_upper_, new.row_upper_)).astype(np.int32)
    if len(rows):
        _ok(h.changeRowsBounds(len(rows), rows, np.asarray(new.row_lower_)[rows],
                               np.asarray(new.row_upper_)[rows]), "row bounds")
    if len(coefficients):
        starts = np.asarray(new.a_matrix_.start_)
        column_of = np.searchsorted(starts, coefficients, side="right") - 1
        row_of = np.asarray(new.a_matrix_.index_)[coefficients]
        for row, col, k in zip(row_of, column_of, coefficients, strict=True):
            _ok(h.changeCoeff(int(row), int(col), float(new_values[k])), "a coefficient")
    if old.offset_ != new.offset_:
        _ok(h.changeObjectiveOffset(float(new.offset_)), "the objective offset")
    return True


@dataclass
class Outcome:
    """One re-solve: the solver's result, how the model was handed over, how it started."""

    result: SolveResult
    model: str
    start: str
    plan: Plan | None = None  # the solution by name, if there is one
    seconds: dict[str, float] = field(default_factory=dict)


class Session:
    """One HiGHS instance kept between scenarios in this process (see the module docstring).

    reuse=False is the comparison: a new HiGHS model every time and no starting plan, exactly
    what a one-off ``optimiser solve`` does.
    """

    def __init__(self, reuse: bool = True) -> None:
        self.reuse = reuse
        self.highs: highspy.Highs | None = None
        self.held: Held | None = None

    def _hand_over(self, compiled: Compiled, names: list[str], options: SolverOptions,
                   log_file: Path | None) -> str:
        """Put the compiled model into HiGHS: changed numbers only, or the whole model (into a
        fresh instance, so nothing is left over from the old structure)."""
        if self.reuse and self.held is not None and self.highs is not None \
                and same_structure(self.held, compiled, names) \
                and push_changes(self.highs, self.held.compiled.lp, compiled.lp):
            set_options(self.highs, options, log_file)
            self.held = Held(compiled, names)
            return REUSED
        how = REBUILT if not self.reuse else BUILT if self.held is None else STRUCTURE_CHANGED
        self.highs = highspy.Highs()
        set_options(self.highs, options, log_file)  # before the model: no banner on stdout
        self.highs.passModel(compiled.lp)
        self.held = Held(compiled, names) if self.reuse else None
        return how

    def _start(self, compiled: Compiled, names: list[str], plan: Plan | None) -> str:
        """Clear the last run's state, then give HiGHS the start plan (if any)."""
        assert self.highs is not None
        _ok(self.highs.clearSolver(), "the solver state")
        if not plan:
            return START_NONE
        x = start_vector(names, plan)
        if is_feasible(compiled.lp, x):
            index = np.arange(len(x), dtype=np.int32)
            _ok(self.highs.setSolution(len(x), index, x), "the start")
            return START_FEASIBLE
        index = repair_set(compiled.lp, x)
        _ok(self.highs.setSolution(len(index), index, x[index]), "the start")
        return START_REPAIR

    def solve(self, model: pyo.ConcreteModel, options: SolverOptions, start: Plan | None = None,
              routes: pd.DataFrame | None = None, log_file: Path | None = None,
              want_plan: bool = False) -> Outcome:
        """Compile, hand over, start, solve and (if there is a plan) load it into the model.
        routes (Params.routes) gives route-indexed columns names that survive a change of
        structure; without it, Pyomo's names are used."""
        clock = time.perf_counter()
        compiled = compile_model(model)
        names = column_names(compiled, routes)
        compile_seconds = time.perf_counter() - clock
        how = self._hand_over(compiled, names, options, log_file)
        started = self._start(compiled, names, start if self.reuse else None)
        handoff_seconds = time.perf_counter() - clock - compile_seconds
        result, values = run_held(self.highs, compiled)
        result.compile_seconds = compile_seconds + handoff_seconds
        plan = None
        if values is not None:
            load_plan(model, compiled, values)
            plan = plan_of(names, values) if want_plan else None
        return Outcome(result, how, started, plan,
                       {"compile": compile_seconds, "handoff": handoff_seconds,
                        "solve": result.solve_seconds})


_SESSIONS: dict[bool, Session] = {}


def session(reuse: bool) -> Session:
    """This process's session (one per mode), kept between the scenarios it is given: a
    worker process of a pool or a Dask worker keeps its HiGHS model from task to task."""
    if reuse not in _SESSIONS:
        _SESSIONS[reuse] = Session(reuse)
    return _SESSIONS[reuse]
