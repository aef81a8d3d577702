"""One block's own MIP (a scheme, or the global columns), solved with highspy from arrays.

A block problem is plain numpy data (picklable), so it travels to a worker process or a Dask
worker unchanged; only its costs change from one price round to the next. The solve reports
HiGHS's own dual bound beside the plan: the Lagrangian bound adds the dual bounds, so it stays
valid when a block stops at its gap or time limit (docs/decomposition.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import highspy
import numpy as np
import scipy.sparse as sp

from optimiser.solving.decompose.bounds import implied_bounds

MIN_SECONDS = 0.5  # a block past its round's deadline still gets this long


@dataclass
class BlockProblem:
    """min cost x over the block's own rows and column bounds (arrays, no Pyomo)."""

    name: str
    columns: np.ndarray  # positions of the block's columns in the full model
    a: sp.csc_matrix  # the block's local rows x its columns
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column


@dataclass
class BlockTask:
    """One block to solve at given costs, with the HiGHS settings for it."""

    problem: BlockProblem
    cost: np.ndarray
    gap: float
    time_limit: float
    seed: int
    relax: bool = False  # solve the block's LP relaxation instead (a check on the prices)
    deadline: float | None = None  # wall-clock time (time.time()) by which the round must end


@dataclass
class BlockSolution:
    """What one block's solve gave: a plan for its columns, its value and a proven bound."""

    name: str
    status: str  # "optimal", "feasible" (stopped early), "infeasible", "unbounded", "none"
    objective: float
    bound: float  # a valid lower bound on the block's minimum at these costs
    values: np.ndarray | None
    seconds: float


def _lp(task: BlockTask) -> highspy.HighsLp:
    pb = task.problem
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = pb.a.shape[1], pb.a.shape[0]
    lp.col_cost_ = np.asarray(task.cost, dtype=float)
    lp.col_lower_, lp.col_upper_ = pb.col_lower, pb.col_upper
    lp.row_lower_, lp.row_upper_ = pb.row_lower, pb.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = pb.a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = pb.a.indices.astype(np.int32)
    lp.a_matrix_.value_ = pb.a.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    if not task.relax and pb.integer.any():
        kind = highspy.HighsVarType
        lp.integrality_ = [kind.kInteger if i else kind.kContinuous for i in pb.integer]
    return lp


def solve_block(task: BlockTask) -> BlockSolution:
    """Solve one block (runs in a worker: imports and state are its own). A block started
    late in its round gets only the time left to the round's deadline (at least MIN_SECONDS,
    often enough for a first plan to fix); one stopped before its root LP is bounded by its
    LP relaxation, whose value is still a valid bound."""
    limit = task.time_limit
    if task.deadline is not None:
        limit = max(min(limit, task.deadline - time.time()), MIN_SECONDS)
    h = highspy.Highs()
    for name, value in (("output_flag", False), ("threads", 1), ("random_seed", task.seed),
                        ("mip_rel_gap", task.gap), ("time_limit", limit)):
        h.setOptionValue(name, value)
    h.passModel(_lp(task))
    h.run()
    solution = _solution(h, task)
    if not task.relax and solution.bound == -math.inf and solution.status in ("feasible", "none"):
        # Stopped before its root LP: the LP relaxation's value is the bound it proves.
        relaxed = replace(task, relax=True, deadline=None, time_limit=highspy.kHighsInf)
        solution.bound = solve_block(relaxed).bound
    return solution


def _solution(h: highspy.Highs, task: BlockTask) -> BlockSolution:
    ms = highspy.HighsModelStatus
    status = h.getModelStatus()
    info = h.getInfo()
    seconds = float(h.getRunTime())
    name = task.problem.name
    if status == ms.kInfeasible:
        return BlockSolution(name, "infeasible", math.inf, math.inf, None, seconds)
    if status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
        return BlockSolution(name, "unbounded", -math.inf, -math.inf, None, seconds)
    has_plan = info.primal_solution_status == 2
    values = np.asarray(h.getSolution().col_value, dtype=float) if has_plan else None
    objective = float(info.objective_function_value) if has_plan else math.inf
    is_mip = not task.relax and task.problem.integer.any()
    if status == ms.kOptimal and not is_mip:
        bound = objective
    else:
        bound = float(info.mip_dual_bound) if is_mip else -math.inf
    if not math.isfinite(bound) and status == ms.kOptimal:
        bound = objective
    kind = "optimal" if status == ms.kOptimal else ("feasible" if has_plan else "none")
    return BlockSolution(name, kind, objective, bound, values, seconds)


def block_problems(structure, compiled) -> list[BlockProblem]:
    """Cut the full model into its blocks' own problems (coupling rows left out), with the
    column bounds the full model's rows imply where the model states none
    (optimiser.solving.decompose.bounds)."""
    lp = compiled.lp
    csc = structure.csr.tocsc()
    row_lower, row_upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    col_lower, col_upper = implied_bounds(structure.csr, row_lower, row_upper,
                                          np.asarray(lp.col_lower_), np.asarray(lp.col_upper_))
    integer = np.array([int(k) == int(highspy.HighsVarType.kInteger) for k in lp.integrality_],
                       dtype=bool) if len(lp.integrality_) else np.zeros(lp.num_col_, bool)
    out = []
    for b, name in enumerate(structure.blocks):
        cols, rows = structure.columns_of(b), structure.rows_of(b)
        out.append(BlockProblem(
            name=name, columns=cols, a=csc[:, cols][rows, :].tocsc(),
            row_lower=row_lower[rows], row_upper=row_upper[rows],
            col_lower=col_lower[cols], col_upper=col_upper[cols], integer=integer[cols]))
    return out
