"""Solving scheme by scheme, coordinated by prices on the rows that couple schemes.

Modules, one concern each: structure (which block each column and row belongs to),
subproblems (one block's MIP from arrays), prices (Lagrange prices and their updates), plan
(building and repairing a plan for the full model), parallel (where block solves run),
orchestrate (the rounds and stopping rules). The algorithm is in docs/decomposition.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pyomo.environ as pyo

from optimiser.inputs.config import SolverOptions
from optimiser.inputs.params import Params
from optimiser.solving.held import Plan, column_names, is_feasible, plan_of, start_vector
from optimiser.solving.highs import Progress, SolveResult, compile_model, load_plan, run_highs

AUTO_MIN_INTEGERS = 1000  # below this HiGHS proves the whole model faster than a round takes


def chosen_method(options: SolverOptions, params: Params, integers: int, sense: float) -> str:
    """'decompose' or 'single': as asked, or (auto) decompose models with more than one scheme
    and enough integer variables to be worth it. A maximisation is always solved whole."""
    schemes = len(params.data.schemes)
    if sense != 1.0 or schemes < 2:
        return "single"
    if options.method == "auto":
        return "decompose" if integers >= AUTO_MIN_INTEGERS else "single"
    return options.method


def _compiled(model: pyo.ConcreteModel) -> tuple:
    """The model in matrix form, and how long compiling it took."""
    began = time.perf_counter()
    compiled = compile_model(model)
    return compiled, time.perf_counter() - began


def solve_model(model: pyo.ConcreteModel, params: Params, options: SolverOptions,
                log_file: Path | None = None, progress: Progress | None = None) -> SolveResult:
    """Compile, solve by the chosen method and (if there is a plan) load it into the model."""
    from optimiser.solving.decompose.orchestrate import solve_decomposed

    compiled, compile_seconds = _compiled(model)
    method = chosen_method(options, params, compiled.size["integer_variables"], compiled.sense)
    if method == "decompose":
        result, values = solve_decomposed(compiled, params, options, progress)
    else:
        result, values = run_highs(compiled, options, log_file, progress)
    result.compile_seconds = compile_seconds
    if values is not None:
        load_plan(model, compiled, values)
    return result


@dataclass
class Started:
    """A decomposition solve from a known plan (sweeps): the result, the plan found by name
    (the start of later scenarios) and what became of the start."""

    result: SolveResult
    plan: Plan | None
    start: str  # "none", "base plan" or "base plan breaks a rule here"


def solve_from_plan(model: pyo.ConcreteModel, params: Params, options: SolverOptions,
                    start: Plan | None) -> Started:
    """Decomposition solve of a sweep scenario, from the base scenario's plan where that plan
    meets every rule of this one: it is then the first incumbent, so the search holds a plan
    from its first second (docs/decomposition.md section 8). A start that breaks a rule here
    (a route the scenario no longer has) is not used."""
    from optimiser.solving.decompose.orchestrate import solve_decomposed

    compiled, compile_seconds = _compiled(model)
    names = column_names(compiled, params.routes)
    x0, how = None, "none"
    if start:
        x0 = start_vector(names, start)
        how = "base plan"
        if not is_feasible(compiled.lp, x0):
            x0, how = None, "base plan breaks a rule here"
    result, values = solve_decomposed(compiled, params, options, start=x0)
    result.compile_seconds = compile_seconds
    if values is None:
        return Started(result, None, how)
    load_plan(model, compiled, values)
    return Started(result, plan_of(names, values), how)
