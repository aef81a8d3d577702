"""Block contracts: which on-site provider (if any) holds each scheme's contract, and its size.

The guaranteed staff-hours are split by pay band b (day, night, weekend) so the contract is
priced at the holder's own rates without multiplying the integer rota by the candidate
providers. Symbols (docs/model.md): a[s,k] award, g[s,k,b] guaranteed staff-hours in band b,
V_k minimum viable volume, G[s,b] most band-b hours the scheme could ever need, pi^blk[k,b]
provider k's staff-hour rate in band b (m.block_rate).
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimiser.inputs.params import BANDS, Params


def one_block_contract(m: pyo.ConcreteModel, s: str) -> pyo.Expression:
    """At most one on-site provider per scheme; exactly one where 24-hour cover is required."""
    total = pyo.quicksum(m.award[s, k] for k in m.ix.providers_at_scheme.get(s, []))
    if not m.ix.providers_at_scheme.get(s):
        return pyo.Constraint.Skip  # static checks already explained a required-but-impossible
    if m.require_24h_cover:
        return total == 1
    return total <= 1


def schemes_keeping_cover(m: pyo.ConcreteModel) -> pyo.Expression:
    """sum_s A[s] >= K: at least K schemes keep an on-site team (with cover paid from pooled
    budgets, K is the most any plan can keep: optimiser.solving.pooled_cover)."""
    return pyo.quicksum(m.award[s, k] for s, k in m.BLOCK) >= m.min_schemes_with_cover


def block_hours(m: pyo.ConcreteModel, s: str, k: str) -> pyo.Expression:
    """h^blk[s,k]: the contract's guaranteed staff-hours a week, all bands."""
    return pyo.quicksum(m.band_hours[s, k, b] for b in m.BANDS)


def minimum_viable_volume(m: pyo.ConcreteModel, s: str, k: str) -> pyo.Expression:
    """A provider will not set up an on-site team for less than its minimum volume (seed 000)."""
    return m.block_hours[s, k] >= m.block_min_hours[s, k] * m.award[s, k]


def hours_only_under_award(m: pyo.ConcreteModel, s: str, k: str, b: str) -> pyo.Expression:
    """No guaranteed hours without a contract."""
    return m.band_hours[s, k, b] <= m.max_band_hours[s, b] * m.award[s, k]


def add_contracts(m: pyo.ConcreteModel, p: Params) -> None:
    pairs = p.block_pairs
    keys = list(zip(pairs["scheme_id"], pairs["provider_id"], strict=True))
    m.require_24h_cover = p.scenario.policy.require_24h_cover
    m.SCHEMES = pyo.Set(initialize=p.data.schemes["scheme_id"].tolist())
    m.BANDS = pyo.Set(initialize=list(BANDS))
    m.BLOCK = pyo.Set(dimen=2, initialize=keys)
    m.block_min_hours = pyo.Param(
        m.BLOCK, initialize=dict(zip(keys, pairs["min_hours"], strict=True))
    )
    m.block_management_cost = pyo.Param(
        m.BLOCK, initialize=dict(zip(keys, pairs["mgmt_cost"], strict=True))
    )
    bound = p.hours_bound.set_index(["scheme_id", "band"])["max_hours"]
    m.max_band_hours = pyo.Param(
        m.SCHEMES,
        m.BANDS,
        initialize={(s, b): float(bound.get((s, b), 0.0)) for s in m.SCHEMES for b in BANDS},
    )
    rates = p.providers.set_index("provider_id")
    holders = sorted({k for _, k in keys})
    m.BLOCK_PROVIDERS = pyo.Set(initialize=holders)
    m.block_rate = pyo.Param(
        m.BLOCK_PROVIDERS,
        m.BANDS,
        initialize={(k, b): float(rates.at[k, f"block_rate_{b}"]) for k in holders for b in BANDS},
    )
    m.award = pyo.Var(m.BLOCK, within=pyo.Binary)
    m.band_hours = pyo.Var(m.BLOCK, m.BANDS, within=pyo.NonNegativeReals)
    m.block_hours = pyo.Expression(m.BLOCK, rule=block_hours)
    m.one_block_contract = pyo.Constraint(m.SCHEMES, rule=one_block_contract)
    m.min_schemes_with_cover = p.scenario.policy.min_schemes_with_cover
    if m.min_schemes_with_cover > 0:
        m.schemes_keeping_cover = pyo.Constraint(expr=schemes_keeping_cover(m))
    m.minimum_viable_volume = pyo.Constraint(m.BLOCK, rule=minimum_viable_volume)
    m.hours_only_under_award = pyo.Constraint(m.BLOCK, m.BANDS, rule=hours_only_under_award)
