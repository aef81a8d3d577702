"""Schemes: their sizes, staffing floors and unplanned-call rates, spread over the zones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimiser.inputs.generate.figures import DAY_CALL_SHARE, DAY_HOURS, NIGHT_HOURS, _pad
from optimiser.inputs.generate.records import Scheme

FLATS_MIN, FLATS_MODE, FLATS_MAX = 35, 40, 90  # triangular; mean 55 flats (facts §2.2)


def _flats(rng: np.random.Generator, n: int) -> list[int]:
    """Scheme sizes from a triangular 35-40-90 distribution, stratified so totals are stable.

    One draw from each of n equal-probability strata (in random order) keeps the council's
    total near n x 55 flats, so a preset always has about the size it promises.
    """
    u = (rng.permutation(n) + rng.random(n)) / n
    a, c, b = FLATS_MIN, FLATS_MODE, FLATS_MAX
    split = (c - a) / (b - a)
    low = a + np.sqrt(u * (b - a) * (c - a))
    high = b - np.sqrt((1 - u) * (b - a) * (b - c))
    return [int(round(x)) for x in np.where(u < split, low, high)]


def _make_scheme(
    rng: np.random.Generator, scheme_id: str, name: str, zone: str, flats: int
) -> Scheme:
    """One scheme: staffing floors and unplanned-call rates for its size.

    Staffing: one day carer is enough below 45 flats; a lone waking night worker is allowed
    below 50 flats; from 50 flats lone working is not allowed (night minimum becomes 2) and from
    70 flats two waking night staff are written explicitly. Calls: 0.25-0.45 per flat per day,
    70 % in the 15 day hours (assumptions; no published ECH call rate was found, facts §2.6).
    """
    calls_per_day = float(rng.uniform(0.25, 0.45)) * flats
    return Scheme(
        scheme_id=scheme_id,
        name=name,
        zone=zone,
        flats=flats,
        day_min_staff=1 if flats < 45 else 2,
        night_min_staff=2 if flats >= 70 else 1,
        lone_working_at_night=flats < 50,
        day_calls_per_hour=round(calls_per_day * DAY_CALL_SHARE / DAY_HOURS, 3),
        night_calls_per_hour=round(calls_per_day * (1 - DAY_CALL_SHARE) / NIGHT_HOURS, 3),
        mean_call_minutes=float(rng.integers(12, 21)),
        response_target_minutes=float(rng.choice([10, 15])),
        response_share=0.9,
    )


def _make_schemes(
    rng: np.random.Generator, n_schemes: int, zones: Sequence[str], names: Sequence[str]
) -> list[Scheme]:
    """All schemes, spread over the zones in contiguous runs (a zone is a locality)."""
    flats = _flats(rng, n_schemes)
    return [
        _make_scheme(
            rng,
            _pad("S", i + 1, n_schemes),
            names[i],
            zones[i * len(zones) // n_schemes],
            flats[i],
        )
        for i in range(n_schemes)
    ]
