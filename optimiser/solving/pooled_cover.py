"""Round-the-clock cover paid from pooled personal budgets (micro-commissioning, seed 000).

With no council block, a scheme keeps its on-site team only if its residents' pooled budgets
pay for it out of what is left after their own care. Which schemes can is decided in the model
itself, lexicographically: first as many schemes as possible keep their cover, then cost.

1. Accounts: the cheapest plan that keeps cover at every scheme with the council paying the
   teams. For each scheme this measures the pool, what the residents' own care draws on it
   and what the team costs; where care plus team exceed the pool, the shortfall is what the
   council would have to add each week to restore the scheme's cover if it loses it.
2. Most schemes kept: the model as written, with cover optional at each scheme and every team
   paid from its pool (``pooled_budgets_pay_for_cover``), maximising the number of schemes with
   an on-site team, K*. Skipped when no pool fell short in step 1 (then K* = every scheme).
3. The plan: the model as written with at least K* schemes keeping cover
   (``min_schemes_with_cover``), at least cost.

Step 2 looks at every plan, not only the council's cheapest: a scheme keeps its cover whenever
some plan's care leaves its pool enough for the team. ``cover_funding.csv`` reports the
schemes' accounts and what the plan does with each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo

from optimiser.inputs.config import Scenario
from optimiser.inputs.load import Dataset
from optimiser.inputs.params import Params, derive
from optimiser.model.build import build_model
from optimiser.plan.tables import Plan, extract_plan
from optimiser.solving.decompose import solve_model
from optimiser.solving.highs import Progress, SolveResult

SHORTFALL_TOL = 0.005  # GBP a week: below a penny is rounding, not a shortfall


@dataclass
class FirstStage:
    """Steps 1-2's answer: the scenario to solve as written (at least ``kept`` schemes keep
    cover), each scheme's pool account, and whether ``kept`` is proven the most possible; or,
    if no plan exists even so, why (reasons) and the solver's result."""

    scenario: Scenario | None = None
    accounts: pd.DataFrame | None = None
    result: SolveResult | None = None
    reasons: list[str] = field(default_factory=list)
    kept: int = 0
    proven: bool = True


def first_stage(data: Dataset, scenario: Scenario, log_file: Path | None = None,
                progress: Progress | None = None) -> FirstStage:
    """Steps 1 and 2: the pool accounts and the most schemes that can keep their cover. Raises
    StaticInfeasibility (from derive) when a rule cannot be met whatever the plan."""
    first = keep_cover_everywhere(scenario)
    params = derive(data, first)
    model = build_model(params)
    result = solve_model(model, params, first.solver, log_file=log_file, progress=progress)
    if not result.has_plan:
        return FirstStage(result=result, reasons=[
            "Even with the council paying every on-site team, no plan was found "
            f"({result.describe()}), so what pooled budgets could pay cannot be measured."])
    accounts = pool_accounts(extract_plan(model, params, result), params)
    possible = params.block_pairs["scheme_id"].nunique()
    if not schemes_short(accounts):
        return FirstStage(with_cover_at_least(scenario, possible), accounts, result, kept=possible)
    kept, counted = most_schemes_kept(data, scenario, log_file, progress)
    if kept is None:
        return FirstStage(result=counted, reasons=[
            "With cover paid from pooled budgets no plan was found even with schemes free to "
            f"lose their cover ({counted.describe()})."])
    return FirstStage(with_cover_at_least(scenario, kept), accounts, result, kept=kept,
                      proven=counted.status == "optimal")


def keep_cover_everywhere(scenario: Scenario) -> Scenario:
    """Step 1's scenario: cover at every scheme, paid by the council."""
    policy = scenario.policy.model_copy(
        update={"cover_funding": "council", "schemes_without_cover": (),
                "require_24h_cover": True, "min_schemes_with_cover": 0})
    return scenario.model_copy(update={"policy": policy})


def cover_optional(scenario: Scenario) -> Scenario:
    """Step 2's scenario: the model as written, but any scheme may lose its cover."""
    policy = scenario.policy.model_copy(
        update={"require_24h_cover": False, "min_schemes_with_cover": 0})
    return scenario.model_copy(update={"policy": policy})


def with_cover_at_least(scenario: Scenario, kept: int) -> Scenario:
    """Step 3's scenario: the model as written, at least ``kept`` schemes keeping cover."""
    policy = scenario.policy.model_copy(
        update={"require_24h_cover": False, "min_schemes_with_cover": kept})
    return scenario.model_copy(update={"policy": policy})


def most_schemes_kept(data: Dataset, scenario: Scenario, log_file: Path | None = None,
                      progress: Progress | None = None) -> tuple[int | None, SolveResult]:
    """K*: the most schemes whose pooled budgets can pay for their team in any plan meeting
    every other rule (None if no plan exists even with every scheme free to lose cover)."""
    optional = cover_optional(scenario)
    params = derive(data, optional)
    model = build_model(params)
    model.weekly_cost.deactivate()
    model.schemes_kept = pyo.Objective(expr=pyo.quicksum(model.award[k] for k in model.BLOCK),
                                       sense=pyo.maximize)
    result = solve_model(model, params, optional.solver, log_file=log_file, progress=progress)
    if not result.has_plan:
        return None, result
    return int(round(result.objective)), result


