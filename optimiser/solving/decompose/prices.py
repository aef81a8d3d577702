"""Prices on the coupling rows: the LP duals to start, then subgradient steps (Polyak).

Sign convention (HiGHS's, for a minimisation): a row l <= a x <= u gets a price y with y >= 0
allowed only where l is finite and y <= 0 only where u is finite; an equality row's price is
free. Then for every plan x meeting the row, y (a x) >= y b(y), with b(y) = l if y > 0 and u if
y < 0, which is what makes every such price vector give a valid lower bound
(docs/decomposition.md).
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from optimiser.solving.highs import Compiled


def project(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The nearest sign-feasible prices: no positive price on a row without a lower bound,
    no negative one on a row without an upper bound."""
    y = np.where(np.isfinite(lower), y, np.minimum(y, 0.0))
    return np.where(np.isfinite(upper), y, np.maximum(y, 0.0))


def right_hand_side(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """b(y): the bound of each row its price presses against (0 where the price is 0)."""
    return np.where(y > 0, np.where(np.isfinite(lower), lower, 0.0),
                    np.where(y < 0, np.where(np.isfinite(upper), upper, 0.0), 0.0))


def priced_costs(cost: np.ndarray, coupling: sp.csr_matrix, y: np.ndarray) -> np.ndarray:
    """c - A_c' y: each column's cost once the coupling rows are priced."""
    return cost - coupling.T @ y


def subgradient(y: np.ndarray, activity: np.ndarray, lower: np.ndarray,
                upper: np.ndarray) -> np.ndarray:
    """A subgradient of the Lagrangian dual at y, given the coupling rows' activity a x(y) at
    the blocks' solutions: b - a x, where b is the bound the row presses against (or the bound
    it breaks where its price is 0; 0 if it is met and unpriced)."""
    below = np.isfinite(lower) & (activity < lower)
    above = np.isfinite(upper) & (activity > upper)
    b = np.where(y > 0, lower, np.where(y < 0, upper, activity))
    b = np.where((y == 0) & below, lower, b)
    b = np.where((y == 0) & above, upper, b)
    b = np.where(np.isfinite(b), b, activity)
    return b - activity


def polyak_step(y: np.ndarray, g: np.ndarray, bound: float, target: float, theta: float,
                lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """y + theta (target - bound) / |g|^2 g, projected to sign-feasible prices. With no
    subgradient (every coupling row met with complementary prices) y is already optimal."""
    norm = float(g @ g)
    if norm <= 0.0 or target <= bound:
        return y
    return project(y + theta * (target - bound) / norm * g, lower, upper)


def lp_relaxation(compiled: Compiled, time_limit: float
                  ) -> tuple[np.ndarray | None, float | None, np.ndarray | None]:
    """The full model's LP relaxation: its row duals (our starting prices), its value, and its
    column values (where the global integers are rounded from, plan.py). Nones if HiGHS gives
    no optimal LP within the time."""
    h = highspy.Highs()
    for name, value in (("output_flag", False), ("threads", 1), ("time_limit", time_limit)):
        h.setOptionValue(name, value)
    lp = compiled.lp
    relaxed = highspy.HighsLp()
    for attr in ("num_col_", "num_row_", "col_cost_", "col_lower_", "col_upper_",
                 "row_lower_", "row_upper_", "a_matrix_", "offset_"):
        setattr(relaxed, attr, getattr(lp, attr))
    h.passModel(relaxed)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, None, None
    solution = h.getSolution()
    return (np.asarray(solution.row_dual, dtype=float),
            float(h.getInfo().objective_function_value),
            np.asarray(solution.col_value, dtype=float))


def repair_step(y: np.ndarray, activity: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                broken: np.ndarray, step: float) -> np.ndarray:
    """Prices steered towards the rows the blocks broke: a row short of its lower bound gets
    its price raised (meeting it pays more), a row over its upper bound lowered, each by
    `step` times its price and at least 1 (GBP a week per unit of the row), then projected.
    Any prices still bound the optimum (docs/decomposition.md §2); these aim at a plan: the
    blocks at a tie on such a row split the wrong way, and a small push tips them."""
    move = np.maximum(step * np.abs(y), 1.0)
    short = broken & np.isfinite(lower) & (activity < lower)
    over = broken & np.isfinite(upper) & (activity > upper)
    return project(y + np.where(short, move, 0.0) - np.where(over, move, 0.0), lower, upper)
