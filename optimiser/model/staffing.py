"""The on-site rota and 24-hour cover in every slot of the week.

Symbols (docs/model.md): x[s,k,p] staff on shift pattern p, N[s,t] = sum of x over patterns
covering slot t (staff on duty), M[s,t] minimum staff, E[s,t] Erlang C emergency reserve,
l[r,t] planned-care load, y[j] the care route chosen.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimiser.params import Params


def on_duty(m: pyo.ConcreteModel, s: str, t: int) -> pyo.Expression:
    """Staff on duty at scheme s in slot t: everyone on a pattern that covers t."""
    return pyo.quicksum(
        m.staff[s, k, p]
        for k in m.ix.providers_at_scheme.get(s, [])
        for p in m.ix.patterns_covering[t]
    )


def awarded(m: pyo.ConcreteModel, s: str) -> pyo.Expression:
    """1 if the scheme has an on-site block contract."""
    return pyo.quicksum(m.award[s, k] for k in m.ix.providers_at_scheme.get(s, []))


def block_hours_are_rota_hours(m: pyo.ConcreteModel, s: str, k: str) -> pyo.Expression:
    """The contract's guaranteed hours are exactly the staff-hours on its rota."""
    return m.block_hours[s, k] == pyo.quicksum(
        m.pattern_hours[p] * m.staff[s, k, p] for p in m.PATTERNS
    )


def minimum_cover(m: pyo.ConcreteModel, s: str, t: int) -> pyo.Expression:
    """Never fewer staff on duty than the scheme's minimum (2 waking at night if no lone working)."""
    if m.min_staff[s, t] <= m.reserve[s, t] or not m.ix.providers_at_scheme.get(s):
        return pyo.Constraint.Skip  # implied by the care-and-reserve rule below
    return on_duty(m, s, t) >= m.min_staff[s, t] * awarded(m, s)


def care_and_reserve_cover(m: pyo.ConcreteModel, s: str, t: int) -> pyo.Expression:
    """Enough staff for the planned care the on-site team delivers in the slot (double-ups count
    twice) plus the emergency reserve that must float free for calls."""
    if not m.ix.providers_at_scheme.get(s):
        return pyo.Constraint.Skip
    planned = pyo.quicksum(load * m.care[j] for j, load in m.ix.block_load.get((s, t), []))
    return on_duty(m, s, t) >= planned + m.reserve[s, t] * awarded(m, s)


def double_up_cover(m: pyo.ConcreteModel, s: str, t: int, j: int) -> pyo.Expression:
    """While a double-up visit by the on-site team is under way, both carers are with the
    resident and the emergency reserve is still free."""
    return on_duty(m, s, t) >= m.visit_carers[s, t, j] * m.care[j] + m.reserve[s, t] * awarded(m, s)


def add_staffing(m: pyo.ConcreteModel, p: Params) -> None:
    patterns = p.patterns
    m.SLOTS = pyo.Set(initialize=p.slots["slot"].tolist())
    m.PATTERNS = pyo.Set(initialize=patterns["pattern"].tolist())
    m.pattern_hours = pyo.Param(m.PATTERNS, initialize=dict(zip(
        patterns["pattern"], patterns["hours"] * 1.0, strict=True)))
    m.ROTA = pyo.Set(dimen=3, initialize=[(s, k, q) for s, k in m.BLOCK for q in m.PATTERNS])
    cover = p.cover
    keys = list(zip(cover["scheme_id"], cover["slot"], strict=True))
    m.COVER = pyo.Set(dimen=2, initialize=keys)
    m.min_staff = pyo.Param(m.COVER, initialize=dict(zip(keys, cover["min_staff"].tolist())))
    m.reserve = pyo.Param(m.COVER, initialize=dict(zip(keys, cover["reserve"].tolist())))
    m.staff = pyo.Var(m.ROTA, within=pyo.NonNegativeIntegers)
    m.block_hours_are_rota_hours = pyo.Constraint(m.BLOCK, rule=block_hours_are_rota_hours)
    m.minimum_cover = pyo.Constraint(m.COVER, rule=minimum_cover)
    m.care_and_reserve_cover = pyo.Constraint(m.COVER, rule=care_and_reserve_cover)
    doubles = m.ix.double_ups
    m.DOUBLE_UPS = pyo.Set(dimen=3, initialize=[(s, t, j) for s, t, j, _ in doubles])
    m.visit_carers = pyo.Param(m.DOUBLE_UPS, initialize={(s, t, j): c for s, t, j, c in doubles})
    m.double_up_cover = pyo.Constraint(m.DOUBLE_UPS, rule=double_up_cover)
