"""Who delivers each resident's planned care, and the budget rules on what it may cost.

A *route* j is one way to deliver one resident's whole package: the on-site team under the
block contract, the on-site provider paid from the personal budget, a framework provider, or a
direct payment. Only eligible routes exist (params.py). Symbols (docs/model.md): y[j] route
chosen (share of the package if splits are allowed), y^min the smallest share a framework
provider may take with splits, u[s,k] provider k active in scheme s,
c_j weekly price to the council, c^bud_j what the route draws on the budget, B_r budget plus
top-up.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimiser.inputs.params import Params

SMALLEST_SPLIT_SHARE = 0.01  # y^min: with splits, a framework provider takes at least 1 % of
# a package or none of it (a smaller share is not a real arrangement)


def every_package_delivered_once(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    """Each assessed package (so every visit in it) is delivered exactly once."""
    return pyo.quicksum(m.care[j] for j in m.ix.routes_of_resident[r]) == 1


def onsite_care_needs_block(m: pyo.ConcreteModel, j: int) -> pyo.Expression:
    """The on-site team exists only where the scheme has a block contract; care paid from a
    budget to the on-site provider needs that provider to hold it."""
    s = m.route_scheme[j]
    if j in m.route_provider:
        return m.care[j] <= m.award[s, m.route_provider[j]]
    return m.care[j] <= pyo.quicksum(m.award[s, k] for k in m.ix.providers_at_scheme[s])


def provider_active_if_caring(m: pyo.ConcreteModel, j: int) -> pyo.Expression:
    """A framework provider delivering any care in a scheme is active there (and costs
    coordination). On-site routes need the block award, which already makes its holder active."""
    return m.care[j] <= m.in_scheme[m.route_scheme[j], m.route_provider[j]]


def block_provider_active(m: pyo.ConcreteModel, s: str, k: str) -> pyo.Expression:
    return m.in_scheme[s, k] >= m.award[s, k]


def active_only_if_caring(m: pyo.ConcreteModel, s: str, k: str) -> pyo.Expression:
    """A provider counts as active in a scheme only if it holds the block there or delivers
    framework care there, so a plan stopped short of optimal never pays for idle pairs. With
    splits a share may be a fraction, so the care is divided by the smallest share y^min a
    framework provider may take: any share of at least y^min lets it be active."""
    held = m.award[s, k] if (s, k) in m.BLOCK else 0
    caring = pyo.quicksum(m.care[j] for j in m.framework_routes_of_pair.get((s, k), []))
    return m.in_scheme[s, k] <= held + caring / m.smallest_share


def individual_budget(m: pyo.ConcreteModel, r: str) -> pyo.Expression:
    """What the package draws on the budget is within the budget plus the allowed top-up."""
    return (
        pyo.quicksum(m.budget_draw[j] * m.care[j] for j in m.ix.routes_of_resident[r])
        <= m.budget_cap[r]
    )


def pooled_budget(m: pyo.ConcreteModel, s: str) -> pyo.Expression:
    """Pooled budgets: the scheme's packages together stay within its pooled budgets."""
    routes = m.ix.routes_of_scheme.get(s, [])
    if not routes:
        return pyo.Constraint.Skip
    return pyo.quicksum(m.budget_draw[j] * m.care[j] for j in routes) <= sum(
        m.budget_cap[r] for r in m.ix.residents_of_scheme.get(s, [])
    )


def pooled_budgets_pay_for_cover(m: pyo.ConcreteModel, s: str) -> pyo.Expression:
    """Micro-commissioning (seed 000): no council block; an on-site team exists only if the
    scheme's pooled budgets pay for its staff-hours at the provider's rates, on top of what
    the residents' own packages draw."""
    routes = m.ix.routes_of_scheme.get(s, [])
    cover = pyo.quicksum(
        m.block_rate[k, b] * m.band_hours[s, k, b]
        for k in m.ix.providers_at_scheme.get(s, [])
        for b in m.BANDS
    )
    pool = sum(m.budget_cap[r] for r in m.ix.residents_of_scheme.get(s, []))
    return pyo.quicksum(m.budget_draw[j] * m.care[j] for j in routes) + cover <= pool


def add_allocation(m: pyo.ConcreteModel, p: Params) -> None:
    routes = p.routes
    policy = p.scenario.policy
    j_all = routes["route"].tolist()
    m.PACKAGES = pyo.Set(initialize=p.packages["resident_id"].tolist())
    m.ROUTES = pyo.Set(initialize=j_all)
    m.route_price = pyo.Param(
        m.ROUTES, initialize=dict(zip(j_all, routes["price"].tolist(), strict=True))
    )
    m.budget_draw = pyo.Param(
        m.ROUTES, initialize=dict(zip(j_all, routes["budget_price"].tolist(), strict=True))
    )
    m.route_scheme = pyo.Param(
        m.ROUTES,
        within=pyo.Any,
        initialize=dict(zip(j_all, routes["scheme_id"].tolist(), strict=True)),
    )
    with_provider = routes[routes["provider_id"].notna()]
    m.route_provider = pyo.Param(
        pyo.Set(initialize=with_provider["route"].tolist()),
        within=pyo.Any,
        initialize=dict(zip(with_provider["route"], with_provider["provider_id"], strict=True)),
    )
    m.budget_cap = pyo.Param(
        m.PACKAGES,
        initialize=dict(
            zip(p.packages["resident_id"], p.packages["budget_cap"].tolist(), strict=True)
        ),
    )
    domain = pyo.UnitInterval if policy.allow_splits else pyo.Binary
    m.smallest_share = SMALLEST_SPLIT_SHARE if policy.allow_splits else 1.0
    m.care = pyo.Var(m.ROUTES, within=domain)
    onsite = routes[routes["kind"].isin(["block", "spot"])]["route"].tolist()
    m.ONSITE_ROUTES = pyo.Set(initialize=onsite)
    framework = routes[routes["kind"] == "framework"]
    m.FRAMEWORK_ROUTES = pyo.Set(initialize=framework["route"].tolist())
    active = sorted(
        set(zip(with_provider["scheme_id"], with_provider["provider_id"], strict=True))
        | set(m.BLOCK)
    )
    m.ACTIVE = pyo.Set(dimen=2, initialize=active)
    m.in_scheme = pyo.Var(m.ACTIVE, within=pyo.Binary)
    m.every_package_delivered_once = pyo.Constraint(m.PACKAGES, rule=every_package_delivered_once)
    m.onsite_care_needs_block = pyo.Constraint(m.ONSITE_ROUTES, rule=onsite_care_needs_block)
    m.provider_active_if_caring = pyo.Constraint(
        m.FRAMEWORK_ROUTES, rule=provider_active_if_caring
    )
    m.block_provider_active = pyo.Constraint(m.BLOCK, rule=block_provider_active)
    m.framework_routes_of_pair = framework.groupby(["scheme_id", "provider_id"])["route"].apply(
        list).to_dict()
    m.active_only_if_caring = pyo.Constraint(m.ACTIVE, rule=active_only_if_caring)
    if policy.budget_rule == "individual" and policy.allow_splits:
        m.individual_budget = pyo.Constraint(m.PACKAGES, rule=individual_budget)
    if policy.budget_rule == "pooled":
        m.pooled_budget = pyo.Constraint(m.SCHEMES, rule=pooled_budget)
    if policy.cover_funding == "pooled_budgets":
        m.POOL_SCHEMES = pyo.Set(initialize=sorted(m.ix.providers_at_scheme))
        m.pooled_budgets_pay_for_cover = pyo.Constraint(
            m.POOL_SCHEMES, rule=pooled_budgets_pay_for_cover)
