"""Building a plan for the full model from the blocks' solutions, and repairing it.

Fix-and-complete: each scheme's private integers (its rota, its block award: integer columns
indexed by the scheme that sit in no coupling row) are fixed at the values the scheme's own
solve chose, and HiGHS completes everything else (care routes, framework admission, provider
hours) in the full model, which keeps every coupling row. Where that restriction has no plan
(the fixed rotas break a coupling row: a provider's capacity, the market-share cap...), the
schemes whose block solutions put activity into the broken rows are freed and the completion
is tried again; last, nothing is fixed. Where the blocks broke rows that hold global integers
(framework admission: schemes called off providers the global block did not admit), the
rotas were sized for care that must go elsewhere, and freeing every scheme leaves a MIP as
hard as the whole model; there the global integers are fixed first, rounded from the LP
relaxation within their own rows, and HiGHS completes the rest (docs/decomposition.md §4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from optimiser.inputs.config import SolverOptions
from optimiser.solving.decompose.structure import GLOBAL, Structure
from optimiser.solving.decompose.subproblems import BlockProblem, BlockTask, solve_block
from optimiser.solving.highs import Compiled, set_options

TOL = 1e-6
ROUNDING_SECONDS = 10.0  # the global block's rounding MIP (a few dozen binaries) gets this long
COMPLETE_GAP_SHARE = 0.1  # the completion is solved to this share of the requested gap: its
# own stopping gap is added to the plan's, and with the rotas fixed it is a small MIP


@dataclass
class Completion:
    """A plan for the full model (or none), and what it took."""

    objective: float
    values: np.ndarray | None
    freed: list[str]  # schemes whose integers were left free
    status: str
    seconds: float = 0.0
    globals_rounded: bool = False  # the global integers were fixed at the LP's rounding


def fixable(compiled: Compiled, structure: Structure) -> np.ndarray:
    """Columns a scheme's solve may fix: integers indexed by their scheme's id that sit in no
    coupling row."""
    integer = structure.integer
    in_coupling = np.zeros(len(compiled.columns), dtype=bool)
    coupling = structure.csr[structure.coupling_rows]
    in_coupling[np.unique(coupling.indices)] = True
    names = structure.blocks
    first = np.array([
        names[b] != GLOBAL and isinstance(v.index(), tuple) and v.index()[0] == names[b]
        for v, b in zip(compiled.columns, structure.column_block, strict=True)], dtype=bool)
    return integer & first & ~in_coupling


def global_binaries(compiled: Compiled, structure: Structure) -> np.ndarray:
    """The global block's 0-1 columns (framework admission): the decisions every scheme's
    care depends on."""
    lp = compiled.lp
    binary = (np.asarray(lp.col_lower_) >= 0) & (np.asarray(lp.col_upper_) <= 1)
    return (structure.column_block == structure.schemes) & structure.integer & binary


def rounded_globals(problem: BlockProblem, binaries: np.ndarray, lp_values: np.ndarray,
                    seed: int) -> np.ndarray | None:
    """The global block's binaries nearest the LP relaxation's values that meet the global
    block's own rows (providers per zone): min sum_j (1 - 2 v_j) g_j, which is the L1 distance
    sum_j |g_j - v_j| less a constant for 0-1 g_j. Returns the full-length vector with the
    global block's columns set (None if its rows have no 0-1 solution)."""
    mine = binaries[problem.columns]
    value = np.clip(lp_values[problem.columns], 0.0, 1.0)
    cost = np.where(mine, 1.0 - 2.0 * value, 0.0)
    solved = solve_block(BlockTask(problem, cost, 0.0, ROUNDING_SECONDS, seed))
    if solved.values is None:
        return None
    out = np.zeros(len(binaries))
    out[problem.columns] = solved.values
    return out


def breaks_global_integers(structure: Structure, compiled: Compiled, x: np.ndarray) -> bool:
    """Whether the blocks' answers x break a coupling row that holds a global integer column
    (a scheme calling off a provider the global block did not admit)."""
    sub, broken = _broken_coupling_rows(structure, compiled, x)
    global_integer = (structure.column_block == structure.schemes) & structure.integer
    holds = np.asarray(abs(sub) @ global_integer.astype(float)).ravel() > 0
    return bool((broken & holds).any())


