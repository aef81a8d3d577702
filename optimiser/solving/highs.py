"""The solver wrapper: the only module that knows Pyomo's compiler and HiGHS's API.

The Pyomo model is compiled to matrix form (LinearStandardFormCompiler) and handed to HiGHS as
arrays through highspy. This route is several times faster than Pyomo's persistent interfaces
for a one-shot solve (measured: about 4 s against 16 s to hand over 200k variables), never
raises on an infeasible or time-limited solve, and gives us HiGHS's own status, bound and gap
to report honestly.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimiser.inputs.config import SolverOptions

OPTIMAL = "optimal"
FEASIBLE = "feasible"
INFEASIBLE = "infeasible"
NO_SOLUTION = "no_solution"
UNBOUNDED = "unbounded"
INTERRUPTED = "interrupted"
ERROR = "error"

STATUS_TEXT = {
    OPTIMAL: "optimal (within the requested gap)",
    FEASIBLE: "feasible, not proven optimal",
    INFEASIBLE: "infeasible: no plan meets every rule",
    NO_SOLUTION: "no plan found within the time limit",
    UNBOUNDED: "unbounded (a modelling error)",
    INTERRUPTED: "interrupted by the user",
    ERROR: "solver error",
}


@dataclass
class SolveResult:
    """What the solver said, in our own words and numbers."""

    status: str
    solver_status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    compile_seconds: float = 0.0
    solve_seconds: float = 0.0
    nodes: int = 0
    size: dict[str, int] = field(default_factory=dict)
    details: dict = field(default_factory=lambda: {"method": "single"})  # how it was solved

    @property
    def has_plan(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE)

    def describe(self) -> str:
        text = STATUS_TEXT[self.status]
        if self.has_plan and self.gap is not None:
            text += f", gap {100 * self.gap:.3f} %"
        return text


@dataclass
class Compiled:
    """The model in matrix form, with the Pyomo variables behind each column."""

    lp: highspy.HighsLp
    columns: list
    offset: float
    size: dict[str, int]
    sense: float = 1.0  # -1 for a maximisation compiled as a minimisation
    rows: list = field(default_factory=list)  # (constraint family, index) behind each row


def _row_bounds(rhs: np.ndarray, senses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mixed form rows: sense -1 is '>=', 0 is '==', +1 is '<='."""
    lower = np.where(senses <= 0, rhs, -highspy.kHighsInf)
    upper = np.where(senses >= 0, rhs, highspy.kHighsInf)
    return lower, upper


def _column_bounds(columns: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lb = np.array([-math.inf if v.lb is None else v.lb for v in columns], dtype=float)
    ub = np.array([math.inf if v.ub is None else v.ub for v in columns], dtype=float)
    integer = np.array([v.is_integer() or v.is_binary() for v in columns], dtype=bool)
    return lb, ub, integer


def compile_model(model: pyo.ConcreteModel) -> Compiled:
    """Pyomo model -> HighsLp arrays (column-wise sparse matrix, bounds, integrality)."""
    repn = LinearStandardFormCompiler().write(model, mixed_form=True)
    a = repn.A.tocsc()
    senses = np.array([sense for _, sense in repn.rows], dtype=int)
    row_lower, row_upper = _row_bounds(np.asarray(repn.rhs, dtype=float), senses)
    col_lower, col_upper, integer = _column_bounds(repn.columns)
    lp = highspy.HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.asarray(repn.c.toarray()).ravel().astype(float) if repn.c.shape[0] \
        else np.zeros(a.shape[1])
    lp.col_lower_ = np.maximum(col_lower, -highspy.kHighsInf)
    lp.col_upper_ = np.minimum(col_upper, highspy.kHighsInf)
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.a_matrix_.num_col_ = a.shape[1]
    lp.a_matrix_.num_row_ = a.shape[0]
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer
    ]
    offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    lp.offset_ = offset
    # The compiler turns 'maximise f' into 'minimise -f'; remember to report f itself.
    sense = -1.0 if any(o.sense == pyo.maximize for o in repn.objectives) else 1.0
    size = {
        "variables": int(a.shape[1]),
        "integer_variables": int(integer.sum()),
        "constraints": int(a.shape[0]),
        "nonzeros": int(a.nnz),
    }
    rows = [(con.parent_component().name, con.index()) for con, _ in repn.rows]
    return Compiled(lp=lp, columns=list(repn.columns), offset=offset, size=size, sense=sense,
                    rows=rows)


