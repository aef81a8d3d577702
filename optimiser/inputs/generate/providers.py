"""Providers: names, CQC ratings, on-site capability, the zones they serve, prices, capacity.

The guarantees that keep a generated council solvable by construction live here: enough
Good-or-better on-site providers in every zone, and capacity comfortably above demand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from optimiser.inputs.generate.figures import (
    CQC_SHARES,
    DAY_HOURS,
    GOOD_OR_BETTER,
    NIGHT_HOURS,
    ONSITE_SHARE,
    PASSES_FLOOR,
    UNRATED_SHARE,
    _pad,
    _quota,
    _round_to,
)
from optimiser.inputs.generate.records import Provider, Resident, Scheme

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


def _provider_names(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct fictional trading names ("Fernlea Home Support"), drawn without replacement."""
    combos = [f"{a} {b}" for a in NAME_STEMS for b in NAME_SUFFIXES]
    if n > len(combos):
        return [f"Provider {i + 1}" for i in range(n)]
    return [combos[int(i)] for i in rng.choice(len(combos), size=n, replace=False)]


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
