"""Round-the-clock cover paid from pooled personal budgets (micro-commissioning, seed 000).

With no council block, a scheme keeps its on-site team only if its residents' pooled budgets
pay for it out of what is left after their own care. Which schemes that is depends on the
plan, so the model is solved in two stages:

1. The cheapest plan that keeps cover at every scheme, with the pools set aside (the council
   pays the teams). For each scheme this measures the pool, what the residents' own care
   draws on it, and what the team costs; where care plus team exceed the pool, the shortfall
   is what the council would have to add each week to restore the scheme's cover.
2. The model as written: schemes whose pool fell short get no on-site team
   (``schemes_without_cover``); every other scheme's team is paid from its pool
   (``pooled_budgets_pay_for_cover``).

``cover_funding.csv`` reports both stages side by side, in the commissioner's words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

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
    """Stage 1's answer: the scenario to solve as written, and each scheme's pool account;
    or, if even keeping cover everywhere has no plan, why (reasons) and the solver's result."""

    scenario: Scenario | None = None
    accounts: pd.DataFrame | None = None
    result: SolveResult | None = None
    reasons: list[str] = field(default_factory=list)


def first_stage(data: Dataset, scenario: Scenario, log_file: Path | None = None,
                progress: Progress | None = None) -> FirstStage:
    """Solve stage 1 and decide which schemes lose their cover. Raises StaticInfeasibility
    (from derive) when a rule cannot be met whatever the plan."""
    first = keep_cover_everywhere(scenario)
    params = derive(data, first)
    model = build_model(params)
    result = solve_model(model, params, first.solver, log_file=log_file, progress=progress)
    if not result.has_plan:
        return FirstStage(result=result, reasons=[
            "Even with the council paying every on-site team, no plan was found "
            f"({result.describe()}), so what pooled budgets could pay cannot be measured."])
    accounts = pool_accounts(extract_plan(model, params, result), params)
    return FirstStage(without_cover_at(scenario, schemes_short(accounts)), accounts, result)


def keep_cover_everywhere(scenario: Scenario) -> Scenario:
    """Stage 1's scenario: cover at every scheme, paid by the council."""
    policy = scenario.policy.model_copy(
        update={"cover_funding": "council", "schemes_without_cover": (),
                "require_24h_cover": True})
    return scenario.model_copy(update={"policy": policy})


def without_cover_at(scenario: Scenario, schemes: list[str]) -> Scenario:
    """Stage 2's scenario: the model as written, with no on-site team where the pool fell short."""
    barred = tuple(sorted(set(scenario.policy.schemes_without_cover) | set(schemes)))
    policy = scenario.policy.model_copy(update={"schemes_without_cover": barred})
    return scenario.model_copy(update={"policy": policy})


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
    """Schemes whose pool cannot pay for their team: they lose 24-hour cover in stage 2."""
    return sorted(accounts.loc[accounts["shortfall"] > SHORTFALL_TOL, "scheme_id"])


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
    out["restore_cost_weekly"] = accounts["shortfall"].where(~out["has_24h_cover"], 0.0)
    out["restore_cost_annual"] = out["restore_cost_weekly"] * weeks
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
