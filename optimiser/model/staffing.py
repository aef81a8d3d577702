"""The on-site rota and 24-hour cover in every slot of the week.

Staff on duty are constant within a slot, but visits start and end inside it, so cover is
checked at every peak moment upsilon of the slot (optimiser/inputs/peaks.py): the carers busy
with planned visits at that moment, plus the reserve, never exceed the staff on duty.

Symbols (docs/model.md): x[s,p] staff on shift pattern p at scheme s (integer),
N[s,t] = sum of x over patterns covering slot t (staff on duty), M[s,t] minimum staff, E[s,t]
Erlang C emergency reserve, n[r,upsilon] carers resident r's visits keep busy at moment upsilon,
n[r,t] carers one double-up visit needs at once, y[j] the care route chosen, A[s] = sum_k
a[s,k] whether the scheme has a block contract.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimiser.inputs.params import Params


def on_duty(m: pyo.ConcreteModel, s: str, t: int) -> pyo.Expression:
    """Staff on duty at scheme s in slot t: everyone on a pattern that covers t (nobody if the
    model's shifts leave t uncovered)."""
    return pyo.quicksum(m.staff[s, p] for p in m.ix.patterns_covering.get(t, []))


def awarded(m: pyo.ConcreteModel, s: str) -> pyo.Expression:
    """A[s]: 1 if the scheme has an on-site block contract."""
    return pyo.quicksum(m.award[s, k] for k in m.ix.providers_at_scheme.get(s, []))


def rota_is_the_contract(m: pyo.ConcreteModel, s: str, b: str) -> pyo.Expression:
    """The rota's staff-hours in each pay band are exactly the contract's guaranteed hours."""
    return pyo.quicksum(m.band_hours[s, k, b] for k in m.ix.providers_at_scheme[s]) == pyo.quicksum(
        m.pattern_band_hours[q, b] * m.staff[s, q] for q in m.PATTERNS
    )


def minimum_cover(m: pyo.ConcreteModel, s: str, t: int) -> pyo.Expression:
    """Never fewer staff on duty than the minimum (2 waking at night if no lone working)."""
    if m.min_staff[s, t] <= m.reserve[s, t]:
        return pyo.Constraint.Skip  # implied by the care-and-reserve rule below
    return on_duty(m, s, t) >= m.min_staff[s, t] * awarded(m, s)


def care_and_reserve_cover(m: pyo.ConcreteModel, s: str, t: int, i: int) -> pyo.Expression:
    """At peak moment i of slot t, enough staff on duty for every carer then busy with a visit
    the on-site team delivers (a double-up needs all its carers) plus the emergency reserve
    that must float free for calls, plus the support-tier check visits where the model has
    tiers."""
    pairs = m.ix.busy_at.get((s, t, i), [])
    fixed = m.reserve[s, t] + m.tier_load.get((s, t), 0.0)
    if not pairs and not fixed and t not in m.ix.patterns_covering:
        return pyo.Constraint.Skip  # no shift covers t and nothing there needs a carer
    busy = pyo.quicksum(carers * m.care[j] for j, carers in pairs)
    return on_duty(m, s, t) >= busy + fixed * awarded(m, s)


def double_up_cover(m: pyo.ConcreteModel, s: str, t: int, j: int) -> pyo.Expression:
    """With split packages: while a double-up visit by the on-site team is under way, all its
    carers are with the resident and the emergency reserve is still free, however small the
    share of the package under the block. (Without splits the peak rows above imply it.)"""
    return (on_duty(m, s, t)
            >= m.visit_carers[s, t, j] * m.double_up_by_team[j] + m.reserve[s, t] * awarded(m, s))


def part_of_package_under_block(m: pyo.ConcreteModel, j: int) -> pyo.Expression:
    """With split packages, any share of a double-up package under the block still needs both
    carers at once: y^du[j] = 1 whenever y[j] > 0."""
    return m.care[j] <= m.double_up_by_team[j]


def add_staffing(m: pyo.ConcreteModel, p: Params) -> None:
    patterns = p.patterns
    onsite = sorted(m.ix.providers_at_scheme)
    m.ONSITE_SCHEMES = pyo.Set(initialize=onsite)
    m.SLOTS = pyo.Set(initialize=p.slots["slot"].tolist())
    m.PATTERNS = pyo.Set(initialize=patterns["pattern"].tolist())
    m.pattern_band_hours = pyo.Param(
        m.PATTERNS,
        m.BANDS,
        initialize={
            (q, b): float(h)
            for q, row in patterns.set_index("pattern").iterrows()
            for b, h in ((b, row[f"{b}_hours"]) for b in m.BANDS)
        },
    )
    cover = p.cover[p.cover["scheme_id"].isin(onsite)]
    keys = list(zip(cover["scheme_id"], cover["slot"], strict=True))
    m.COVER = pyo.Set(dimen=2, initialize=keys)
    m.min_staff = pyo.Param(
        m.COVER, initialize=dict(zip(keys, cover["min_staff"].tolist(), strict=True))
    )
    m.reserve = pyo.Param(
        m.COVER, initialize=dict(zip(keys, cover["reserve"].tolist(), strict=True))
    )
    tl = p.tier_load
    m.tier_load = (
        {} if tl.empty
        else dict(zip(zip(tl["scheme_id"], tl["slot"], strict=True), tl["load"], strict=True))
    )
    m.staff = pyo.Var(m.ONSITE_SCHEMES, m.PATTERNS, within=pyo.NonNegativeIntegers)
    m.rota_is_the_contract = pyo.Constraint(m.ONSITE_SCHEMES, m.BANDS, rule=rota_is_the_contract)
    m.minimum_cover = pyo.Constraint(m.COVER, rule=minimum_cover)
    m.PEAK_MOMENTS = pyo.Set(dimen=3, initialize=[
        k for k in m.ix.peak_moments if k[0] in m.ONSITE_SCHEMES])
    m.care_and_reserve_cover = pyo.Constraint(m.PEAK_MOMENTS, rule=care_and_reserve_cover)
    doubles = m.ix.double_ups
    m.splits_allowed = p.scenario.policy.allow_splits
    if m.splits_allowed:
        m.DOUBLE_UPS = pyo.Set(dimen=3, initialize=[(s, t, j) for s, t, j, _ in doubles])
        m.visit_carers = pyo.Param(m.DOUBLE_UPS,
                                   initialize={(s, t, j): c for s, t, j, c in doubles})
        m.DOUBLE_UP_ROUTES = pyo.Set(initialize=sorted({j for _, _, j, _ in doubles}))
        m.double_up_by_team = pyo.Var(m.DOUBLE_UP_ROUTES, within=pyo.Binary)
        m.part_of_package_under_block = pyo.Constraint(
            m.DOUBLE_UP_ROUTES, rule=part_of_package_under_block
        )
        m.double_up_cover = pyo.Constraint(m.DOUBLE_UPS, rule=double_up_cover)