def set_options(h: highspy.Highs, options: SolverOptions, log_file: Path | None) -> None:
    """Set HiGHS options, refusing any HiGHS rejects (Pyomo would ignore them silently); also
    used on an instance kept between solves (optimiser.solving.held)."""
    wanted = {
        "time_limit": float(options.time_limit),
        "mip_rel_gap": float(options.mip_rel_gap),
        "random_seed": int(options.seed),
        "output_flag": log_file is not None,
        "log_to_console": False,
    }
    if options.threads:
        wanted["threads"] = int(options.threads)
    if log_file is not None:
        wanted["log_file"] = str(log_file)
    for name, value in wanted.items():
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS refused option {name}={value!r}")


def _status(h: highspy.Highs) -> tuple[str, str]:
    model_status = h.getModelStatus()
    text = h.modelStatusToString(model_status)
    ms = highspy.HighsModelStatus
    has_solution = h.getInfo().primal_solution_status == 2
    if model_status == ms.kOptimal:
        return OPTIMAL, text
    if model_status == ms.kInfeasible:
        return INFEASIBLE, text
    if model_status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
        return (UNBOUNDED if model_status == ms.kUnbounded else INFEASIBLE), text
    if model_status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit, ms.kInterrupt,
                        ms.kMemoryLimit, ms.kObjectiveBound, ms.kObjectiveTarget):
        return (FEASIBLE if has_solution else NO_SOLUTION), text
    return ERROR, text


Progress = Callable[[float, float | None, float | None], None]
PROGRESS_EVERY = 1.0  # seconds between progress reports


class _Watch:
    """Reports the search's progress and turns Ctrl-C into a clean HiGHS interrupt.

    HiGHS runs in C++ and only returns to Python in its callbacks, so a Ctrl-C sets a flag
    here and the next interrupt callback asks HiGHS to stop; the run then ends normally with
    status 'interrupted' and nothing half-written.
    """

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.stop = False
        self.last = 0.0

    def on_interrupt_check(self, event) -> None:
        if self.stop:
            event.interrupt()
        out = event.data_out
        now = out.running_time
        if self.progress is not None and now - self.last >= PROGRESS_EVERY:
            self.last = now
            primal = out.mip_primal_bound if math.isfinite(out.mip_primal_bound) else None
            dual = out.mip_dual_bound if math.isfinite(out.mip_dual_bound) else None
            self.progress(now, primal, dual)

    def on_sigint(self, signum, frame) -> None:  # noqa: ARG002 - signal handler signature
        self.stop = True


def _run(h: highspy.Highs, watch: _Watch) -> None:
    """h.run() with the watch attached (Ctrl-C handled only in the main thread)."""
    h.cbMipInterrupt.subscribe(watch.on_interrupt_check)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, watch.on_sigint) if main else None
    try:
        h.run()
    finally:
        h.cbMipInterrupt.unsubscribe(watch.on_interrupt_check)  # an instance may be reused
        if main:
            signal.signal(signal.SIGINT, previous)


def run_highs(
    compiled: Compiled,
    options: SolverOptions,
    log_file: Path | None = None,
    progress: Progress | None = None,
) -> tuple[SolveResult, np.ndarray | None]:
    """Solve the compiled model; never raises on infeasible or time-limited outcomes."""
    h = highspy.Highs()
    set_options(h, options, log_file)
    h.passModel(compiled.lp)
    return run_held(h, compiled, progress)


