"""Deterministic synthetic datasets: Extra Care Housing schemes, residents, visits, providers.

Why: the optimiser has to be tested and benchmarked at county and metropolitan scale, but real
resident data is personal and cannot be shipped. This module builds a plausible council from
published UK figures (see ``data/shireford/README.md``
for every number and its source) and writes the five input CSVs of
:mod:`optimiser.inputs.schema`, in exactly its column order.

Same seed, same bytes: every random draw comes from one ``numpy.random.default_rng(seed)`` in a
fixed order, rows are sorted, floats are written with fixed decimals and nothing iterates over a
hash-ordered set of strings. No Pyomo here: data generation must not depend on the model.

Regenerate the bundled example with
``python -m optimiser.inputs.generate --shireford data/shireford``.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optimiser.inputs.schema import COST_NAMES, DAYS, TABLES, TableSpec

# Scale presets: number of schemes (S = one scheme, M = a county, L = a metropolitan council).
PRESETS: dict[str, int] = {"S": 1, "M": 25, "L": 80}
SHIREFORD_SEED = 2026

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

SHIREFORD_ZONES = ("North", "Central", "South")
SHIREFORD_SCHEMES = (
    "Oakfield Court",
    "Willow House",
    "Beech Lodge",
    "Meadowbank",
    "Linden Court",
    "Brookside Place",
)
SHIREFORD_PROVIDERS = (
    "Brightwater Care Services",
    "Kingsmere Homecare",
    "Oakleaf Community Care",
    "Shireford Care Partnership",
    "Marlowe Support at Home",
    "Fernlea Care",
    "Northgate Home Support",
    "Greenhollow Care",
    "Tillbrook Homecare",
    "Wrenfield Care Services",
    "Ashcombe Care at Home",
    "Copperbeech Support",
    "Lanternlight Homecare",
    "Kestrel Vale Care",
)
NAME_STEMS = (
    "Ashcombe", "Brightwater", "Bramblewood", "Cedarlea", "Cloverfield", "Copperbeech",
    "Dovecote", "Elmstead", "Evergreen", "Fernlea", "Foxglove", "Goldcrest", "Greenhollow",
    "Hazelwood", "Heathervale", "Hollybush", "Ivydene", "Juniper", "Kestrel Vale", "Kingsmere",
    "Larkspur", "Lavender Lane", "Marlowe", "Meadowsweet", "Millbrook", "Moorhen", "Mulberry",
    "Nightjar", "Northgate", "Oakleaf", "Orchard Vale", "Pinewood", "Primrose Hill", "Quayside",
    "Redwing", "Rosemoor", "Sandpiper", "Silverbirch", "Southmead", "Sunnybank", "Thornleigh",
    "Tillbrook", "Wildflower", "Willowbrook", "Wrenfield", "Yewtree",
)  # fmt: skip
NAME_SUFFIXES = (
    "Care", "Homecare", "Care Services", "Home Support", "Care at Home", "Community Care",
    "Care Partnership", "Support Services",
)  # fmt: skip


@dataclass
class Scheme:
    """One Extra Care Housing scheme, as a row of schemes.csv."""

    scheme_id: str
    name: str
    zone: str
    flats: int
    day_min_staff: int
    night_min_staff: int
    lone_working_at_night: bool
    day_calls_per_hour: float
    night_calls_per_hour: float
    mean_call_minutes: float
    response_target_minutes: float
    response_share: float


@dataclass
class Visit:
    """One planned visit; day is an index into DAYS, start in minutes after midnight."""

    day: int
    start: int
    minutes: int
    carers: int


def _enhancement(v: Visit) -> float:
    """Council's unsocial-hours uplift for a visit, by its start (night 22-07, then weekend)."""
    if v.start >= DAY_END or v.start < DAY_START:
        return BUDGET_ENHANCEMENT["night"]
    return BUDGET_ENHANCEMENT["weekend" if v.day >= 5 else "day"]


