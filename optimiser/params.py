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

from optimiser.config import CQC_POINTS, Scenario
from optimiser.data.load import Dataset
from optimiser.data.schema import DAYS
from optimiser.queueing import reserve_staff

BANDS: tuple[str, ...] = ("day", "night", "weekend")
ROUTE_KINDS: tuple[str, ...] = ("block", "spot", "framework", "direct")
ROUTE_LABELS: dict[str, str] = {
    "block": "on-site team under the block contract",
    "spot": "on-site provider, paid from the personal budget",
    "framework": "framework provider",
    "direct": "direct payment",
}


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
    load: pd.DataFrame  # resident_id, slot, load (staff on duty needed for planned care)
    packages: pd.DataFrame  # resident_id, scheme_id, zone, hours, budget, preference...
    routes: pd.DataFrame  # route, resident_id, scheme_id, kind, provider_id, price, ...
    framework: pd.DataFrame  # provider_id, fixed_cost, zones
    providers: pd.DataFrame  # provider_id, capacity, satisfaction, ...
    zones: pd.DataFrame  # zone, provider_id (framework-eligible providers serving the zone)
    costs: dict[str, float] = field(default_factory=dict)

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


def _cover(data: Dataset, slots: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Minimum staff and Erlang C emergency reserve for every scheme and slot."""
    s = data.schemes
    night_min = np.where(
        s["lone_working_at_night"], s["night_min_staff"], np.maximum(s["night_min_staff"], 2)
    )
    reserve = {
        band: [
            reserve_staff(float(calls), float(h), float(t), float(q))
            for calls, h, t, q in zip(
                s[f"{band}_calls_per_hour"],
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
    serves = _serves(p[ok])
    return data.schemes[["scheme_id", "zone"]].merge(serves, on="zone")[
        ["scheme_id", "provider_id"]
    ]


def _serves(providers: pd.DataFrame) -> pd.DataFrame:
    """One row per (zone, provider) served."""
    out = providers[["provider_id", "zones"]].assign(zone=providers["zones"].str.split("|"))
    out = out.explode("zone")
    out["zone"] = out["zone"].str.strip()
    return out[["zone", "provider_id"]].reset_index(drop=True)


def _block_pairs(data: Dataset, scenario: Scenario, cover: pd.DataFrame) -> pd.DataFrame:
    pairs = _eligible_onsite(data, scenario)
    p = data.providers.set_index("provider_id")
    peak = cover.assign(need=cover["min_staff"] + cover["reserve"]).groupby("scheme_id")["need"]
    flats = data.schemes.set_index("scheme_id")["flats"]
    # Upper bound on staff ever needed at once: everyone's peak plus every resident at once.
    bound = (peak.max() + flats).rename("max_staff")
    pairs = pairs.join(bound, on="scheme_id")
    pairs["min_hours"] = p.loc[pairs["provider_id"], "min_block_hours"].to_numpy(dtype=float)
    pairs["max_hours"] = pairs["max_staff"] * 168.0
    mgmt = data.costs["block_contract_management_per_year"] / data.costs["weeks_per_year"]
    pairs["mgmt_cost"] = mgmt
    return pairs.sort_values(["scheme_id", "provider_id"]).reset_index(drop=True)


def _pattern_cost(data: Dataset, patterns: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Weekly cost of one member of staff on each pattern at each possible block provider."""
    providers = data.providers.set_index("provider_id").loc[sorted(pairs["provider_id"].unique())]
    rates = providers[[f"block_rate_{b}" for b in BANDS]].to_numpy(dtype=float)
    hours = patterns[[f"{b}_hours" for b in BANDS]].to_numpy(dtype=float)
    cost = hours @ rates.T  # patterns x providers
    frame = pd.DataFrame(cost, index=patterns["pattern"], columns=providers.index)
    return frame.stack().rename("cost").reset_index().rename(columns={"level_1": "provider_id"})


def _visit_slots(data: Dataset, scenario: Scenario, n_slots: int) -> pd.DataFrame:
    """Split each visit over the slots it overlaps (a 45-minute visit at 07:30 spans two)."""
    v = data.visits
    day = v["day"].map({d: i for i, d in enumerate(DAYS)}).to_numpy()
    hh, mm = v["start"].str.split(":", expand=True).astype(int).to_numpy().T
    start = day * 1440 + hh * 60 + mm
    end = start + v["minutes"].to_numpy()
    width = scenario.slot_minutes
    first = start // width
    span = int(np.ceil(v["minutes"].max() / width)) + 1 if len(v) else 0
    parts = []
    for offset in range(span):
        slot = first + offset
        lo = np.maximum(start, slot * width)
        hi = np.minimum(end, (slot + 1) * width)
        minutes = np.clip(hi - lo, 0, None)
        keep = minutes > 0
        parts.append(
            pd.DataFrame(
                {
                    "resident_id": v["resident_id"].to_numpy()[keep],
                    "slot": slot[keep] % n_slots,
                    "staff_minutes": (minutes * v["carers"].to_numpy())[keep],
                    "carers": v["carers"].to_numpy()[keep],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["resident_id", "slot", "staff_minutes", "carers"])
    return pd.concat(parts, ignore_index=True)


def _load(data: Dataset, scenario: Scenario, n_slots: int) -> pd.DataFrame:
    """Per resident and slot: the average number of on-site staff busy with planned care
    (``load``) and the most carers any one visit needs at once in that slot (``carers``)."""
    parts = _visit_slots(data, scenario, n_slots)
    load = parts.groupby(["resident_id", "slot"], as_index=False).agg(
        staff_minutes=("staff_minutes", "sum"), carers=("carers", "max")
    )
    load["load"] = load["staff_minutes"] / scenario.slot_minutes
    return load[["resident_id", "slot", "load", "carers"]]


def _packages(data: Dataset, slots: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per resident with care: contact hours and visit counts by pay band, budget, preference."""
    v = data.visits.copy()
    day = v["day"].map({d: i for i, d in enumerate(DAYS)})
    hour = v["start"].str.slice(0, 2).astype(int)
    minute = v["start"].str.slice(3, 5).astype(int)
    slot = (day * 1440 + hour * 60 + minute) // scenario.slot_minutes
    v["band"] = slots["band"].to_numpy()[slot.to_numpy()]
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
    out["budget_cap"] = out["weekly_budget"] * (1 + scenario.policy.budget_topup_share)
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
        p["framework_admission_cost"] / (term * weeks) + p["framework_monitoring_cost"] / weeks
    )
    return p


def _route_frame(
    packages: pd.DataFrame, providers: pd.DataFrame, kind: str, travel: bool
) -> pd.DataFrame:
    """Price every (package, provider) pair at the provider's hourly rates by band."""
    hours = packages[[f"hours_{b}" for b in BANDS]].to_numpy()
    visits = packages[[f"carer_visits_{b}" for b in BANDS]].to_numpy()
    rates = providers[[f"framework_rate_{b}" for b in BANDS]].to_numpy(dtype=float)
    travel_h = (
        providers["travel_minutes_per_visit"].to_numpy(dtype=float) / 60.0
        if travel
        else np.zeros(len(providers))
    )
    price = hours @ rates.T + visits @ (rates * travel_h[:, None]).T
    paid_hours = hours.sum(axis=1)[:, None] + visits.sum(axis=1)[:, None] * travel_h[None, :]
    frame = pd.DataFrame(
        {
            "resident_id": np.repeat(packages["resident_id"].to_numpy(), len(providers)),
            "provider_id": np.tile(providers["provider_id"].to_numpy(), len(packages)),
            "price": price.ravel(),
            "paid_hours": paid_hours.ravel(),
        }
    )
    frame["kind"] = kind
    return frame


def _routes(
    packages: pd.DataFrame,
    providers: pd.DataFrame,
    block_pairs: pd.DataFrame,
    scenario: Scenario,
    costs: dict[str, float],
) -> pd.DataFrame:
    """The sparse set of eligible care routes (resident x way of delivery x provider)."""
    policy = scenario.policy
    serves = _serves(providers[providers["passes_floor"]])
    pkg_zone = packages[["resident_id", "zone", "scheme_id"]]
    frames = []
    onsite = block_pairs[["scheme_id", "provider_id"]]
    onsite_pkgs = pkg_zone.merge(onsite, on="scheme_id")
    if policy.allow_block_care:
        # One block route per resident: who holds the block is the award decision, so the
        # route itself does not name a provider (the plan tables fill in the holder).
        covered = pkg_zone[pkg_zone["scheme_id"].isin(onsite["scheme_id"])]
        block = covered[["resident_id"]].assign(
            provider_id=None, kind="block", price=0.0, paid_hours=np.nan
        )
        frames.append(block)
    if policy.allow_onsite_spot and len(onsite_pkgs):
        spot = _route_frame(packages, providers, "spot", travel=False)
        frames.append(spot.merge(onsite_pkgs[["resident_id", "provider_id"]]))
    if policy.allow_framework:
        fw = _route_frame(packages, providers[providers["passes_floor"]], "framework", True)
        allowed = pkg_zone.merge(serves, on="zone")[["resident_id", "provider_id"]]
        frames.append(fw.merge(allowed))
    if policy.direct_payments != "never":
        pk = (
            packages
            if policy.direct_payments == "always"
            else packages[packages["wants_direct_payment"]]
        )
        dp_rate = costs["direct_payment_hourly_rate"]
        frames.append(
            pd.DataFrame(
                {
                    "resident_id": pk["resident_id"],
                    "provider_id": None,
                    "kind": "direct",
                    "price": pk["hours"] * dp_rate
                    + costs["direct_payment_admin_per_year"] / costs["weeks_per_year"],
                    "paid_hours": pk["hours"],
                }
            )
        )
    frames = [f for f in frames if len(f)]
    routes = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            {"resident_id": pd.Series(dtype=object), "provider_id": pd.Series(dtype=object),
             "kind": pd.Series(dtype=object), "price": pd.Series(dtype=float),
             "paid_hours": pd.Series(dtype=float)})
    )
    routes = routes.merge(
        packages[
            [
                "resident_id",
                "scheme_id",
                "hours",
                "budget_cap",
                "preferred_provider",
                "preference_strength",
                "wants_direct_payment",
            ]
        ],
        on="resident_id",
    )
    routes = _attach_budget_price(routes, costs)
    routes = _apply_budget_filter(routes, policy)
    sat = providers.set_index("provider_id")["satisfaction"]
    routes["satisfaction"] = routes["provider_id"].map(sat).astype(float)
    direct = routes["kind"] == "direct"
    routes.loc[direct, "satisfaction"] = costs["direct_payment_satisfaction"]
    # A preference counts (and a strong one binds) only where that provider is affordable.
    affordable = (scenario.policy.budget_rule != "individual") | (
        routes["budget_price"] <= routes["budget_cap"] + 1e-9
    )
    routes["preferred"] = (
        routes["provider_id"].notna()
        & (routes["provider_id"] == routes["preferred_provider"])
        & affordable
    )
    order = {k: i for i, k in enumerate(ROUTE_KINDS)}
    routes["kind_order"] = routes["kind"].map(order)
    routes = routes.sort_values(["resident_id", "kind_order", "provider_id"], na_position="first")
    routes = routes.drop(columns="kind_order").reset_index(drop=True)
    routes.insert(0, "route", np.arange(len(routes)))
    return routes


def _attach_budget_price(routes: pd.DataFrame, costs: dict[str, float]) -> pd.DataFrame:
    """What a route draws on the personal budget: its price, except care under the block
    contract (already paid for) and a direct payment's administration (the council's cost)."""
    admin = costs["direct_payment_admin_per_year"] / costs["weeks_per_year"]
    budget_price = routes["price"].where(routes["kind"] != "direct", routes["price"] - admin)
    routes["budget_price"] = budget_price.where(routes["kind"] != "block", 0.0)
    return routes


def _apply_budget_filter(routes: pd.DataFrame, policy) -> pd.DataFrame:
    """Individual budgets without splits: a route above budget plus top-up cannot be chosen."""
    if policy.budget_rule != "individual" or policy.allow_splits:
        return routes
    return routes[routes["budget_price"] <= routes["budget_cap"] + 1e-9].copy()


def _framework(providers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Providers that could be admitted to the framework (none if the model forbids it)."""
    ok = providers["passes_floor"] & scenario.policy.allow_framework
    return providers[ok][["provider_id", "framework_fixed_cost", "zones"]].reset_index(drop=True)


def _zones(data: Dataset, providers: pd.DataFrame) -> pd.DataFrame:
    zones = pd.DataFrame({"zone": sorted(data.schemes["zone"].unique())})
    serves = _serves(providers[providers["passes_floor"]])
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
        for sid in schemes.index.difference(sorted(with_block)):
            reasons.append(
                f"Scheme {schemes.at[sid, 'name']} ({sid}) needs 24-hour cover but no provider "
                f"serving zone {schemes.at[sid, 'zone']} can run an on-site team and is rated "
                f"{_stricter(policy.onsite_cqc_floor, policy.cqc_floor).replace('_', ' ')} "
                "or better."
            )
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
                reasons.append(
                    f"Zone {zone} must have {policy.min_framework_per_zone} framework providers "
                    f"but only {have} providers serving it pass the CQC floor."
                )
    return reasons


def derive(data: Dataset, scenario: Scenario, check: bool = True) -> Params:
    """All derived parameters for one dataset and commissioning model."""
    slots = _slots(scenario)
    cover = _cover(data, slots, scenario)
    patterns, pattern_slots = _patterns(scenario, slots)
    block_pairs = _block_pairs(data, scenario, cover)
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
        load=_load(data, scenario, len(slots)),
        packages=packages,
        routes=_routes(packages, providers, block_pairs, scenario, data.costs),
        framework=_framework(providers, scenario),
        providers=providers,
        zones=_zones(data, providers),
        costs=dict(data.costs),
    )
    if check:
        reasons = _static_checks(params)
        if reasons:
            raise StaticInfeasibility(reasons)
    return params