def run_held(
    h: highspy.Highs, compiled: Compiled, progress: Progress | None = None
) -> tuple[SolveResult, np.ndarray | None]:
    """Solve the model a HiGHS instance already holds (options set, compiled.lp passed or
    pushed into it), so a sweep can keep one instance between scenarios (optimiser.solving.held)."""
    watch = _Watch(progress)
    start = time.perf_counter()
    _run(h, watch)
    seconds = time.perf_counter() - start
    status, text = _status(h)
    if watch.stop:
        status = INTERRUPTED
    info = h.getInfo()
    result = SolveResult(status=status, solver_status=text, solve_seconds=seconds,
                         size=dict(compiled.size))
    values = None
    if status in (OPTIMAL, FEASIBLE):
        values = np.asarray(h.getSolution().col_value, dtype=float)
        result.objective = compiled.sense * float(info.objective_function_value)
        is_mip = compiled.size["integer_variables"] > 0
        bound = compiled.sense * float(info.mip_dual_bound)
        result.bound = bound if is_mip else result.objective
        result.gap = _gap(result.objective, result.bound)
        result.nodes = int(info.mip_node_count) if is_mip else 0
    return result, values


def least_violation(
    compiled: Compiled, penalties: dict[str, float], options: SolverOptions
) -> list[tuple[str, object, float]] | None:
    """Let only the rows of the named constraint families give, each unit of violation costing
    its family's penalty, and find the plan that violates them least: which rules give, where,
    and by how much. None if even that finds no plan."""
    h = highspy.Highs()
    set_options(h, options, None)
    h.passModel(compiled.lp)
    penalty = np.array([penalties.get(family, -1.0) for family, _ in compiled.rows])
    if h.feasibilityRelaxation(-1.0, -1.0, 1.0, None, None, penalty) != highspy.HighsStatus.kOk:
        return None
    solution = h.getSolution()
    if not solution.value_valid:
        return None
    activity = np.asarray(solution.row_value, dtype=float)
    lower = np.asarray(compiled.lp.row_lower_, dtype=float)
    upper = np.asarray(compiled.lp.row_upper_, dtype=float)
    violation = np.maximum(lower - activity, activity - upper)
    return [(*compiled.rows[i], float(violation[i])) for i in np.flatnonzero(violation > 1e-6)]


def _gap(objective: float, bound: float) -> float:
    if not math.isfinite(bound):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)


def load_values(compiled: Compiled, values: np.ndarray) -> None:
    """Put the solution back into the Pyomo variables, rounding integers and solver noise."""
    for var, value in zip(compiled.columns, values, strict=True):
        if var.is_integer() or var.is_binary():
            value = float(round(value))
        elif abs(value) < 1e-9:
            value = 0.0
        var.set_value(value, skip_validation=True)


def solve(
    model: pyo.ConcreteModel,
    options: SolverOptions,
    log_file: Path | None = None,
    progress: Progress | None = None,
) -> SolveResult:
    """Compile, solve and (if there is a plan) load the values back into the model."""
    start = time.perf_counter()
    compiled = compile_model(model)
    compile_seconds = time.perf_counter() - start
    result, values = run_highs(compiled, options, log_file, progress)
    result.compile_seconds = compile_seconds
    if values is not None:
        load_plan(model, compiled, values)
    return result


def load_plan(model: pyo.ConcreteModel, compiled: Compiled, values: np.ndarray) -> None:
    """Load a solution into the whole model: variables the compiler left out (they appear in
    no constraint or objective) are unused, so they are set to zero rather than left unset."""
    for var in model.component_data_objects(pyo.Var, descend_into=True):
        if not var.fixed:
            var.set_value(0.0, skip_validation=True)
    load_values(compiled, values)


def value(component: object) -> float:
    """Value of a variable or expression, treating unset variables (absent columns) as 0."""
    v = pyo.value(component, exception=False)
    return 0.0 if v is None else float(v)
