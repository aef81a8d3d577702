"""Block contracts: which on-site provider (if any) holds each scheme's contract, and its size.

Symbols (docs/model.md): a[s,k] award, h[s,k] guaranteed weekly staff-hours, V_k minimum viable
volume, H_s upper bound on hours a scheme could ever need.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimiser.params import Params


def one_block_contract(m: pyo.ConcreteModel, s: str) -> pyo.Expression:
    """At most one on-site provider per scheme; exactly one where 24-hour cover is required."""
    total = pyo.quicksum(m.award[s, k] for k in m.ix.providers_at_scheme.get(s, []))
    if m.require_24h_cover:
        return total == 1
    return total <= 1


def minimum_viable_volume(m: pyo.ConcreteModel, s: str, k: str) -> pyo.Expression:
    """A provider will not set up an on-site team for less than its minimum volume (seed 000)."""
    return m.block_hours[s, k] >= m.block_min_hours[s, k] * m.award[s, k]


def hours_only_under_award(m: pyo.ConcreteModel, s: str, k: str) -> pyo.Expression:
    """No guaranteed hours without a contract."""
    return m.block_hours[s, k] <= m.block_max_hours[s, k] * m.award[s, k]


def add_contracts(m: pyo.ConcreteModel, p: Params) -> None:
    pairs = p.block_pairs
    keys = list(zip(pairs["scheme_id"], pairs["provider_id"], strict=True))
    m.require_24h_cover = p.scenario.policy.require_24h_cover
    m.SCHEMES = pyo.Set(initialize=p.data.schemes["scheme_id"].tolist())
    m.BLOCK = pyo.Set(dimen=2, initialize=keys)
    m.block_min_hours = pyo.Param(m.BLOCK, initialize=dict(zip(keys, pairs["min_hours"])))
    m.block_max_hours = pyo.Param(m.BLOCK, initialize=dict(zip(keys, pairs["max_hours"])))
    m.block_management_cost = pyo.Param(m.BLOCK, initialize=dict(zip(keys, pairs["mgmt_cost"])))
    m.award = pyo.Var(m.BLOCK, within=pyo.Binary)
    m.block_hours = pyo.Var(m.BLOCK, within=pyo.NonNegativeReals)
    m.one_block_contract = pyo.Constraint(m.SCHEMES, rule=one_block_contract)
    m.minimum_viable_volume = pyo.Constraint(m.BLOCK, rule=minimum_viable_volume)
    m.hours_only_under_award = pyo.Constraint(m.BLOCK, rule=hours_only_under_award)
