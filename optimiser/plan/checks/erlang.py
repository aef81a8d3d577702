"""The checker's own emergency reserve, computed by a different path from the optimiser's.

The optimiser (optimiser/inputs/queueing.py) reaches Erlang C through the Erlang B recursion.
Here the textbook formula is evaluated from Poisson probabilities (scipy.stats.poisson):
with offered load A erlangs and m floating carers,

    C(m, A) = P[N = m] m / (m - A) / (P[N <= m - 1] + P[N = m] m / (m - A)),  N ~ Poisson(A),

which is the usual sum_{i<m} A^i / i! form with e^-A cancelled top and bottom. A plan is
checked against this number, so a fault in either derivation shows up as a disagreement.
"""

from __future__ import annotations

import math

from scipy.stats import poisson

MOST_STAFF = 200  # no scheme needs more floating carers than this; more means bad input


def waiting_probability(carers: int, erlangs: float) -> float:
    """Probability that a call finds every floating carer busy (1 if they are overloaded)."""
    if erlangs <= 0:
        return 0.0
    if carers <= erlangs:
        return 1.0
    queued = poisson.pmf(carers, erlangs) * carers / (carers - erlangs)
    return float(queued / (poisson.cdf(carers - 1, erlangs) + queued))


def share_reached(carers: int, calls_per_hour: float, call_minutes: float,
                  target_minutes: float) -> float:
    """Share of calls a carer reaches within the target: 1 - C exp(-(m - A) target / mean)."""
    erlangs = calls_per_hour * call_minutes / 60.0
    if erlangs <= 0:
        return 1.0
    late = waiting_probability(carers, erlangs)  # 1 when overloaded: then nobody in time
    return max(0.0, 1.0 - late * math.exp(-(carers - erlangs) * target_minutes / call_minutes))


def floating_carers(calls_per_hour: float, call_minutes: float, target_minutes: float,
                    share: float) -> int:
    """Fewest floating carers that reach ``share`` of calls within the target (0 without calls)."""
    if calls_per_hour <= 0:
        return 0
    carers = 1
    while share_reached(carers, calls_per_hour, call_minutes, target_minutes) < share:
        carers += 1
        if carers > MOST_STAFF:
            raise ValueError(f"{calls_per_hour:g} calls an hour cannot be reached in time by "
                             f"{MOST_STAFF} carers")
    return carers
