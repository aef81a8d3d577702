"""Weekly cost to the council, line by line (annualised only in reports).

Each line is a named Expression so plan tables and checks report the same numbers the solver
minimised. Symbols (docs/model.md): C^rota, C^mgmt, C^spot, C^fw, C^fix, C^dp, C^coord.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimiser.inputs.params import Params

COST_LINES: dict[str, str] = {
    "onsite_staff": "On-site staff hours under block contracts",
    "block_management": "Letting and managing block contracts",
    "onsite_spot": "On-site provider paid from personal budgets",
    "framework_care": "Framework providers' care hours (incl. paid travel)",
    "framework_fixed": "Framework admission and monitoring",
    "direct_payments": "Direct payments and their administration",
    "coordination": "Coordination of providers active in schemes",
    "cash_allocations": "Cash allocations paid to residents (core and flexi)",
}


def _routes_of_kind(m: pyo.ConcreteModel, kind: str) -> pyo.Expression:
    return pyo.quicksum(m.route_price[j] * m.care[j] for j in m.routes_by_kind.get(kind, []))


def cash_allocations(p: Params) -> float:
    """C^cash: the share of every personal budget paid as cash (seed 002, Look Ahead); fixed by
    the model file, the same whatever the plan, so it moves the total, not the choices."""
    share = p.scenario.policy.cash_allocation_share
    return float(share * p.packages["weekly_budget"].sum())


def add_objective(m: pyo.ConcreteModel, p: Params) -> None:
    m.routes_by_kind = p.routes.groupby("kind")["route"].apply(list).to_dict()
    m.coordination_cost = p.costs["coordination_per_provider_scheme_per_week"]
    m.cost_onsite_staff = pyo.Expression(
        expr=pyo.quicksum(
            m.block_rate[k, b] * m.band_hours[s, k, b]
            for s, k in m.BLOCK
            for b in m.BANDS
        )
    )
    m.cost_block_management = pyo.Expression(
        expr=pyo.quicksum(m.block_management_cost[s, k] * m.award[s, k] for s, k in m.BLOCK)
    )
    m.cost_onsite_spot = pyo.Expression(expr=_routes_of_kind(m, "spot"))
    m.cost_framework_care = pyo.Expression(expr=_routes_of_kind(m, "framework"))
    m.cost_framework_fixed = pyo.Expression(
        expr=pyo.quicksum(m.framework_fixed_cost[f] * m.admit[f] for f in m.FRAMEWORK)
    )
    m.cost_direct_payments = pyo.Expression(expr=_routes_of_kind(m, "direct"))
    m.cost_coordination = pyo.Expression(
        expr=m.coordination_cost * pyo.quicksum(m.in_scheme[s, k] for s, k in m.ACTIVE)
    )
    m.cost_cash_allocations = pyo.Expression(expr=cash_allocations(p))
    m.weekly_cost = pyo.Objective(
        expr=pyo.quicksum(getattr(m, f"cost_{line}") for line in COST_LINES),
        sense=pyo.minimize,
    )
