"""Derived parameters: from validated tables and a model file to the numbers the program needs.

Everything here is plain pandas/numpy, computed once and vectorised: time slots and their pay
bands, minimum cover and the Erlang C reserve per scheme and slot, shift patterns and what each
costs at each on-site provider, each resident's planned-care load per slot, and the sparse set of
*care routes* (resident, way of delivering the package, provider) that are eligible at all.
Rules that can be decided before optimisation (zone served, CQC floor, a package's price against
its budget) are applied here by leaving ineligible routes out, so the model only ever sees pairs
that can exist. docs/model.md names each quantity with the symbol used there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimiser.inputs.config import CQC_POINTS, Scenario
from optimiser.inputs.load import Dataset
from optimiser.inputs.peaks import most_carers_at_once, peaks, slot_load
from optimiser.inputs.queueing import reserve_staff
from optimiser.inputs.routes import (
    BANDS,
    achievement_rates,
    care_routes,
    zones_served,
)
from optimiser.inputs.schema import DAYS


class StaticInfeasibility(Exception):
    """A rule that cannot be met whatever is decided, found before optimisation."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("\n".join(reasons))


@dataclass
class Params:
    """Every number the Pyomo model reads, as tidy tables keyed the way the model indexes them."""

    scenario: Scenario
    data: Dataset
    slot_hours: float
    slots: pd.DataFrame  # slot, day, hour, minute, band
    cover: pd.DataFrame  # scheme_id, slot, min_staff, reserve
    patterns: pd.DataFrame  # pattern, day, start_hour, hours, band_hours_*
    pattern_slots: pd.DataFrame  # pattern, slot
    block_pairs: pd.DataFrame  # scheme_id, provider_id, min_hours, max_hours, mgmt_cost
    pattern_cost: pd.DataFrame  # provider_id, pattern, cost
    load: pd.DataFrame  # resident_id, slot, load (staff-minutes / slot length), carers
    peaks: pd.DataFrame  # scheme_id, slot, instant, resident_id, carers (busy at that moment)
    hours_bound: pd.DataFrame  # scheme_id, band, max_hours (G[s,b])
    packages: pd.DataFrame  # resident_id, scheme_id, zone, hours, budget, preference...
    routes: pd.DataFrame  # route, resident_id, scheme_id, kind, provider_id, price, ...
    framework: pd.DataFrame  # provider_id, fixed_cost, zones
    providers: pd.DataFrame  # provider_id, capacity, satisfaction, ...
    zones: pd.DataFrame  # zone, provider_id (framework-eligible providers serving the zone)
    costs: dict[str, float] = field(default_factory=dict)
    tiers: pd.DataFrame = field(default_factory=pd.DataFrame)  # resident_id, scheme_id, tier...
    tier_load: pd.DataFrame = field(default_factory=pd.DataFrame)  # scheme_id, slot, load
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)  # provider_id, score, rank...

    @property
    def weeks_per_year(self) -> float:
        return self.costs["weeks_per_year"]


def _slots(scenario: Scenario) -> pd.DataFrame:
    """The representative week, Monday 00:00 first, with each slot's pay band."""
    per_day = 1440 // scenario.slot_minutes
    slot = np.arange(7 * per_day)
    minute_of_day = (slot % per_day) * scenario.slot_minutes
    hour = minute_of_day // 60
    day = slot // per_day
    policy = scenario.policy
    start, end = policy.night_start_hour, policy.night_end_hour
    night = (hour >= start) | (hour < end) if start > end else (hour >= start) & (hour < end)
    weekend = day >= 5
    band = np.where(night, "night", np.where(weekend, "weekend", "day"))
    return pd.DataFrame(
        {"slot": slot, "day": day, "hour": hour, "minute": minute_of_day % 60, "band": band}
    )