@dataclass
class Resident:
    """One resident and the planned visits of their care package."""

    resident_id: str
    scheme_id: str
    needs_band: str
    weekly_budget: float = 0.0
    preferred_provider: str | None = None
    preference_strength: str = "none"
    wants_direct_payment: bool = False
    visits: list[Visit] = field(default_factory=list)

    def carer_hours(self) -> float:
        """Carer-hours per week (a double-up visit counts twice)."""
        return sum(v.minutes * v.carers for v in self.visits) / 60.0

    def priced_hours(self) -> float:
        """Carer-hours as the council prices a package to set its budget: each carer-visit
        plus a standard travel allowance, night and weekend hours at their enhancement."""
        return sum(
            v.carers * (v.minutes + BUDGET_TRAVEL_MINUTES) / 60.0 * _enhancement(v)
            for v in self.visits
        )


@dataclass
class Provider:
    """One care provider, as a row of providers.csv (zones held as zone indices)."""

    provider_id: str
    name: str
    cqc_rating: str
    onsite_capable: bool
    zones: set[int] = field(default_factory=set)
    satisfaction: float = 0.0
    block_rate_day: float | None = None
    block_rate_night: float | None = None
    block_rate_weekend: float | None = None
    framework_rate_day: float = 0.0
    framework_rate_night: float = 0.0
    framework_rate_weekend: float = 0.0
    travel_minutes_per_visit: float = 0.0
    weekly_capacity_hours: float = 0.0
    framework_admission_cost: float = 0.0
    framework_monitoring_cost: float = 0.0
    min_block_hours: float | None = None


@dataclass(frozen=True)
class Naming:
    """Optional hand-chosen names (the bundled example); generic names are used otherwise."""

    zones: Sequence[str] = ()
    schemes: Sequence[str] = ()
    providers: Sequence[str] = ()


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


