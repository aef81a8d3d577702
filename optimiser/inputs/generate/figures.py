"""The figures the distributions rest on, and the small drawing and rounding helpers.

Every number the generator draws from is here, next to where it comes from (the sources are in
``data/shireford/README.md``), so a figure is changed in one place and the ids, prices and
shares every part of the council is built with round and split the same way.
"""

from __future__ import annotations

import math

import numpy as np

# --- Figures the distributions rest on (sources in data/shireford/README.md) -----------------
NLW_2023, NLW_2024, NLW_2026 = 10.42, 11.44, 12.71  # GBP/h, April of each year (facts §1.1)
DAY_START, DAY_END = 7 * 60, 22 * 60  # day hours 07:00-22:00 (15 h); night 22:00-07:00 (9 h)
DAY_HOURS, NIGHT_HOURS = 15, 9
DAY_CALL_SHARE = 0.70  # share of unplanned calls in the 15 day hours (assumption, facts §2.6)
OCCUPANCY = 0.95  # share of flats let (assumption; Leicestershire 16 of 254 void = 94 %)
CARE_SHARE = 0.70  # residents with a care package (assumption; no national figure, §2.3)
BAND_SHARES: dict[str, float] = {"low": 0.4, "moderate": 0.4, "high": 0.2}
BAND_HOURS: dict[str, tuple[float, float]] = {  # care hours/week by band (facts §2.4)
    "low": (3.0, 7.0),
    "moderate": (7.0, 14.0),
    "high": (12.0, 24.0),
}
CQC_SHARES: dict[str, float] = {  # King's Fund Social care 360, April 2023 (facts §3.1)
    "outstanding": 0.04,
    "good": 0.79,
    "requires_improvement": 0.15,
    "inadequate": 0.01,
}
UNRATED_SHARE = 0.05  # providers without a rating (assumption; most stale ratings still count)
ONSITE_SHARE = 0.28  # providers able to run an on-site 24/7 team (assumption)
PASSES_FLOOR = ("outstanding", "good", "requires_improvement")
GOOD_OR_BETTER = ("outstanding", "good")

# Visit windows (earliest start, latest start, minutes) and how long visits are relative to
# each other. Windows are chosen so that one resident's visits can never overlap.
SLOT_WINDOWS: dict[str, tuple[int, int]] = {
    "morning": (7 * 60, 9 * 60 + 30),
    "lunch": (12 * 60, 13 * 60 + 30),
    "tea": (16 * 60 + 30, 18 * 60),
    "bed": (19 * 60 + 30, 22 * 60),
}
SLOT_WEIGHT: dict[str, float] = {"morning": 1.5, "lunch": 1.0, "tea": 0.8, "bed": 1.0}
DAILY_SLOTS: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (("morning",),),
    2: (("morning", "bed"),),
    3: (("morning", "lunch", "bed"), ("morning", "tea", "bed")),
    4: (("morning", "lunch", "tea", "bed"),),
}
VISITS_PER_DAY: dict[str, dict[int, float]] = {
    "low": {1: 0.5, 2: 0.5},
    "moderate": {2: 0.4, 3: 0.4, 4: 0.2},
    "high": {3: 0.3, 4: 0.7},
}
NIGHT_STARTS: tuple[int, ...] = (23 * 60, 23 * 60 + 30, 0, 60, 120, 180)  # turns, checks
SHOWER_WINDOW = (14 * 60 + 30, 15 * 60 + 30)  # between lunch (ends by 14:30) and tea

# Budget setting: the council's indicative price of a package (assumptions, see the README).
BUDGET_TRAVEL_MINUTES = 10.0  # standard travel allowance per carer-visit
BUDGET_ENHANCEMENT: dict[str, float] = {"day": 1.0, "weekend": 1.15, "night": 1.25}


# --- Small helpers ----------------------------------------------------------------------------


def _pad(prefix: str, i: int, n: int) -> str:
    """Zero-padded id (P01, P120 -> P001 ... P120) so ids sort the same as numbers."""
    return f"{prefix}{i:0{max(2, len(str(n)))}d}"


def _round_to(x: float, step: float) -> float:
    """Round half up to a multiple of step: prices and sizes look hand-set, not random."""
    return float(math.floor(x / step + 0.5) * step)


def _pick(rng: np.random.Generator, weights: dict, /) -> object:
    """Draw one key of ``weights`` with probability proportional to its value."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _quota(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Split n by shares with the largest-remainder rule, so small councils still look national."""
    raw = {k: n * s / sum(shares.values()) for k, s in shares.items()}
    counts = {k: int(math.floor(v)) for k, v in raw.items()}
    by_remainder = sorted(shares, key=lambda k: (-(raw[k] - counts[k]), list(shares).index(k)))
    for k in by_remainder[: n - sum(counts.values())]:
        counts[k] += 1
    return counts
