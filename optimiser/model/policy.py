"""Choice and quality rules, and market resilience.

Symbols (docs/model.md): P^strong residents with an eligible strong preference, P^pref all
residents with an eligible stated preference, pi the share to honour, D residents asking for a
direct payment who can have one, q_j satisfaction of route j's provider, q_min the floor on the
hours-weighted mean, sigma the market share cap.
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from optimiser.params import Params


def honoured(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    return pyo.quicksum(m.care[j] for j in m.preferred_routes[r])


def strong_preference_honoured(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    """A strong preference is honoured whenever the provider is eligible: always if it could
    be called off the framework (or bought on the budget) for this resident; if it can only
    serve as the scheme's on-site provider, whenever it holds the block contract."""
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


def mean_satisfaction(m: pyo.ConcreteModel) -> pyo.Expression:
    """Hours-weighted mean satisfaction of planned care at least the floor."""
    return (
        pyo.quicksum(m.route_quality_hours[j] * m.care[j] for j in m.ROUTES)
        >= m.min_mean_satisfaction * m.total_package_hours
    )


def market_share(m: pyo.ConcreteModel, k: str) -> pyo.Expression:
    """No provider above the set share of all commissioned hours."""
    return m.provider_hours[k] <= m.max_provider_share * pyo.quicksum(
        m.provider_hours[q] for q in m.SUPPLIERS
    )


def add_policy(m: pyo.ConcreteModel, p: Params) -> None:
    policy = p.scenario.policy
    routes = p.routes
    pref = routes[routes["preferred"]]
    by_resident = pref.groupby("resident_id")["route"].apply(list).to_dict()
    m.preferred_routes = by_resident
    dp = routes[(routes["kind"] == "direct") & routes["wants_direct_payment"]]
    m.direct_route = dict(zip(dp["resident_id"], dp["route"], strict=True))
    # A resident who takes a direct payment chooses their own carers: the request is the choice.
    stated = sorted(set(by_resident) - set(m.direct_route))
    strong_rows = pref[(pref["preference_strength"] == "strong") & pref["resident_id"].isin(stated)]
    strong = sorted(strong_rows["resident_id"].unique())
    offsite_ok = set(strong_rows.loc[strong_rows["kind"] == "framework", "resident_id"])
    m.strong_needs_award = {
        r: None if r in offsite_ok else (row.scheme_id, row.provider_id)
        for r, row in strong_rows.drop_duplicates("resident_id").set_index("resident_id").iterrows()
        if r in strong
    }
    m.PREFERENCES = pyo.Set(initialize=stated)
    m.STRONG_PREFERENCES = pyo.Set(initialize=strong if policy.honour_strong_preferences else [])
    m.strong_preference_honoured = pyo.Constraint(
        m.STRONG_PREFERENCES, rule=strong_preference_honoured
    )
    m.min_preference_share = policy.min_preference_share
    if policy.min_preference_share > 0 and stated:
        m.preference_share = pyo.Constraint(rule=preference_share)
    m.DIRECT_PAYMENT_REQUESTS = pyo.Set(initialize=sorted(m.direct_route))
    m.direct_payment_request_honoured = pyo.Constraint(
        m.DIRECT_PAYMENT_REQUESTS, rule=direct_payment_request_honoured
    )
    if policy.min_mean_satisfaction > 0:
        m.min_mean_satisfaction = policy.min_mean_satisfaction
        m.total_package_hours = float(p.packages["hours"].sum())
        m.route_quality_hours = pyo.Param(
            m.ROUTES,
            initialize=dict(
                zip(
                    routes["route"],
                    (routes["hours"] * routes["satisfaction"]).tolist(),
                    strict=True,
                )
            ),
        )
        m.mean_satisfaction = pyo.Constraint(rule=mean_satisfaction)
    if policy.max_provider_share < 1:
        m.max_provider_share = policy.max_provider_share
        m.market_share = pyo.Constraint(m.SUPPLIERS, rule=market_share)