def _broken_coupling_rows(structure: Structure, compiled: Compiled,
                          x: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """The coupling rows' matrix, and which of them x breaks (as the blocks left them: no
    global column is re-derived here)."""
    rows = structure.coupling_rows
    sub = structure.csr[rows]
    activity = sub @ x
    lower = np.asarray(compiled.lp.row_lower_)[rows]
    upper = np.asarray(compiled.lp.row_upper_)[rows]
    return sub, (activity < lower - TOL) | (activity > upper + TOL)


def broken_schemes(structure: Structure, compiled: Compiled, x: np.ndarray,
                   widest: int) -> list[str]:
    """Schemes carrying activity into the coupling rows the blocks' solutions x break, leaving
    out rows fed by more than `widest` schemes (a county-wide share: freeing every scheme is no
    repair)."""
    sub, broken_rows = _broken_coupling_rows(structure, compiled, x)
    broken = np.flatnonzero(broken_rows)
    out: set[int] = set()
    for i in broken:
        cols = sub.indices[sub.indptr[i]:sub.indptr[i + 1]]
        vals = sub.data[sub.indptr[i]:sub.indptr[i + 1]]
        carrying = cols[np.abs(vals * x[cols]) > TOL]
        blocks = set(structure.column_block[carrying].tolist()) - {structure.schemes}
        if len(blocks) <= widest:
            out |= blocks
    return sorted(structure.blocks[b] for b in out)


def complete(compiled: Compiled, fixed: np.ndarray, x: np.ndarray, options: SolverOptions,
             time_limit: float, start: np.ndarray | None = None,
             target: float | None = None) -> Completion:
    """HiGHS on the full model with the fixed columns held at x (rounded); it stops early at
    a plan costing no more than `target` (one the decomposition's bound already proves)."""
    lp = compiled.lp
    lower = np.asarray(lp.col_lower_, dtype=float).copy()
    upper = np.asarray(lp.col_upper_, dtype=float).copy()
    held = np.round(x[fixed])
    lower[fixed] = held
    upper[fixed] = held
    h = highspy.Highs()
    set_options(h, options.model_copy(update={
        "time_limit": max(time_limit, 1.0),
        "mip_rel_gap": options.mip_rel_gap * COMPLETE_GAP_SHARE}), None)
    if target is not None:
        h.setOptionValue("objective_target", float(target))
    h.passModel(lp)
    h.changeColsBounds(len(lower), np.arange(len(lower), dtype=np.int32), lower, upper)
    if start is not None:
        h.setSolution(_solution(start))
    h.run()
    seconds = float(h.getRunTime())
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return Completion(math.inf, None, [], h.modelStatusToString(h.getModelStatus()), seconds)
    values = np.asarray(h.getSolution().col_value, dtype=float)
    return Completion(float(info.objective_function_value), values, [], "plan", seconds)


def _solution(values: np.ndarray) -> highspy.HighsSolution:
    sol = highspy.HighsSolution()
    sol.col_value = list(map(float, values))
    sol.value_valid = True
    return sol


def build_plan(compiled: Compiled, structure: Structure, x: np.ndarray, options: SolverOptions,
               time_limit: float, fixed: np.ndarray, target: float | None = None,
               rounded: np.ndarray | None = None) -> Completion:
    """Fix (the columns marked fixed) and complete; where that has no plan, fix the global
    binaries at `rounded` (the LP's rounding) instead if the blocks broke rows holding them,
    else repair by freeing the schemes behind broken coupling rows."""
    done = complete(compiled, fixed, x, options, time_limit, target=target)
    spent, tried = done.seconds, [[]]
    if done.values is None and rounded is not None and time_limit - spent >= 1.0 \
            and breaks_global_integers(structure, compiled, x):
        first = complete(compiled, global_binaries(compiled, structure), rounded, options,
                         time_limit - spent, target=target)
        spent += first.seconds
        if first.values is not None:
            first.seconds, first.globals_rounded = spent, True
            first.freed = [name for name in structure.blocks if name != GLOBAL]
            return first
    # First free the schemes behind rows few schemes feed (a provider's capacity or share),
    # then behind every broken row fed by fewer than all schemes.
    for widest in (max(1, structure.schemes // 2), structure.schemes - 1):
        if done.values is not None or time_limit - spent < 1.0:
            break
        freed = broken_schemes(structure, compiled, x, widest)
        if not freed or freed in tried:
            continue
        tried.append(freed)
        blocks = [structure.blocks.index(s) for s in freed]
        mask = fixed & ~np.isin(structure.column_block, blocks)
        done = complete(compiled, mask, x, options, time_limit - spent, target=target)
        spent += done.seconds
        done.freed = freed
    done.seconds = spent
    return done


def dearest_schemes(structure: Structure, cost: np.ndarray, blocks_x: np.ndarray,
                    plan: np.ndarray, share: float, most: int) -> list[str]:
    """The schemes whose fixed rotas cost the plan most: each scheme's excess is its columns'
    cost in the plan less in its own block's answer; the dearest are taken until they hold
    `share` of the positive excess, at most `most` of them."""
    excess = np.zeros(len(structure.blocks))
    np.add.at(excess, structure.column_block, cost * (plan - blocks_x))
    excess[structure.schemes] = 0.0  # the global block has no rota to free
    order = [int(b) for b in np.argsort(-excess) if excess[b] > TOL]
    total = float(excess[order].sum()) if order else 0.0
    chosen, held = [], 0.0
    for b in order[:most]:
        if held >= share * total:
            break
        chosen.append(b)
        held += excess[b]
    return [structure.blocks[b] for b in chosen]


def free_dearest(compiled: Compiled, structure: Structure, blocks_x: np.ndarray,
                 plan: np.ndarray, fixed: np.ndarray, options: SolverOptions,
                 time_limit: float, target: float | None = None, share: float = 0.8,
                 most_share: float = 0.1) -> Completion:
    """A second completion from the plan (its start) with the dearest schemes' rotas and
    awards freed (dearest_schemes): the plan's cost above the blocks' answers sits in a few
    schemes whose fixed rota forced dearer care, and freeing only those keeps the MIP small."""
    cost = np.asarray(compiled.lp.col_cost_, dtype=float)
    most = max(1, int(most_share * structure.schemes))
    freed = dearest_schemes(structure, cost, blocks_x, plan, share, most)
    if not freed:
        return Completion(math.inf, None, [], "nothing to free")
    blocks = [structure.blocks.index(s) for s in freed]
    mask = fixed & ~np.isin(structure.column_block, blocks)
    done = complete(compiled, mask, plan, options, time_limit, start=plan, target=target)
    done.freed = freed
    return done