def resident_tiers(data: Dataset, scenario: Scenario) -> pd.DataFrame:
    """Each resident's support tier (1* to 5*): the resident's own choice where given, else the
    model's default for the needs band; with the check visits and whether the resident is
    answered by the on-site emergency response (tier 2 and above)."""
    policy = scenario.policy
    r = data.residents
    chosen = pd.to_numeric(r["support_tier"], errors="coerce")
    default = r["needs_band"].map(policy.tier_by_needs_band)
    tier = chosen.fillna(default).fillna(2).astype(int)
    visits = np.asarray(policy.tier_visits_per_week, dtype=float)[tier.to_numpy() - 1]
    return pd.DataFrame({
        "resident_id": r["resident_id"].to_numpy(),
        "scheme_id": r["scheme_id"].to_numpy(),
        "tier": tier.to_numpy(),
        "emergency_response": tier.to_numpy() >= 2,
        "check_visits": visits,
        "check_hours": visits * policy.tier_visit_minutes / 60.0,
    })


def emergency_share(data: Dataset, tiers: pd.DataFrame) -> pd.Series:
    """Share of each scheme's residents answered by the on-site emergency response; the call
    rate scales with it (a 1* resident's alarm goes to their key holder)."""
    share = tiers.groupby("scheme_id")["emergency_response"].mean()
    return data.schemes["scheme_id"].map(share).fillna(1.0).set_axis(data.schemes.index)


