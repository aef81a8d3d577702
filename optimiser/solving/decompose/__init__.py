"""Solving scheme by scheme, coordinated by prices on the rows that couple schemes.

Modules, one concern each: structure (which block each column and row belongs to),
subproblems (one block's MIP from arrays), prices (Lagrange prices and their updates), plan
(building and repairing a plan for the full model), parallel (where block solves run),
orchestrate (the rounds and stopping rules). The algorithm is in docs/decomposition.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import pyomo.environ as pyo

from optimiser.inputs.config import SolverOptions
from optimiser.inputs.params import Params
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


def solve_model(model: pyo.ConcreteModel, params: Params, options: SolverOptions,
                log_file: Path | None = None, progress: Progress | None = None) -> SolveResult:
    """Compile, solve by the chosen method and (if there is a plan) load it into the model."""
    from optimiser.solving.decompose.orchestrate import solve_decomposed

    start = time.perf_counter()
    compiled = compile_model(model)
    compile_seconds = time.perf_counter() - start
    method = chosen_method(options, params, compiled.size["integer_variables"], compiled.sense)
    if method == "decompose":
        result, values = solve_decomposed(compiled, params, options, progress)
    else:
        result, values = run_highs(compiled, options, log_file, progress)
    result.compile_seconds = compile_seconds
    if values is not None:
        load_plan(model, compiled, values)
    return result
