"""Care routes: every eligible way of delivering each resident's package, and its price.

A route is (resident, way of delivery, provider): under the block, from the on-site provider
paid from the budget (spot), from a framework provider, or as a direct payment. Only routes
that can exist are made (zone served, CQC floor, a package's price within its budget), so the
model never sees a pair that cannot be chosen. Prices follow docs/model.md, section 3, paying
on outcomes included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.inputs.config import Scenario

BANDS: tuple[str, ...] = ("day", "night", "weekend")
ROUTE_KINDS: tuple[str, ...] = ("block", "spot", "framework", "direct")
ROUTE_LABELS: dict[str, str] = {
    "block": "on-site team under the block contract",
    "spot": "on-site provider, paid from the personal budget",
    "framework": "framework provider",
    "direct": "direct payment",
}


def zones_served(providers: pd.DataFrame) -> pd.DataFrame:
    """One row per (zone, provider) served."""
    out = providers[["provider_id", "zones"]].assign(zone=providers["zones"].str.split("|"))
    out = out.explode("zone")
    out["zone"] = out["zone"].str.strip()
    return out[["zone", "provider_id"]].reset_index(drop=True)


def achievement_rates(providers: pd.DataFrame) -> pd.Series:
    """Expected share of outcomes achieved: the provider's stated rate, else its service users'
    satisfaction as a share (the assumption models paying on outcomes state)."""
    stated = pd.to_numeric(providers["outcome_achievement"], errors="coerce")
    return stated.fillna(providers["satisfaction"] / 100.0).astype(float)


def outcome_factors(achievement: np.ndarray, policy, weeks: float) -> dict[str, np.ndarray]:
    """What paying on outcomes does to an hourly-paid package, in expectation over the year.

    pay: share of the price actually paid, (1 - w) + w alpha_k (w at risk on outcomes, alpha_k
    achieved); hours: xi_k, the share of the assessed hours still needed after a share rho of
    packages goes through reablement and, of those, a share succeeds as the published rates
    say, scaled by the provider's achievement: 1 - rho alpha_k (p^none + p^less delta)
    (1 - d^re / W); bonus: beta_k, the expected weekly bonus per package,
    rho alpha_k p^none x bonus / W."""
    a = np.asarray(achievement, dtype=float)
    w, rho = policy.outcome_payment_share, policy.reablement_share
    success = policy.reablement_no_care + policy.reablement_reduced * policy.reablement_reduction
    after = max(0.0, 1.0 - policy.reablement_weeks / weeks)
    return {
        "pay": (1.0 - w) + w * a,
        "hours": 1.0 - rho * a * success * after,
        "bonus": rho * a * policy.reablement_no_care * policy.reablement_bonus / weeks,
    }


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


def care_routes(
    packages: pd.DataFrame,
    providers: pd.DataFrame,
    block_pairs: pd.DataFrame,
    scenario: Scenario,
    costs: dict[str, float],
) -> pd.DataFrame:
    """The sparse set of eligible care routes (resident x way of delivery x provider)."""
    policy = scenario.policy
    serves = zones_served(providers[providers["passes_floor"]])
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
    routes = _apply_outcomes(routes, providers, policy, costs["weeks_per_year"])
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


def _apply_outcomes(routes: pd.DataFrame, providers: pd.DataFrame, policy, weeks: float
                    ) -> pd.DataFrame:
    """Care bought by the hour from a provider (spot and framework routes) is paid on outcomes:
    expected price and hours as outcome_factors says. Block care is paid by the staff-hour and
    a direct payment is the resident's own, so neither changes."""
    if policy.outcome_payment_share == 0 and policy.reablement_share == 0:
        return routes
    hourly = routes["kind"].isin(["spot", "framework"]).to_numpy()
    a = routes["provider_id"].map(providers.set_index("provider_id")["achievement"])
    f = outcome_factors(a.fillna(1.0).to_numpy(), policy, weeks)
    price = routes["price"] * f["hours"] * f["pay"] + f["bonus"]
    routes["price"] = np.where(hourly, price, routes["price"])
    routes["paid_hours"] = np.where(hourly, routes["paid_hours"] * f["hours"],
                                    routes["paid_hours"])
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
