"""Choice and quality rules, and market resilience.

Symbols (docs/model.md): R^pref residents with an eligible stated preference, k*_r the provider
they asked for, J^pref_r their routes with k*_r, e_r (in [0,1]) care under the block while k*_r
holds it, p^pref the share to honour, q_j satisfaction of route j's provider, o[s,k] block
care hours at scheme s credited to holder k, q^min the floor on the hours-weighted mean, sigma
the market share cap.
"""

from __future__ import annotations

import math

import pandas as pd
import pyomo.environ as pyo

from optimiser.inputs.params import Params, cover_hours


def honoured(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    """Share of resident r's package with the provider they asked for."""
    by_route = pyo.quicksum(m.care[j] for j in m.preferred_routes.get(r, []))
    if r in m.preferred_block:
        return by_route + m.preferred_block_care[r]
    return by_route


def preferred_block_only_with_block_route(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    """e_r <= y of r's block route: the block honours a preference only if it delivers the care."""
    return m.preferred_block_care[r] <= m.care[m.block_route[r]]


def preferred_block_only_when_holder(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    """e_r <= a[s,k*]: ... and only while the preferred provider holds the block."""
    return m.preferred_block_care[r] <= m.award[m.preferred_block[r]]


def strong_preference_honoured(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    """A strong preference is honoured whenever the provider is eligible: always if it could
    be called off the framework for this resident; if it can only serve on site, whenever it
    holds the scheme's block contract."""
    if m.strong_needs_award[r] is None:
        return honoured(m, r) == 1
    return honoured(m, r) >= m.award[m.strong_needs_award[r]]


def preference_share(m: pyo.ConcreteModel) -> pyo.Expression:
    """At least the policy share of stated (eligible) preferences is honoured."""
    need = math.ceil(m.min_preference_share * len(m.PREFERENCES) - 1e-9)
    return pyo.quicksum(honoured(m, r) for r in m.PREFERENCES) >= need


def direct_payment_request_honoured(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    """A resident who asks for a direct payment gets one where policy and budget allow."""
    return m.care[m.direct_route[r]] == 1


def block_care_credited_to_holder(m: pyo.ConcreteModel, s: str) -> pyo.Expression:
    """sum_k o[s,k] = hours of care under the block at scheme s."""
    return pyo.quicksum(m.block_care_hours[s, k] for k in m.ix.providers_at_scheme[s]) == (
        pyo.quicksum(m.route_hours[j] * m.care[j] for j in m.block_routes_of_scheme.get(s, []))
    )


def block_care_only_for_holder(m: pyo.ConcreteModel, s: str, k: str) -> pyo.Expression:
    """o[s,k] <= (hours at s) a[s,k]: the block's care counts at its holder's satisfaction."""
    return m.block_care_hours[s, k] <= m.scheme_package_hours.get(s, 0.0) * m.award[s, k]


def satisfaction_hours_by_scheme(m: pyo.ConcreteModel, s: str) -> pyo.Expression:
    """v_s = satisfaction-weighted care hours at scheme s (kept per scheme so that the floor
    below is one short row rather than one row over every route)."""
    routed = pyo.quicksum(
        m.route_quality_hours[j] * m.care[j] for j in m.quality_routes_of_scheme.get(s, [])
    )
    block = pyo.quicksum(
        m.holder_satisfaction[k] * m.block_care_hours[s, k]
        for k in m.ix.providers_at_scheme.get(s, [])
    )
    return m.satisfaction_hours[s] == routed + block


def mean_satisfaction(m: pyo.ConcreteModel) -> pyo.Expression:
    """Hours-weighted mean satisfaction of planned care at least the floor."""
    return pyo.quicksum(m.satisfaction_hours[s] for s in m.SCHEMES) >= (
        m.min_mean_satisfaction * m.total_package_hours
    )


def commissioned_hours(m: pyo.ConcreteModel, k: str) -> pyo.Expression:
    """H^com_k: the hours commissioned from provider k, by need rather than by rota: for each
    scheme it holds, the scheme's cover hours (Omega_s) and the contact hours of the care under
    its block (o[s,k]); for packages bought by the hour, the paid hours (contact and travel).
    Staff the rota adds beyond need (shift rigidity, or padding) are never commissioned hours,
    so they cannot dilute another provider's share."""
    held = m.ix.block_of_provider.get(k, [])
    block = pyo.quicksum(m.cover_hours[s] * m.award[s, k] + m.block_care_hours[s, k]
                         for s in held)
    paid = pyo.quicksum(m.paid_hours[j] * m.care[j] for j in m.ix.routes_of_provider.get(k, []))
    return block + paid


def total_commissioned_hours(m: pyo.ConcreteModel) -> pyo.Expression:
    """H^tot = sum_k H^com_k, kept as one variable so each market-share row stays short."""
    return m.total_hours == pyo.quicksum(commissioned_hours(m, q) for q in m.SUPPLIERS)


def market_share(m: pyo.ConcreteModel, k: str) -> pyo.Expression:
    """No provider above the set share of all commissioned hours."""
    return commissioned_hours(m, k) <= m.max_provider_share * m.total_hours


def _preferences(m: pyo.ConcreteModel, p: Params) -> list[str]:
    """Preferred routes, block preferences and the residents whose preference counts."""
    routes = p.routes
    pref = routes[routes["preferred"]]
    m.preferred_routes = pref.groupby("resident_id")["route"].apply(list).to_dict()
    blocks = routes[routes["kind"] == "block"]
    m.block_route = dict(zip(blocks["resident_id"], blocks["route"], strict=True))
    candidates = set(p.block_pairs[["scheme_id", "provider_id"]].itertuples(index=False, name=None))
    asked = p.packages[p.packages["preferred_provider"].notna()]
    m.preferred_block = {
        r: (s, k)
        for r, s, k in asked[["resident_id", "scheme_id", "preferred_provider"]].itertuples(
            index=False, name=None
        )
        if r in m.block_route and (s, k) in candidates
    }
    dp = routes[(routes["kind"] == "direct") & routes["wants_direct_payment"]]
    m.direct_route = dict(zip(dp["resident_id"], dp["route"], strict=True))
    # A resident who takes a direct payment chooses their own carers: the request is the choice.
    return sorted((set(m.preferred_routes) | set(m.preferred_block)) - set(m.direct_route))


def _strong(m: pyo.ConcreteModel, p: Params, stated: list[str]) -> list[str]:
    pk = p.packages.set_index("resident_id")
    strong = [r for r in stated if pk.at[r, "preference_strength"] == "strong"]
    routes = p.routes
    offsite = set(
        routes.loc[routes["preferred"] & (routes["kind"] == "framework"), "resident_id"]
    )
    m.strong_needs_award = {
        r: None if r in offsite else (pk.at[r, "scheme_id"], pk.at[r, "preferred_provider"])
        for r in strong
    }
    return strong


def _block_care_credit(m: pyo.ConcreteModel, p: Params) -> None:
    """o[s,k]: the care under the block at s, in contact hours, credited to its holder k (read
    by the satisfaction floor and the market-share cap; built once for both)."""
    if hasattr(m, "block_care_hours"):
        return
    blocks = p.routes[p.routes["kind"] == "block"]
    m.route_hours = dict(zip(blocks["route"], blocks["hours"], strict=True))
    m.block_routes_of_scheme = blocks.groupby("scheme_id")["route"].apply(list).to_dict()
    hours = p.packages.groupby("scheme_id")["hours"].sum()
    m.scheme_package_hours = pd.Series(hours).to_dict()
    m.block_care_hours = pyo.Var(m.BLOCK, within=pyo.NonNegativeReals)
    m.block_care_credited_to_holder = pyo.Constraint(
        m.ONSITE_SCHEMES, rule=block_care_credited_to_holder)
    m.block_care_only_for_holder = pyo.Constraint(m.BLOCK, rule=block_care_only_for_holder)


def _satisfaction(m: pyo.ConcreteModel, p: Params, target: float) -> None:
    routes = p.routes
    # Satisfaction as a share (0-1), not a percentage, keeps the row bounds well scaled.
    m.min_mean_satisfaction = target / 100.0
    m.total_package_hours = float(p.packages["hours"].sum())
    others = routes[routes["kind"] != "block"]
    m.QUALITY_ROUTES = pyo.Set(initialize=others["route"].tolist())
    m.quality_routes_of_scheme = others.groupby("scheme_id")["route"].apply(list).to_dict()
    m.route_quality_hours = pyo.Param(m.QUALITY_ROUTES, initialize=dict(zip(
        others["route"], (others["hours"] * others["satisfaction"] / 100.0).tolist(),
        strict=True)))
    sat = p.providers.set_index("provider_id")["satisfaction"]
    m.holder_satisfaction = {k: float(sat[k]) / 100.0 for _, k in m.BLOCK}
    _block_care_credit(m, p)
    m.satisfaction_hours = pyo.Var(m.SCHEMES, within=pyo.NonNegativeReals)
    m.satisfaction_hours_by_scheme = pyo.Constraint(m.SCHEMES, rule=satisfaction_hours_by_scheme)
    m.mean_satisfaction = pyo.Constraint(expr=mean_satisfaction(m))


def add_policy(m: pyo.ConcreteModel, p: Params) -> None:
    policy = p.scenario.policy
    stated = _preferences(m, p)
    m.PREFERRED_BLOCK = pyo.Set(initialize=sorted(r for r in m.preferred_block if r in stated))
    m.preferred_block = {r: m.preferred_block[r] for r in m.PREFERRED_BLOCK}
    m.preferred_block_care = pyo.Var(m.PREFERRED_BLOCK, bounds=(0, 1))
    m.preferred_block_only_with_block_route = pyo.Constraint(
        m.PREFERRED_BLOCK, rule=preferred_block_only_with_block_route)
    m.preferred_block_only_when_holder = pyo.Constraint(
        m.PREFERRED_BLOCK, rule=preferred_block_only_when_holder)
    m.PREFERENCES = pyo.Set(initialize=stated)
    strong = _strong(m, p, stated)
    m.STRONG_PREFERENCES = pyo.Set(initialize=strong if policy.honour_strong_preferences else [])
    m.strong_preference_honoured = pyo.Constraint(
        m.STRONG_PREFERENCES, rule=strong_preference_honoured)
    m.min_preference_share = policy.min_preference_share
    if policy.min_preference_share > 0 and stated:
        m.preference_share = pyo.Constraint(expr=preference_share(m))
    m.DIRECT_PAYMENT_REQUESTS = pyo.Set(initialize=sorted(m.direct_route))
    m.direct_payment_request_honoured = pyo.Constraint(
        m.DIRECT_PAYMENT_REQUESTS, rule=direct_payment_request_honoured)
    if policy.min_mean_satisfaction > 0:
        _satisfaction(m, p, policy.min_mean_satisfaction)
    if policy.max_provider_share < 1:
        m.max_provider_share = policy.max_provider_share
        _block_care_credit(m, p)
        m.cover_hours = cover_hours(p)
        m.total_hours = pyo.Var(within=pyo.NonNegativeReals)
        m.total_commissioned_hours = pyo.Constraint(expr=total_commissioned_hours(m))
        m.market_share = pyo.Constraint(m.SUPPLIERS, rule=market_share)
