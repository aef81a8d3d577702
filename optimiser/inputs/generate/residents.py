"""Residents and their visits: care needs, a realistic week of visits, budgets and choices.
"""

from __future__ import annotations

import numpy as np

from optimiser.inputs.generate.figures import (
    BAND_HOURS,
    BAND_SHARES,
    CARE_SHARE,
    DAILY_SLOTS,
    GOOD_OR_BETTER,
    NIGHT_STARTS,
    OCCUPANCY,
    SHOWER_WINDOW,
    SLOT_WEIGHT,
    SLOT_WINDOWS,
    VISITS_PER_DAY,
    _pick,
    _round_to,
)
from optimiser.inputs.generate.records import Provider, Resident, Scheme, Visit


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
