"""Finite bounds for columns the model leaves unbounded, implied by the full model's rows.

A block keeps only its local rows, so a column bounded in the full model only through a
coupling row (total commissioned hours, say, through the sum of every provider's hours) would
be unbounded in its block, and a price making its cost negative would send the block's minimum
to minus infinity. Bounds implied by the rows of the full model (activity-based bound
propagation, as in MIP presolve) hold for every plan of the full model, so adding them to the
blocks leaves every Lagrangian bound valid (docs/decomposition.md).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

PASSES = 4
SLACK = 1e-6  # relative: a plan within HiGHS's feasibility tolerance stays inside


def _row_sums(rows: np.ndarray, terms: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the sum of the finite terms and how many terms are infinite."""
    finite = np.isfinite(terms)
    total = np.bincount(rows, weights=np.where(finite, terms, 0.0), minlength=n)
    return total, np.bincount(rows, weights=(~finite).astype(float), minlength=n)


def _rest(total: np.ndarray, count: np.ndarray, rows: np.ndarray, own: np.ndarray,
          missing: float) -> np.ndarray:
    """The row's extreme activity without the entry's own term (missing if still infinite)."""
    own_infinite = ~np.isfinite(own)
    others_infinite = count[rows] - own_infinite > 0
    rest = total[rows] - np.where(own_infinite, 0.0, own)
    return np.where(others_infinite, missing, rest)


def _one_pass(coo: sp.coo_matrix, row_lower: np.ndarray, row_upper: np.ndarray,
              lower: np.ndarray, upper: np.ndarray) -> bool:
    """For entry a_ij: a_ij x_j <= u_i - (least of the rest), >= l_i - (most of the rest)."""
    r, c, v = coo.row, coo.col, coo.data
    with np.errstate(invalid="ignore", over="ignore"):
        least = np.where(v > 0, v * lower[c], v * upper[c])
        most = np.where(v > 0, v * upper[c], v * lower[c])
    n = coo.shape[0]
    least_total, least_count = _row_sums(r, least, n)
    most_total, most_count = _row_sums(r, most, n)
    open_entry = ~np.isfinite(lower[c]) | ~np.isfinite(upper[c])
    r, c, v = r[open_entry], c[open_entry], v[open_entry]
    rest_least = _rest(least_total, least_count, r, least[open_entry], -np.inf)
    rest_most = _rest(most_total, most_count, r, most[open_entry], np.inf)
    with np.errstate(invalid="ignore"):
        high = (row_upper[r] - rest_least) / v  # from the row's upper side
        low = (row_lower[r] - rest_most) / v  # from its lower side
    new_upper = np.where(v > 0, high, low)
    new_lower = np.where(v > 0, low, high)
    before = (lower.copy(), upper.copy())
    ok_u, ok_l = np.isfinite(new_upper), np.isfinite(new_lower)
    np.minimum.at(upper, c[ok_u], new_upper[ok_u])
    np.maximum.at(lower, c[ok_l], new_lower[ok_l])
    return not (np.array_equal(before[0], lower) and np.array_equal(before[1], upper))


def implied_bounds(a: sp.spmatrix, row_lower: np.ndarray, row_upper: np.ndarray,
                   col_lower: np.ndarray, col_upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds tightened from the rows, for columns with an infinite bound only (the
    finite bounds are kept as the model states them)."""
    lower, upper = col_lower.astype(float).copy(), col_upper.astype(float).copy()
    open_lower, open_upper = ~np.isfinite(lower), ~np.isfinite(upper)
    work_lower, work_upper = lower.copy(), upper.copy()
    coo = sp.coo_matrix(a)
    for _ in range(PASSES):
        if not _one_pass(coo, row_lower, row_upper, work_lower, work_upper):
            break
    slack = SLACK * (1.0 + np.abs(work_upper))
    upper[open_upper] = work_upper[open_upper] + slack[open_upper]
    slack = SLACK * (1.0 + np.abs(work_lower))
    lower[open_lower] = work_lower[open_lower] - slack[open_lower]
    return lower, upper