def pool_accounts(plan: Plan, params: Params) -> pd.DataFrame:
    """Per scheme: pooled budgets (with top-up), what residents' care draws, the on-site team's
    staff cost, and the shortfall if the pool had to pay for both."""
    schemes = params.data.schemes.set_index("scheme_id")
    pool = params.packages.groupby("scheme_id")["budget_cap"].sum()
    alloc = plan.allocations
    drawn = alloc.groupby("scheme_id")["budget_draw"].sum()
    team = plan.rota.groupby("scheme_id")["weekly_cost"].sum()
    out = pd.DataFrame({"scheme_id": schemes.index})
    out["scheme_name"] = out["scheme_id"].map(schemes["name"])
    out["flats"] = out["scheme_id"].map(schemes["flats"])
    out["pooled_budgets"] = out["scheme_id"].map(pool).fillna(0.0)
    out["care_drawn"] = out["scheme_id"].map(drawn).fillna(0.0)
    out["team_cost"] = out["scheme_id"].map(team).fillna(0.0)
    left = out["pooled_budgets"] - out["care_drawn"]
    out["left_for_cover"] = left
    out["shortfall"] = (out["team_cost"] - left).clip(lower=0.0)
    return out


def schemes_short(accounts: pd.DataFrame) -> list[str]:
    """Schemes whose pool cannot pay for their team in the council's cheapest plan (step 1):
    only these may lose cover, if no other plan saves them (step 2)."""
    return sorted(accounts.loc[accounts["shortfall"] > SHORTFALL_TOL, "scheme_id"])


def lost_cover(accounts: pd.DataFrame, plan: Plan, weeks: float) -> dict[str, float]:
    """How many schemes the plan leaves without cover, and the yearly cost of restoring it."""
    lost = ~accounts["scheme_id"].isin(set(plan.block_contracts["scheme_id"]))
    return {"schemes_without_cover": int(lost.sum()),
            "cover_restore_cost_annual": round(float(accounts.loc[lost, "shortfall"].sum())
                                               * weeks, 2)}


def cover_funding_table(accounts: pd.DataFrame, plan: Plan, params: Params) -> pd.DataFrame:
    """What the plan as written does with each scheme's cover, and what restoring it costs."""
    weeks = params.weeks_per_year
    covered = set(plan.block_contracts["scheme_id"])
    final = pool_accounts(plan, params).set_index("scheme_id")
    out = accounts[["scheme_id", "scheme_name", "flats", "pooled_budgets"]].copy()
    out["has_24h_cover"] = out["scheme_id"].isin(covered)
    out["care_drawn"] = out["scheme_id"].map(final["care_drawn"])
    out["team_cost"] = out["scheme_id"].map(final["team_cost"])
    out["team_cost_if_kept"] = accounts["team_cost"].to_numpy()
    out["restore_cost_weekly"] = accounts["shortfall"].where(~out["has_24h_cover"], 0.0).round(2)
    out["restore_cost_annual"] = out["restore_cost_weekly"] * weeks  # the written weekly figure
    out["finding"] = [
        _finding(row) for row in out.assign(left=accounts["left_for_cover"].to_numpy())
        .itertuples()
    ]
    money = ["pooled_budgets", "care_drawn", "team_cost", "team_cost_if_kept",
             "restore_cost_weekly", "restore_cost_annual"]
    out[money] = out[money].round(2)
    return out


def _finding(row) -> str:
    if row.has_24h_cover:
        return (f"keeps 24-hour cover: the pool (GBP {row.pooled_budgets:,.2f} a week) pays for "
                f"residents' care and the on-site team")
    return (f"loses 24-hour cover: after residents' own care the pool has GBP "
            f"{max(row.left, 0.0):,.2f} a week left, but an on-site team costs GBP "
            f"{row.team_cost_if_kept:,.2f}; restoring cover costs the council GBP "
            f"{row.restore_cost_weekly:,.2f} a week (GBP {row.restore_cost_annual:,.0f} a year)")


def restore_summary(table: pd.DataFrame) -> str:
    """One paragraph for the terminal and the comparison."""
    lost = table[~table["has_24h_cover"]]
    if lost.empty:
        return "Every scheme's pooled budgets pay for its 24-hour cover."
    names = ", ".join(f"{r.scheme_name} ({r.scheme_id})" for r in lost.itertuples())
    return (f"{len(lost)} of {len(table)} schemes lose 24-hour cover because their residents' "
            f"pooled budgets cannot pay for an on-site team: {names}. Restoring it costs the "
            f"council GBP {lost['restore_cost_annual'].sum():,.0f} a year on top of the budgets.")