def n_zones_for(n_schemes: int) -> int:
    """About one zone per three schemes (1 -> 1, 6 -> 3, 25 -> 9, 80 -> 27)."""
    return max(1, 1 + n_schemes // 3)


def default_n_providers(n_schemes: int) -> int:
    """Providers in the market: 6 for one scheme, else 1.5 per scheme and at least 12."""
    return 6 if n_schemes == 1 else max(12, round(1.5 * n_schemes))


# --- Schemes ----------------------------------------------------------------------------------


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


# --- Providers: ratings, on-site capability, zones ---------------------------------------------


def _rating_counts(n: int) -> dict[str, int]:
    """CQC ratings in national proportions, with at least one of each kind the rules test.

    Every council needs at least one outstanding and one requires-improvement provider and one
    unrated (new or never inspected) provider; from 12 providers also one inadequate, so that a
    CQC floor visibly excludes someone.
    """
    n_unrated = max(1, round(UNRATED_SHARE * n))
    counts = _quota(n - n_unrated, CQC_SHARES)
    counts["unrated"] = n_unrated
    minimum = {"outstanding": 1, "requires_improvement": 1, "inadequate": 1 if n >= 12 else 0}
    for rating, least in minimum.items():
        lack = max(0, least - counts[rating])
        counts[rating] += lack
        counts["good"] -= lack
    if counts["good"] < 2:
        raise ValueError(f"{n} providers are too few for a realistic market (need at least 5)")
    return counts


def _make_providers(
    rng: np.random.Generator, n: int, n_zones: int, names: Sequence[str]
) -> list[Provider]:
    """Providers with a shuffled rating, on-site capability and the zones they serve."""
    ratings = [r for r, k in _rating_counts(n).items() for _ in range(k)]
    ratings = [ratings[i] for i in rng.permutation(n)]
    providers = [Provider(_pad("P", i + 1, n), names[i], ratings[i], False) for i in range(n)]
    _choose_onsite(rng, providers, n_zones)
    _assign_zones(rng, providers, n_zones)
    return providers


def _choose_onsite(rng: np.random.Generator, providers: list[Provider], n_zones: int) -> None:
    """Mark about 28 % of providers on-site capable, nearly all of them Good or better.

    Every zone needs two Good-or-better on-site providers (a provider serves at most 3 zones),
    else a block contract could be impossible by construction. From 12 providers one on-site
    capable provider is rated requires improvement, so the "on-site provider at least Good"
    rule has something to exclude.
    """
    n = len(providers)
    with_ri = n >= 12
    n_onsite = max(2, round(ONSITE_SHARE * n), math.ceil(2 * n_zones / 3) + with_ri)
    good = [i for i, p in enumerate(providers) if p.cqc_rating in GOOD_OR_BETTER]
    n_good = n_onsite - with_ri
    if len(good) < n_good:
        raise ValueError(f"{n} providers are too few for {n_zones} zones")
    chosen = sorted(int(i) for i in rng.choice(good, size=n_good, replace=False))
    ri = [i for i, p in enumerate(providers) if p.cqc_rating == "requires_improvement"]
    if with_ri:
        chosen.append(int(rng.choice(ri)))
    for i in chosen:
        providers[i].onsite_capable = True


def _nearest_free_zone(rng: np.random.Generator, served: set[int], n_zones: int) -> int:
    """A zone next to those already served (zones are numbered along the map), ties at random."""
    free = [z for z in range(n_zones) if z not in served]
    if not served:
        return int(rng.integers(n_zones))
    dist = [min(abs(z - s) for s in served) for z in free]
    near = [z for z, d in zip(free, dist, strict=True) if d == min(dist)]
    return int(near[int(rng.integers(len(near)))])


def _add_zone(
    rng: np.random.Generator, providers: list[Provider], pool: list[int], zone: int
) -> None:
    """Extend the least-spread provider of ``pool`` (closest first) to ``zone``."""
    candidates = [i for i in pool if zone not in providers[i].zones and len(providers[i].zones) < 3]
    if not candidates:
        raise ValueError(f"cannot give zone {zone + 1} enough providers: add providers")
    tiebreak = rng.permutation(len(candidates))
    best = min(
        range(len(candidates)),
        key=lambda k: (
            len(providers[candidates[k]].zones),
            min((abs(zone - s) for s in providers[candidates[k]].zones), default=0),
            tiebreak[k],
        ),
    )
    providers[candidates[best]].zones.add(zone)


def _assign_zones(rng: np.random.Generator, providers: list[Provider], n_zones: int) -> None:
    """Each provider serves 1-3 neighbouring zones; every zone gets its guaranteed cover.

    Guarantees (else the council's problem is infeasible by construction): at least two
    on-site capable Good-or-better providers and at least three providers that pass a
    requires-improvement floor serve every zone.
    """
    onsite_good = [
        i for i, p in enumerate(providers) if p.onsite_capable and p.cqc_rating in GOOD_OR_BETTER
    ]
    for zone in range(n_zones):
        for _ in range(min(2, len(onsite_good))):
            _add_zone(rng, providers, onsite_good, zone)
    spread = rng.choice([1, 2, 3], size=len(providers), p=[0.3, 0.45, 0.25])
    for p, want in zip(providers, spread, strict=True):
        while len(p.zones) < min(int(want), n_zones):
            p.zones.add(_nearest_free_zone(rng, p.zones, n_zones))
    floor_ok = [i for i, p in enumerate(providers) if p.cqc_rating in PASSES_FLOOR]
    for zone in range(n_zones):
        while sum(zone in providers[i].zones for i in floor_ok) < min(3, len(floor_ok)):
            _add_zone(rng, providers, floor_ok, zone)


def _price_provider(rng: np.random.Generator, p: Provider) -> None:
    """Rates at April 2026 levels, quality, travel time, capacity and contract costs.

    Framework day rate GBP 25-33/h spans the 2025-26 average council fee (GBP 24.10) to the
    HCA minimum price (GBP 32.14), both uprated by the 4.1 % NLW rise; better-rated providers
    charge a little more. Block rates are per on-site staff-hour (no travel, guaranteed
    volume), GBP 21-26 by day. Enhancements, travel and contract costs are assumptions.
    """
    premium = {"outstanding": 1.5, "good": 0.75}.get(p.cqc_rating, 0.0)
    sat_range = {
        "outstanding": (88, 96),
        "good": (80, 92),
        "requires_improvement": (72, 84),
        "inadequate": (70, 78),
        "unrated": (74, 90),
    }[p.cqc_rating]
    p.satisfaction = round(float(rng.uniform(*sat_range)), 1)
    day = min(33.0, float(rng.uniform(25.0, 31.5)) + premium)
    p.framework_rate_day = round(day, 2)
    p.framework_rate_night = round(day * float(rng.uniform(1.20, 1.30)), 2)
    p.framework_rate_weekend = round(day * float(rng.uniform(1.10, 1.20)), 2)
    p.travel_minutes_per_visit = round(float(rng.uniform(8.0, 25.0)), 1)
    p.framework_admission_cost = _round_to(float(rng.uniform(2000, 8000)), 50)
    p.framework_monitoring_cost = _round_to(float(rng.uniform(4000, 12000)), 50)
    if p.onsite_capable:
        block = float(rng.uniform(21.0, 26.0))
        p.block_rate_day = round(block, 2)
        p.block_rate_night = round(min(29.0, max(23.0, block * float(rng.uniform(1.08, 1.14)))), 2)
        p.block_rate_weekend = round(block * float(rng.uniform(1.08, 1.15)), 2)
        p.min_block_hours = _round_to(float(rng.uniform(250, 450)), 5)
        p.weekly_capacity_hours = _round_to(float(rng.uniform(1500, 4000)), 10)
    else:
        p.weekly_capacity_hours = _round_to(float(rng.uniform(400, 1500)), 10)


# --- Residents and their visits ----------------------------------------------------------------


def _start_in(rng: np.random.Generator, window: tuple[int, int]) -> int:
    """A start time on the 15-minute grid inside [earliest, latest]."""
    lo, hi = window
    return lo + 15 * int(rng.integers(0, (hi - lo) // 15 + 1))


def _visit_minutes(share_of_day: float) -> int:
    """Round to the 15-minute slots councils buy (facts §1.7), between 15 and 60 minutes."""
    return int(min(60, max(15, _round_to(share_of_day, 15))))


def _care_days(rng: np.random.Generator, band: str) -> list[int]:
    """Days with visits: every day for most, 2-5 days a week for a quarter of low-need packages."""
    if band == "low" and rng.random() < 0.25:
        k = int(rng.integers(2, 6))
        return sorted(int(d) for d in rng.choice(7, size=k, replace=False))
    return list(range(7))


def _plan_visits(rng: np.random.Generator, band: str, hours: float) -> list[Visit]:
    """Turn assessed weekly hours into a realistic week of visits.

    Daily visits at morning, lunch, tea and bed times (morning the longest), the same time each
    day; a night turn for some high-need residents; a twice-weekly shower visit for some; double
    -up (two carers) for the morning, bed and night visits of about 12 % of high-need residents.
    """
    days = _care_days(rng, band)
    slots = DAILY_SLOTS[int(_pick(rng, VISITS_PER_DAY[band]))]
    slots = slots[int(rng.integers(len(slots)))]
    per_day = hours * 60.0 / len(days)
    weight = sum(SLOT_WEIGHT[s] for s in slots)
    double_up = band == "high" and rng.random() < 0.12
    plan: list[tuple[int, int, int]] = []  # (start, minutes, carers), same every care day
    for s in slots:
        carers = 2 if double_up and s in ("morning", "bed") else 1
        plan.append(
            (
                _start_in(rng, SLOT_WINDOWS[s]),
                _visit_minutes(per_day * SLOT_WEIGHT[s] / weight),
                carers,
            )
        )
    if band == "high" and rng.random() < 0.3:
        start = NIGHT_STARTS[int(rng.integers(len(NIGHT_STARTS)))]
        plan.append((start, 15 * int(rng.integers(1, 3)), 2 if double_up else 1))
    visits = [Visit(d, st, m, c) for d in days for st, m, c in plan]
    if band != "high" and rng.random() < 0.15:
        shower_days = sorted(int(d) for d in rng.choice(7, size=2, replace=False))
        start, minutes = _start_in(rng, SHOWER_WINDOW), 15 * int(rng.integers(3, 5))
        visits += [Visit(d, start, minutes, 1) for d in shower_days]
    return sorted(visits, key=lambda v: (v.day, v.start))


def _make_resident(
    rng: np.random.Generator,
    resident_id: str,
    scheme_id: str,
    zone_providers: list[Provider],
) -> Resident:
    """One resident: 70 % have a care package with a budget, some a preference or a DP.

    Budget: the package priced as the council would (carer time plus a travel allowance per
    visit, night and weekend uplifts) at an indicative GBP 26-30/h, times 0.95-1.25, so some
    budgets are tight. Direct payment wanted by 9 % (14 % of people 65+ on long-term support
    have one, facts §2.7; fewer in ECH where care is on site); they choose their carer through
    the payment, so they name no provider. Of the others 27 % name a provider serving their
    zone (85 % of those Good or better), 40 % of them strongly: about 25 % of all packages.
    """
    if rng.random() >= CARE_SHARE:
        return Resident(resident_id, scheme_id, "none")
    band = str(_pick(rng, BAND_SHARES))
    res = Resident(resident_id, scheme_id, band)
    res.visits = _plan_visits(rng, band, float(rng.uniform(*BAND_HOURS[band])))
    rate, factor = float(rng.uniform(26.0, 30.0)), float(rng.uniform(0.95, 1.25))
    res.weekly_budget = round(res.priced_hours() * rate * factor, 2)
    res.wants_direct_payment = bool(rng.random() < 0.09)
    if not res.wants_direct_payment and rng.random() < 0.27:
        good = [p for p in zone_providers if p.cqc_rating in GOOD_OR_BETTER]
        other = [p for p in zone_providers if p.cqc_rating not in GOOD_OR_BETTER]
        pool = other if other and rng.random() < 0.15 else good
        res.preferred_provider = pool[int(rng.integers(len(pool)))].provider_id
        res.preference_strength = "strong" if rng.random() < 0.4 else "weak"
    return res


def _make_residents(
    rng: np.random.Generator, schemes: list[Scheme], providers: list[Provider], zones: list[str]
) -> list[Resident]:
    """Residents of every scheme: each flat let with probability 0.95, ids R00001 upwards."""
    residents: list[Resident] = []
    for s in schemes:
        z = zones.index(s.zone)
        zone_providers = [p for p in providers if z in p.zones]
        for _ in range(int(rng.binomial(s.flats, OCCUPANCY))):
            rid = f"R{len(residents) + 1:05d}"
            residents.append(_make_resident(rng, rid, s.scheme_id, zone_providers))
    return residents


# --- Capacity: enough in every zone for 24/7 staffing plus planned care -------------------------


def _scheme_demand(s: Scheme, residents: list[Resident]) -> float:
    """Rough staff-hours a scheme can need per week: floors 24/7 + planned care + one floater."""
    night = s.night_min_staff if s.lone_working_at_night else max(2, s.night_min_staff)
    floors = 7 * (DAY_HOURS * s.day_min_staff + NIGHT_HOURS * night)
    planned = sum(r.carer_hours() for r in residents if r.scheme_id == s.scheme_id)
    return floors + planned + 168.0


def _top_up(providers: list[Provider], zone: int, need: float) -> None:
    """Scale up ``providers``' capacity so their share in ``zone`` reaches ``need``."""
    have = sum(p.weekly_capacity_hours / len(p.zones) for p in providers)
    if have < need:
        for p in providers:
            p.weekly_capacity_hours = math.ceil(p.weekly_capacity_hours * need / have / 10) * 10.0


def _ensure_capacity(
    providers: list[Provider], schemes: list[Scheme], residents: list[Resident], zones: list[str]
) -> None:
    """Make capacity comfortably exceed demand in every zone (a provider's capacity is shared
    equally among the zones it serves): Good-or-better on-site providers 1.2 times the zone's
    demand, all providers passing the requires-improvement floor 2 times."""
    for z, zone in enumerate(zones):
        demand = sum(_scheme_demand(s, residents) for s in schemes if s.zone == zone)
        serving = [p for p in providers if z in p.zones]
        onsite = [p for p in serving if p.onsite_capable and p.cqc_rating in GOOD_OR_BETTER]
        _top_up(onsite, z, 1.2 * demand)
        _top_up([p for p in serving if p.cqc_rating in PASSES_FLOOR], z, 2.0 * demand)


# --- Costs --------------------------------------------------------------------------------------


def _costs() -> list[dict[str, str]]:
    """Council-wide costs, each with its unit and source ."""
    uprate = NLW_2026 / NLW_2023
    dp_rate = round(19.55 * uprate, 2)
    rows = [
        (
            "direct_payment_hourly_rate",
            dp_rate,
            f"Merton agency DP rate from 21 Aug 2023 GBP 19.55/h (merton.gov.uk; facts 1.4) "
            f"uprated by NLW growth Apr 2023 to Apr 2026: 19.55 x {NLW_2026}/{NLW_2023} "
            f"= 19.55 x {uprate:.4f} = {dp_rate:.2f}",
        ),
        (
            "direct_payment_admin_per_year",
            1200.0,
            "Assumption: no published cost found (facts 2.7); DPs are labour-intensive to "
            "administer (Oxfordshire SP paper, seed 002). About 1 day a month of officer time.",
        ),
        (
            "direct_payment_satisfaction",
            80.0,
            "Assumption: between the requires-improvement and good provider ranges used here.",
        ),
        (
            "coordination_per_provider_scheme_per_week",
            45.0,
            "Assumption: about 1.5 h/week of handovers and reviews at a GBP 30/h officer cost; "
            "fragmentation raises coordination cost (APSE, seed 001).",
        ),
        (
            "block_contract_management_per_year",
            6000.0,
            "Assumption: letting and monitoring one on-site contract, about 0.1 FTE officer.",
        ),
        (
            "framework_term_years",
            4.0,
            "84.7 % of domiciliary care contracts run between 2 and 5 years (LGiU/Mears, "
            "Outcomes Matter, chart 7, seed 004); Waltham Forest framework 4 years from Oct "
            "2022 (facts 3.3).",
        ),
        ("weeks_per_year", 52.143, "365 / 7 = 52.143 (COST_NAMES default)."),
        (
            "employer_oncost_rate",
            0.25,
            "Employer NI 15 % above the threshold from Apr 2025 (HCA 18 Dec 2024; about 10 % of "
            "a part-time carer's pay) + holiday 12.07 % (UKHCA Costing Model) + pension 3 % "
            "(auto-enrolment minimum, assumption): 0.10 + 0.12 + 0.03 = 0.25.",
        ),
    ]
    assert [r[0] for r in rows] == list(COST_NAMES)
    return [
        {"name": n, "value": f"{v:g}", "unit": COST_NAMES[n][1], "source": src}
        for n, v, src in rows
    ]


# --- Writing --------------------------------------------------------------------------------


def _fmt(value: object, decimals: int = 2) -> str:
    """CSV text for one cell: empty for missing, true/false for booleans, fixed decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def _hhmm(minutes: int) -> str:
    """Minutes after midnight as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _scheme_row(s: Scheme) -> dict[str, str]:
    """schemes.csv row; call rates keep 3 decimals (they are small numbers)."""
    row = {k: _fmt(v) for k, v in vars(s).items()}
    for k in ("day_calls_per_hour", "night_calls_per_hour"):
        row[k] = _fmt(getattr(s, k), 3)
    for k in ("mean_call_minutes", "response_target_minutes"):
        row[k] = _fmt(getattr(s, k), 0)
    return row


def _provider_row(p: Provider, zones: list[str]) -> dict[str, str]:
    """providers.csv row: zones as a '|' list of zone ids in map order."""
    row = {k: _fmt(v) for k, v in vars(p).items() if k != "zones"}
    row["zones"] = "|".join(zones[z] for z in sorted(p.zones))
    row["satisfaction"] = _fmt(p.satisfaction, 1)
    row["travel_minutes_per_visit"] = _fmt(p.travel_minutes_per_visit, 1)
    row["weekly_capacity_hours"] = _fmt(p.weekly_capacity_hours, 0)
    row["min_block_hours"] = _fmt(p.min_block_hours, 0)
    return row


def _resident_row(r: Resident) -> dict[str, str]:
    """residents.csv row."""
    return {k: _fmt(v) for k, v in vars(r).items() if k != "visits"}


def _visit_rows(r: Resident) -> list[dict[str, str]]:
    """visits.csv rows of one resident, by day (Mon first) then start time."""
    return [
        {
            "resident_id": r.resident_id,
            "day": DAYS[v.day],
            "start": _hhmm(v.start),
            "minutes": str(v.minutes),
            "carers": str(v.carers),
        }
        for v in sorted(r.visits, key=lambda v: (v.day, v.start))
    ]


def _write_table(out_dir: Path, spec: TableSpec, rows: list[dict[str, str]]) -> int:
    """Write one CSV in the schema's column order with '\\n' line ends; return the row count.
    Optional columns the generator does not draw (support_tier) are written blank."""
    names = [c.name for c in spec.columns]
    with (out_dir / spec.filename).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([row[c.name] if c.required else row.get(c.name, "")
                          for c in spec.columns] for row in rows)
    return len(rows)


# --- Public API -----------------------------------------------------------------------------


def build_tables(
    n_schemes: int,
    seed: int,
    n_providers: int | None = None,
    name_prefix: str = "Scheme",
    naming: Naming | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Build the five tables as rows of CSV text, keyed by table name (no files written)."""
    if n_schemes < 1:
        raise ValueError("n_schemes must be at least 1")
    naming = naming or Naming()
    rng = np.random.default_rng(seed)
    n_prov = n_providers if n_providers is not None else default_n_providers(n_schemes)
    zones = list(naming.zones) or [_pad("Z", z + 1, 9) for z in range(n_zones_for(n_schemes))]
    scheme_names = list(naming.schemes) or [
        f"{name_prefix} {i + 1:0{max(2, len(str(n_schemes)))}d}" for i in range(n_schemes)
    ]
    provider_names = list(naming.providers) or _provider_names(rng, n_prov)
    if naming.providers:
        _provider_names(rng, n_prov)  # same draws as the generic run: only the names differ
    if len(scheme_names) != n_schemes or len(provider_names) != n_prov:
        raise ValueError("naming must give one name per scheme and per provider")
    schemes = _make_schemes(rng, n_schemes, zones, scheme_names)
    providers = _make_providers(rng, n_prov, len(zones), provider_names)
    for p in providers:
        _price_provider(rng, p)
    residents = _make_residents(rng, schemes, providers, zones)
    _ensure_capacity(providers, schemes, residents, zones)
    return {
        "schemes": [_scheme_row(s) for s in schemes],
        "residents": [_resident_row(r) for r in residents],
        "visits": [row for r in residents for row in _visit_rows(r)],
        "providers": [_provider_row(p, zones) for p in providers],
        "costs": _costs(),
    }


def _provider_names(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct fictional trading names ("Fernlea Home Support"), drawn without replacement."""
    combos = [f"{a} {b}" for a in NAME_STEMS for b in NAME_SUFFIXES]
    if n > len(combos):
        return [f"Provider {i + 1}" for i in range(n)]
    return [combos[int(i)] for i in rng.choice(len(combos), size=n, replace=False)]


def write_tables(out_dir: Path, tables: dict[str, list[dict[str, str]]]) -> dict[str, int]:
    """Write every table of :data:`TABLES` into ``out_dir`` (created if missing)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {spec.name: _write_table(out_dir, spec, tables[spec.name]) for spec in TABLES}


def generate_dataset(
    out_dir: Path,
    n_schemes: int,
    seed: int,
    n_providers: int | None = None,
    name_prefix: str = "Scheme",
) -> dict[str, int]:
    """Write schemes, residents, visits, providers and costs CSVs; return their row counts.

    Deterministic: the same arguments give byte-identical files.
    """
    return write_tables(out_dir, build_tables(n_schemes, seed, n_providers, name_prefix))


def shireford(out_dir: Path = Path("data/shireford")) -> dict[str, int]:
    """Regenerate the bundled example council "Shireford": 6 schemes, 3 zones, 14 providers."""
    naming = Naming(SHIREFORD_ZONES, SHIREFORD_SCHEMES, SHIREFORD_PROVIDERS)
    tables = build_tables(
        len(SHIREFORD_SCHEMES), SHIREFORD_SEED, len(SHIREFORD_PROVIDERS), naming=naming
    )
    return write_tables(out_dir, tables)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m optimiser.inputs.generate OUT --preset M --seed 1`` or
    ``--shireford``."""
    parser = argparse.ArgumentParser(description="Write a synthetic ECH dataset (five CSVs).")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--shireford", action="store_true", help="the bundled example")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="M")
    parser.add_argument("--schemes", type=int, help="number of schemes (overrides --preset)")
    parser.add_argument("--providers", type=int, help="number of providers")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.shireford:
        counts = shireford(args.out_dir)
    else:
        n = args.schemes or PRESETS[args.preset]
        counts = generate_dataset(args.out_dir, n, args.seed, args.providers)
    for table, rows in counts.items():
        print(f"{table}: {rows} rows")


if __name__ == "__main__":
    main()
