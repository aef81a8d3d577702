"""Framework admission, providers per zone, and every provider's weekly capacity.

Symbols (docs/model.md): z[f] provider f admitted to the framework, F_zeta framework-eligible
providers serving zone zeta, H_k hours provider k supplies (block staff-hours plus paid package
hours including travel), Cap_k its weekly capacity, chi[r,f] whether f counts as full for
resident r's package.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimiser.inputs.params import Params


def framework_active_needs_admission(m: pyo.ConcreteModel, s: str, f: str) -> pyo.Expression:
    """Only admitted framework providers can be called off: a framework provider active in a
    scheme must be admitted (or hold that scheme's block, see the next rule)."""
    held = m.award[s, f] if (s, f) in m.BLOCK else 0
    return m.in_scheme[s, f] <= m.admit[f] + held


def framework_care_needs_admission(m: pyo.ConcreteModel, j: int) -> pyo.Expression:
    """Where the provider also holds the scheme's block, framework-priced care from it still
    needs admission (its on-site care is the block or spot route)."""
    return m.care[j] <= m.admit[m.route_provider[j]]


def min_framework_per_zone(m: pyo.ConcreteModel, g: str) -> pyo.Expression:
    return (
        pyo.quicksum(m.admit[f] for f in m.ix.framework_in_zone.get(g, []))
        >= m.min_framework_in_zone
    )


def max_framework_per_zone(m: pyo.ConcreteModel, g: str) -> pyo.Expression:
    members = m.ix.framework_in_zone.get(g, [])
    if len(members) <= m.max_framework_in_zone:
        return pyo.Constraint.Skip
    return pyo.quicksum(m.admit[f] for f in members) <= m.max_framework_in_zone


def provider_hours_supplied(m: pyo.ConcreteModel, k: str) -> pyo.Expression:
    """H_k: block staff-hours plus package hours (contact and paid travel) the provider supplies.
    H_k is its own variable so the capacity and market-share rows stay short."""
    block = pyo.quicksum(m.block_hours[s, k] for s in m.ix.block_of_provider.get(k, []))
    paid = pyo.quicksum(m.paid_hours[j] * m.care[j] for j in m.ix.routes_of_provider.get(k, []))
    return m.provider_hours[k] == block + paid


def provider_capacity(m: pyo.ConcreteModel, k: str) -> pyo.Expression:
    return m.provider_hours[k] <= m.capacity[k]


def framework_hours_need_admission(m: pyo.ConcreteModel, f: str) -> pyo.Expression:
    """Framework hours come only from an admitted provider, and within its capacity:
    sum of omega_j y_j over f's framework routes <= Cap_f z_f. Implied by the integer model
    (care needs admission, and H_f <= Cap_f), but not by its LP relaxation, where a provider
    admitted to a fraction could still supply up to its whole capacity: this is the
    capacitated facility-location row, and where one provider must serve a zone it lifts
    the LP bound by percent, not tenths (docs/model.md, framework and capacity)."""
    paid = pyo.quicksum(m.paid_hours[j] * m.care[j] for j in m.ix.framework_routes_of[f])
    return paid <= m.capacity[f] * m.admit[f]


def call_off_in_rank_order(m: pyo.ConcreteModel, r: str, f: str) -> pyo.Expression:
    """Essex (seed 004): work is called off in rank order. Resident r's package may go to a
    provider ranked below f only if f is not admitted or f is full for that package; the
    resident's own named provider is exempt (choice still counts)."""
    worse = m.ix.call_off_below[r, f]
    return pyo.quicksum(m.care[j] for j in worse) <= 1 - m.admit[f] + m.full[r, f]


def full_means_no_room(m: pyo.ConcreteModel, r: str, f: str) -> pyo.Expression:
    """f counts as full for resident r only when its spare weekly capacity is below r's
    package (the paid hours f would supply for it): a small package cannot be passed down
    the ranking while f has room for it, whatever larger packages f could not take."""
    return m.provider_hours[f] >= (m.capacity[f] - m.package_hours[r, f]) * m.full[r, f]


def admitted_in_rank_order(m: pyo.ConcreteModel, f: str, g: str) -> pyo.Expression:
    """The council cannot pass over a better-ranked provider by leaving it off the framework:
    f (ranked below g, in a zone g also serves) is admitted only if g is."""
    return m.admit[f] <= m.admit[g]


def _rank_pairs(p: Params) -> list[tuple[str, str]]:
    """(f, g): g ranked directly or indirectly above f and sharing a zone with f."""
    serves = p.zones.dropna().merge(p.ranking[["provider_id", "rank"]], on="provider_id")
    pairs = serves.merge(serves, on="zone", suffixes=("", "_above"))
    pairs = pairs[pairs["rank_above"] < pairs["rank"]]
    return sorted(set(zip(pairs["provider_id"], pairs["provider_id_above"], strict=True)))


def _package_hours(p: Params, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Paid hours of resident r's framework route with provider f, for each (r, f) pair."""
    fw = p.routes[p.routes["kind"] == "framework"]
    hours = dict(zip(zip(fw["resident_id"], fw["provider_id"], strict=True),
                     fw["paid_hours"].astype(float), strict=True))
    return {pair: hours[pair] for pair in pairs}


def _call_off_pairs(p: Params) -> dict:
    """{(resident, better provider f): [framework routes of that resident to providers ranked
    below f, other than the resident's named provider]}, from the ranking."""
    fw = p.routes[p.routes["kind"] == "framework"][
        ["route", "resident_id", "provider_id", "preferred"]]
    fw = fw.merge(p.ranking[["provider_id", "rank"]], on="provider_id")
    pairs = fw.merge(fw, on="resident_id", suffixes=("_better", ""))
    pairs = pairs[(pairs["rank_better"] < pairs["rank"]) & ~pairs["preferred"]]
    pairs = pairs.sort_values(["resident_id", "rank_better", "rank"])
    grouped = pairs.groupby(["resident_id", "provider_id_better"], sort=True)["route"]
    return {key: list(routes) for key, routes in grouped}


def add_rank_order(m: pyo.ConcreteModel, p: Params) -> None:
    """The call-off rule's rows and the 'full' indicators it needs, one per resident and
    better-ranked provider."""
    m.ix.call_off_below = _call_off_pairs(p)
    m.CALL_OFF = pyo.Set(dimen=2, initialize=sorted(m.ix.call_off_below))
    m.package_hours = _package_hours(p, sorted(m.ix.call_off_below))
    m.full = pyo.Var(m.CALL_OFF, within=pyo.Binary)
    m.full_means_no_room = pyo.Constraint(m.CALL_OFF, rule=full_means_no_room)
    m.call_off_in_rank_order = pyo.Constraint(m.CALL_OFF, rule=call_off_in_rank_order)
    m.RANK_PAIRS = pyo.Set(dimen=2, initialize=_rank_pairs(p))
    m.admitted_in_rank_order = pyo.Constraint(m.RANK_PAIRS, rule=admitted_in_rank_order)


def add_framework(m: pyo.ConcreteModel, p: Params) -> None:
    policy = p.scenario.policy
    fw = p.framework
    m.FRAMEWORK = pyo.Set(initialize=fw["provider_id"].tolist())
    m.framework_fixed_cost = pyo.Param(
        m.FRAMEWORK,
        initialize=dict(zip(fw["provider_id"], fw["framework_fixed_cost"].tolist(), strict=True)),
    )
    m.admit = pyo.Var(m.FRAMEWORK, within=pyo.Binary)
    fw_routes = p.routes[p.routes["kind"] == "framework"]
    pairs = sorted(set(zip(fw_routes["scheme_id"], fw_routes["provider_id"], strict=True)))
    m.FRAMEWORK_PAIRS = pyo.Set(dimen=2, initialize=pairs)
    m.framework_active_needs_admission = pyo.Constraint(
        m.FRAMEWORK_PAIRS, rule=framework_active_needs_admission
    )
    block = set(m.BLOCK)
    at_holder = [j for j, s, f in fw_routes[["route", "scheme_id", "provider_id"]].itertuples(
        index=False, name=None) if (s, f) in block]
    m.FRAMEWORK_ROUTES_AT_BLOCK = pyo.Set(initialize=at_holder)
    m.framework_care_needs_admission = pyo.Constraint(
        m.FRAMEWORK_ROUTES_AT_BLOCK, rule=framework_care_needs_admission
    )
    m.ZONES = pyo.Set(initialize=sorted(p.data.schemes["zone"].unique()))
    m.min_framework_in_zone = policy.min_framework_per_zone
    m.max_framework_in_zone = policy.max_framework_per_zone
    if policy.min_framework_per_zone > 0 and policy.allow_framework:
        m.min_framework_per_zone = pyo.Constraint(m.ZONES, rule=min_framework_per_zone)
    if policy.max_framework_per_zone is not None:
        m.max_framework_per_zone = pyo.Constraint(m.ZONES, rule=max_framework_per_zone)
    paid = p.routes[p.routes["kind"].isin(["spot", "framework"])]
    m.paid_hours = pyo.Param(
        pyo.Set(initialize=paid["route"].tolist()),
        initialize=dict(zip(paid["route"], paid["paid_hours"].tolist(), strict=True)),
    )
    used = sorted(set(paid["provider_id"]) | {k for _, k in m.BLOCK})
    m.SUPPLIERS = pyo.Set(initialize=used)
    cap = p.providers.set_index("provider_id")["weekly_capacity_hours"]
    m.capacity = pyo.Param(m.SUPPLIERS, initialize={k: float(cap[k]) for k in used})
    m.provider_hours = pyo.Var(m.SUPPLIERS, within=pyo.NonNegativeReals)
    m.provider_hours_supplied = pyo.Constraint(m.SUPPLIERS, rule=provider_hours_supplied)
    m.provider_capacity = pyo.Constraint(m.SUPPLIERS, rule=provider_capacity)
    m.FRAMEWORK_SUPPLIERS = pyo.Set(initialize=sorted(m.ix.framework_routes_of))
    m.framework_hours_need_admission = pyo.Constraint(
        m.FRAMEWORK_SUPPLIERS, rule=framework_hours_need_admission)
    if policy.call_off_in_rank_order and policy.allow_framework:
        add_rank_order(m, p)