def _tier_load(tiers: pd.DataFrame, slots: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Check visits spread evenly over the daytime slots (10:00 to 16:00, every day): the
    average number of on-site staff they keep busy in each slot."""
    window = slots[(slots["hour"] >= 10) & (slots["hour"] < 16)]
    minutes = tiers.groupby("scheme_id")["check_hours"].sum() * 60.0
    minutes = minutes[minutes > 0]
    per_slot = minutes / (len(window) * scenario.slot_minutes)
    grid = per_slot.rename("load").reset_index().merge(window[["slot"]], how="cross")
    return grid[["scheme_id", "slot", "load"]].sort_values(["scheme_id", "slot"]).reset_index(
        drop=True)


def _cover(data: Dataset, slots: pd.DataFrame, tiers: pd.DataFrame | None) -> pd.DataFrame:
    """Minimum staff and Erlang C emergency reserve for every scheme and slot; with support
    tiers, the call rates count only residents answered by the on-site team."""
    s = data.schemes
    calls_scale = (
        emergency_share(data, tiers) if tiers is not None else pd.Series(1.0, index=s.index)
    )
    night_min = np.where(
        s["lone_working_at_night"], s["night_min_staff"], np.maximum(s["night_min_staff"], 2)
    )
    reserve = {
        band: [
            reserve_staff(float(calls), float(h), float(t), float(q))
            for calls, h, t, q in zip(
                s[f"{band}_calls_per_hour"] * calls_scale,
                s["mean_call_minutes"],
                s["response_target_minutes"],
                s["response_share"],
                strict=True,
            )
        ]
        for band in ("day", "night")
    }
    per_scheme = pd.DataFrame(
        {
            "scheme_id": s["scheme_id"],
            "min_day": s["day_min_staff"].to_numpy(),
            "min_night": night_min,
            "res_day": reserve["day"],
            "res_night": reserve["night"],
        }
    )
    grid = per_scheme.merge(slots[["slot", "band"]], how="cross")
    is_night = grid["band"] == "night"
    grid["min_staff"] = np.where(is_night, grid["min_night"], grid["min_day"]).astype(int)
    grid["reserve"] = np.where(is_night, grid["res_night"], grid["res_day"]).astype(int)
    return grid[["scheme_id", "slot", "min_staff", "reserve"]]


def cover_hours(p: Params) -> dict[str, float]:
    """Omega_s: the staff-hours a week scheme s's round-the-clock cover needs by itself, without
    any planned care: sum over slots of max(minimum staff, reserve + check visits) x slot
    length. Part of the holder's commissioned hours (market share)."""
    key = pd.MultiIndex.from_frame(p.cover[["scheme_id", "slot"]])
    checks = (p.tier_load.set_index(["scheme_id", "slot"])["load"].reindex(key, fill_value=0.0)
              .to_numpy() if not p.tier_load.empty else 0.0)
    need = np.maximum(p.cover["min_staff"].to_numpy(), p.cover["reserve"].to_numpy() + checks)
    per_slot = pd.Series(need * p.slot_hours, index=p.cover["scheme_id"].to_numpy())
    return {str(s): float(h) for s, h in per_slot.groupby(level=0).sum().items()}


def _patterns(scenario: Scenario, slots: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shift patterns from the rules (explicit shifts, or every start with every length),
    repeated on every day of the week; a shift may run past midnight and into Monday."""
    width = scenario.slot_minutes
    n_slots = len(slots)
    rows, cells = [], []
    for day in range(7):
        for start, hours in scenario.shifts.shift_list():
            pid = len(rows)
            first = (day * 24 + start) * 60 // width
            covered = (first + np.arange(hours * 60 // width)) % n_slots
            rows.append({"pattern": pid, "day": day, "start_hour": start, "hours": hours})
            cells.append(pd.DataFrame({"pattern": pid, "slot": covered}))
    patterns = pd.DataFrame(rows)
    pattern_slots = pd.concat(cells, ignore_index=True)
    band_hours = pattern_slots.merge(slots[["slot", "band"]], on="slot").groupby(
        ["pattern", "band"]
    ).size().unstack(fill_value=0).reindex(columns=list(BANDS), fill_value=0) * (
        scenario.slot_minutes / 60
    )
    band_hours.columns = [f"{b}_hours" for b in band_hours.columns]
    return patterns.join(band_hours, on="pattern"), pattern_slots


def _eligible_onsite(data: Dataset, scenario: Scenario) -> pd.DataFrame:
    """(scheme, provider) pairs that could hold the scheme's block contract."""
    p = data.providers
    policy = scenario.policy
    ok = p["onsite_capable"] & p["cqc_rating"].map(
        lambda r: policy.passes(r, policy.onsite_cqc_floor) and policy.passes(r, policy.cqc_floor)
    )
    serves = zones_served(p[ok])
    schemes = data.schemes[~data.schemes["scheme_id"].isin(policy.schemes_without_cover)]
    return schemes[["scheme_id", "zone"]].merge(serves, on="zone")[["scheme_id", "provider_id"]]


def _block_pairs(data: Dataset, scenario: Scenario) -> pd.DataFrame:
    """(scheme, provider) pairs that could hold the block, with the provider's minimum viable
    volume and the contract's management cost a week."""
    pairs = _eligible_onsite(data, scenario)
    p = data.providers.set_index("provider_id")
    pairs["min_hours"] = p.loc[pairs["provider_id"], "min_block_hours"].to_numpy(dtype=float)
    mgmt = data.costs["block_contract_management_per_year"] / data.costs["weeks_per_year"]
    pairs["mgmt_cost"] = mgmt
    return pairs.sort_values(["scheme_id", "provider_id"]).reset_index(drop=True)


def most_staff_needed(cover: pd.DataFrame, peak_rows: pd.DataFrame,
                      tier_load: pd.DataFrame) -> pd.DataFrame:
    """N^most[s,t]: the most staff slot t could ever need on duty at scheme s, whoever's care is
    under the block: ceil(max(minimum, every resident's busy carers at the slot's peak + reserve
    + check visits)). Double-ups are inside the busy carers."""
    key = pd.MultiIndex.from_frame(cover[["scheme_id", "slot"]])
    busy = most_carers_at_once(peak_rows).reindex(key, fill_value=0).to_numpy(dtype=float)
    checks = (tier_load.set_index(["scheme_id", "slot"])["load"].reindex(key, fill_value=0.0)
              .to_numpy() if not tier_load.empty else 0.0)
    need = np.maximum(cover["min_staff"].to_numpy(), busy + cover["reserve"].to_numpy() + checks)
    return cover[["scheme_id", "slot"]].assign(most=np.ceil(need - 1e-9).astype(int))


def band_hours_bound(most: pd.DataFrame, slots: pd.DataFrame, patterns: pd.DataFrame,
                     pattern_slots: pd.DataFrame, pairs: pd.DataFrame,
                     slot_hours: float) -> pd.DataFrame:
    """G[s,b]: most band-b staff-hours a week an optimal rota at scheme s can have.

    In an optimal rota every member of staff is on a pattern with a *tight* slot (one where
    removing them would break a cover row, so staff on duty there <= N^most[s,t]), unless they are
    only there to reach the holder's minimum viable volume. Hence at slot t, N^bound[s,t] bounds the
    staff on duty, the smaller of:
    - the sum over patterns covering t of the largest N^most on the pattern's own slots;
    - max N^most over [t, t+L-1] + max N^most over [t-L+1, t-1] (L the longest pattern):
      staff tight at or after t are all on duty at the first such tight slot, the others at
      the last one.
    Padding to a minimum volume V stops below V + L hours. G[s,b] = max(sum over band-b slots of
    N^bound[s,t] x slot hours, V_k + L hours). The proof is in docs/model.md, section 3."""
    n = len(slots)
    length = int(pattern_slots.groupby("pattern").size().max()) if len(pattern_slots) else 1
    schemes = sorted(most["scheme_id"].unique())
    grid = most.pivot(index="scheme_id", columns="slot", values="most").reindex(
        index=schemes, columns=range(n), fill_value=0).to_numpy(dtype=float)
    ahead = np.max([np.roll(grid, -k, axis=1) for k in range(length)], axis=0)
    before = (np.max([np.roll(grid, k, axis=1) for k in range(1, length)], axis=0)
              if length > 1 else np.zeros_like(grid))
    cells = pattern_slots.sort_values(["pattern", "slot"])
    cover = np.zeros((len(patterns), n))
    cover[cells["pattern"].to_numpy(), cells["slot"].to_numpy()] = 1.0
    first = np.flatnonzero(np.r_[True, np.diff(cells["pattern"].to_numpy()) != 0])
    own = np.maximum.reduceat(grid[:, cells["slot"].to_numpy()], first, axis=1)  # s x patterns
    per_pattern = own @ cover  # s x slots: sum over patterns covering t of their own bound
    ceiling = np.minimum(ahead + before, per_pattern)
    band = slots["band"].to_numpy()
    volume = pairs.groupby("scheme_id")["min_hours"].max().reindex(schemes, fill_value=0.0)
    pad = volume.to_numpy(dtype=float) + length * slot_hours
    return pd.concat([pd.DataFrame({
        "scheme_id": schemes, "band": b,
        "max_hours": np.maximum(ceiling[:, band == b].sum(axis=1) * slot_hours, pad),
    }) for b in BANDS], ignore_index=True)


def _pattern_cost(data: Dataset, patterns: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Weekly cost of one member of staff on each pattern at each possible block provider."""
    providers = data.providers.set_index("provider_id").loc[sorted(pairs["provider_id"].unique())]
    rates = providers[[f"block_rate_{b}" for b in BANDS]].to_numpy(dtype=float)
    hours = patterns[[f"{b}_hours" for b in BANDS]].to_numpy(dtype=float)
    cost = hours @ rates.T  # patterns x providers
    frame = pd.DataFrame(cost, index=patterns["pattern"], columns=providers.index)
    return frame.stack().rename("cost").reset_index().rename(columns={"level_1": "provider_id"})


def _packages(data: Dataset, slots: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per resident with care: contact hours and visit counts by pay band, budget, preference."""
    v = data.visits.copy()
    day = v["day"].map({d: i for i, d in enumerate(DAYS)})
    hour = v["start"].str.slice(0, 2).astype(int)
    minute = v["start"].str.slice(3, 5).astype(int)
    slot = (day * 1440 + hour * 60 + minute) // scenario.slot_minutes
    v["band"] = slots["band"].to_numpy()[slot.to_numpy(dtype=int)]
    v["staff_hours"] = v["minutes"] * v["carers"] / 60.0
    hours = v.pivot_table(
        index="resident_id", columns="band", values="staff_hours", aggfunc="sum", fill_value=0.0
    ).reindex(columns=list(BANDS), fill_value=0.0)
    visits = v.pivot_table(
        index="resident_id", columns="band", values="carers", aggfunc="sum", fill_value=0
    ).reindex(columns=list(BANDS), fill_value=0)
    hours.columns = [f"hours_{b}" for b in BANDS]
    visits.columns = [f"carer_visits_{b}" for b in BANDS]
    r = data.residents.set_index("resident_id")
    out = hours.join(visits).join(
        r[
            [
                "scheme_id",
                "weekly_budget",
                "preferred_provider",
                "preference_strength",
                "wants_direct_payment",
            ]
        ]
    )
    out = out.join(data.schemes.set_index("scheme_id")["zone"], on="scheme_id")
    out["hours"] = out[[f"hours_{b}" for b in BANDS]].sum(axis=1)
    policy = scenario.policy
    out["budget_cap"] = (
        out["weekly_budget"] * (1 - policy.cash_allocation_share) * (1 + policy.budget_topup_share)
    )
    return out.reset_index().sort_values("resident_id").reset_index(drop=True)


def _provider_table(data: Dataset, scenario: Scenario) -> pd.DataFrame:
    p = data.providers.copy()
    policy = scenario.policy
    p["passes_floor"] = p["cqc_rating"].map(lambda r: policy.passes(r, policy.cqc_floor))
    if policy.single_framework_rate is not None:
        # One rate for everyone (seed 004, Bracknell Forest): providers compete on quality only.
        for band in BANDS:
            p[f"framework_rate_{band}"] = float(policy.single_framework_rate)
    weeks = data.costs["weeks_per_year"]
    term = data.costs["framework_term_years"]
    p["framework_fixed_cost"] = (
        p["framework_admission_cost"] / (term * weeks)
        + p["framework_monitoring_cost"] * policy.framework_monitoring_factor / weeks
    )
    p["achievement"] = achievement_rates(p)
    return p


def _framework(providers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Providers that could be admitted to the framework (none if the model forbids it)."""
    ok = providers["passes_floor"] & scenario.policy.allow_framework
    return providers[ok][["provider_id", "framework_fixed_cost", "zones"]].reset_index(drop=True)


def rank_providers(providers: pd.DataFrame, packages: pd.DataFrame, scenario: Scenario
                   ) -> pd.DataFrame:
    """The framework ranking (seed 004, Essex: 50/50 on cost and quality), best first.

    price: the provider's hourly rates weighted by the hours residents need in each band;
    price score 100 x cheapest / own; quality score 100 x (CQC points / 4 + satisfaction / 100)
    / 2 (an unrated provider scores as the model treats it); score = weight x price score +
    (1 - weight) x quality score; ties go to the lower provider id."""
    policy = scenario.policy
    eligible = providers[providers["passes_floor"]].copy()
    hours = packages[[f"hours_{b}" for b in BANDS]].sum().to_numpy(dtype=float)
    weights = hours / hours.sum() if hours.sum() > 0 else np.full(len(BANDS), 1 / len(BANDS))
    rates = eligible[[f"framework_rate_{b}" for b in BANDS]].to_numpy(dtype=float)
    eligible["price"] = rates @ weights
    eligible["price_score"] = 100.0 * eligible["price"].min() / eligible["price"]
    rating = eligible["cqc_rating"].replace("unrated", policy.unrated_as)
    points = rating.map(CQC_POINTS).astype(float)
    eligible["quality_score"] = 100.0 * (points / 4.0 + eligible["satisfaction"] / 100.0) / 2.0
    w = policy.rank_price_weight
    eligible["score"] = w * eligible["price_score"] + (1 - w) * eligible["quality_score"]
    ranked = eligible.sort_values(["score", "provider_id"], ascending=[False, True])
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    columns = ["provider_id", "price", "price_score", "quality_score", "score", "rank"]
    return ranked[columns].reset_index(drop=True)


def _zones(data: Dataset, providers: pd.DataFrame) -> pd.DataFrame:
    zones = pd.DataFrame({"zone": sorted(data.schemes["zone"].unique())})
    serves = zones_served(providers[providers["passes_floor"]])
    return zones.merge(serves, on="zone", how="left")


def _stricter(a: str, b: str) -> str:
    """The higher of two CQC floors."""
    return a if CQC_POINTS[a] >= CQC_POINTS[b] else b


def _static_checks(params: Params) -> list[str]:
    """Rules that cannot be met whatever the plan, explained in the commissioner's words."""
    reasons: list[str] = []
    policy = params.scenario.policy
    schemes = params.data.schemes.set_index("scheme_id")
    with_block = set(params.block_pairs["scheme_id"])
    if policy.require_24h_cover:
        required = schemes.index.difference(list(policy.schemes_without_cover))
        for sid in required.difference(sorted(with_block)):
            reasons.append(
                f"Scheme {schemes.at[sid, 'name']} ({sid}) needs 24-hour cover but no provider "
                f"serving zone {schemes.at[sid, 'zone']} can run an on-site team and is rated "
                f"{_stricter(policy.onsite_cqc_floor, policy.cqc_floor).replace('_', ' ')} "
                "or better."
            )
    unknown = sorted(set(policy.schemes_without_cover) - set(schemes.index))
    for sid in unknown:
        reasons.append(f"The model names scheme {sid} in policy.schemes_without_cover, but "
                       "schemes.csv has no such scheme.")
    routed = set(params.routes["resident_id"])
    for row in params.packages[~params.packages["resident_id"].isin(routed)].itertuples():
        reasons.append(
            f"Resident {row.resident_id} ({row.hours:.1f} h a week at scheme {row.scheme_id}) "
            f"has no eligible way to receive care: every provider serving zone {row.zone} is "
            "excluded by the quality floor or costs more than the budget "
            f"(GBP {row.weekly_budget:.2f} plus the allowed top-up) under this model's rules."
        )
    if policy.min_framework_per_zone and policy.allow_framework:
        counts = params.zones.dropna().groupby("zone")["provider_id"].nunique()
        for zone in params.zones["zone"].unique():
            have = int(counts.get(zone, 0))
            if have < policy.min_framework_per_zone:
                serving = "no provider serving it passes" if have == 0 else (
                    f"only {have} provider{'s' if have > 1 else ''} serving it "
                    f"pass{'' if have > 1 else 'es'}")
                reasons.append(
                    f"Zone {zone} must have {policy.min_framework_per_zone} framework providers "
                    f"but {serving} the CQC floor."
                )
    return reasons


def derive(data: Dataset, scenario: Scenario, check: bool = True) -> Params:
    """All derived parameters for one dataset and commissioning model."""
    slots = _slots(scenario)
    tiers = resident_tiers(data, scenario) if scenario.policy.support_tiers else None
    cover = _cover(data, slots, tiers)
    patterns, pattern_slots = _patterns(scenario, slots)
    peak_rows = peaks(data, scenario)
    tier_load = _tier_load(tiers, slots, scenario) if tiers is not None else pd.DataFrame()
    block_pairs = _block_pairs(data, scenario)
    providers = _provider_table(data, scenario)
    packages = _packages(data, slots, scenario)
    params = Params(
        scenario=scenario,
        data=data,
        slot_hours=scenario.slot_minutes / 60.0,
        slots=slots,
        cover=cover,
        patterns=patterns,
        pattern_slots=pattern_slots,
        block_pairs=block_pairs,
        pattern_cost=_pattern_cost(data, patterns, block_pairs)
        if len(block_pairs)
        else pd.DataFrame(columns=["pattern", "provider_id", "cost"]),
        load=slot_load(data, scenario),
        peaks=peak_rows,
        hours_bound=band_hours_bound(most_staff_needed(cover, peak_rows, tier_load), slots,
                                     patterns, pattern_slots, block_pairs,
                                     scenario.slot_minutes / 60.0),
        packages=packages,
        routes=care_routes(packages, providers, block_pairs, scenario, data.costs),
        framework=_framework(providers, scenario),
        providers=providers,
        zones=_zones(data, providers),
        costs=dict(data.costs),
    )
    if tiers is not None:
        params.tiers = tiers
        params.tier_load = tier_load
    if scenario.policy.call_off_in_rank_order:
        params.ranking = rank_providers(providers, packages, scenario)
    if check:
        reasons = _static_checks(params)
        if reasons:
            raise StaticInfeasibility(reasons)
    return params
