"""What each rule costs: the change in the optimal weekly cost when one rule moves one step.

Two methods, each labelled in the output:
- *rate x hours*: the cost of GBP 1 an hour more on one of a provider's rates is the hours the
  optimal plan buys at that rate (the envelope theorem: exact for a small change, while the
  plan stays optimal);
- *re-solve*: for rules whose effect is not marginal (one more waking-night member of staff,
  a higher CQC floor, one more preference honoured, one more framework provider per zone) the
  model is solved again with the rule moved and the optimal costs compared. Duals of the LP
  with the integer decisions fixed would mislead here: with the rota fixed, one more night
  member of staff has no price at all.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from optimiser.inputs.config import CQC_POINTS, Scenario
from optimiser.inputs.load import Dataset, load_dataset
from optimiser.inputs.params import BANDS, Params, StaticInfeasibility, derive
from optimiser.model.build import build_model
from optimiser.plan.files import atomic_write, write_csv
from optimiser.plan.tables import Plan, extract_plan
from optimiser.solving.decompose import solve_model

COLUMNS = ["change", "where", "method", "status", "weekly_gbp", "annual_gbp", "note"]


@dataclasses.dataclass(frozen=True)
class Change:
    """One step of one rule, applied to the data and/or the model file."""

    change: str
    where: str
    apply: Callable[[Dataset, Scenario], tuple[Dataset, Scenario]]


def _solve(data: Dataset, scenario: Scenario) -> tuple[str, float | None, Params | None, Plan]:
    try:
        params = derive(data, scenario)
    except StaticInfeasibility:
        return "infeasible", None, None, None
    model = build_model(params)
    result = solve_model(model, params, scenario.solver)
    if not result.has_plan:
        return result.status, None, params, None
    return result.status, result.objective, params, extract_plan(model, params, result)


def rate_sensitivities(params: Params, plan: Plan) -> pd.DataFrame:
    """Hours the plan buys at each provider's rate = cost of GBP 1/h more on that rate."""
    rows = []
    for block in plan.block_contracts.itertuples():
        for band in BANDS:
            rows.append((f"GBP 1/h more on the block {band} rate", block.provider_id,
                         getattr(block, f"{band}_hours"), f"at {block.scheme_id}"))
    alloc = plan.allocations[plan.allocations["route_kind"].isin(["spot", "framework"])]
    if len(alloc):
        pk = params.packages.set_index("resident_id")
        travel = params.providers.set_index("provider_id")["travel_minutes_per_visit"] / 60.0
        for band in BANDS:
            hours = alloc["resident_id"].map(pk[f"hours_{band}"])
            visits = alloc["resident_id"].map(pk[f"carer_visits_{band}"])
            paid = hours + visits * alloc["provider_id"].map(travel).where(
                alloc["route_kind"] == "framework", 0.0)
            by_provider = (paid * alloc["share"]).groupby(alloc["provider_id"]).sum()
            rows += [(f"GBP 1/h more on the hourly {band} rate", k, h, "planned visits")
                     for k, h in by_provider.items() if h > 0]
    frame = pd.DataFrame(rows, columns=["change", "where", "weekly_gbp", "note"])
    frame = frame.groupby(["change", "where"], as_index=False).agg(
        weekly_gbp=("weekly_gbp", "sum"), note=("note", lambda n: ", ".join(sorted(set(n)))))
    frame = frame[frame["weekly_gbp"] > 0]
    frame["method"] = "rate x hours"
    frame["status"] = "exact for a small change"
    return frame


def _night_staff(scheme_id: str) -> Callable[[Dataset, Scenario], tuple[Dataset, Scenario]]:
    def apply(data: Dataset, scenario: Scenario) -> tuple[Dataset, Scenario]:
        schemes = data.schemes.copy()
        row = schemes["scheme_id"] == scheme_id
        night_floor = schemes.loc[row, "night_min_staff"].where(
            schemes.loc[row, "lone_working_at_night"], schemes.loc[row, "night_min_staff"].clip(
                lower=2))
        schemes.loc[row, "night_min_staff"] = night_floor + 1
        schemes.loc[row, "lone_working_at_night"] = True  # the raised floor already has 2+
        return dataclasses.replace(data, schemes=schemes), scenario

    return apply


def _policy(**update: object) -> Callable[[Dataset, Scenario], tuple[Dataset, Scenario]]:
    def apply(data: Dataset, scenario: Scenario) -> tuple[Dataset, Scenario]:
        policy = scenario.policy.model_copy(update=update)
        return data, scenario.model_copy(update={"policy": policy})

    return apply


def rule_changes(params: Params) -> Iterator[Change]:
    """The re-solve changes worth pricing for this model and data."""
    policy = params.scenario.policy
    for row in params.data.schemes.itertuples():
        yield Change("one more waking-night member of staff every night", row.scheme_id,
                     _night_staff(row.scheme_id))
    levels = sorted(CQC_POINTS, key=CQC_POINTS.get)
    step = levels.index(policy.cqc_floor) + 1
    if step < len(levels):
        yield Change(f"CQC floor raised to {levels[step].replace('_', ' ')}", "all providers",
                     _policy(cqc_floor=levels[step]))
    stated = params.routes.loc[params.routes["preferred"], "resident_id"].nunique()
    if stated:
        honoured = math.ceil(policy.min_preference_share * stated - 1e-9)
        if honoured < stated:
            yield Change("one more stated preference honoured", f"{honoured + 1} of {stated}",
                         _policy(min_preference_share=(honoured + 1) / stated))
    if policy.allow_framework:
        yield Change("one more framework provider per zone",
                     f"at least {policy.min_framework_per_zone + 1} per zone",
                     _policy(min_framework_per_zone=policy.min_framework_per_zone + 1))


def marginal_costs(scenario: Scenario, progress: Callable[[str], None] | None = None
                   ) -> tuple[pd.DataFrame, list[str]]:
    """The marginal-cost table and its plain-English summary."""
    data = load_dataset(scenario.dataset)
    status, base, params, plan = _solve(data, scenario)
    if base is None or params is None or plan is None:
        raise ValueError(f"the base model has no plan ({status}); nothing to compare against")
    rows = [rate_sensitivities(params, plan)]
    weeks = params.weeks_per_year
    for change in rule_changes(params):
        if progress:
            progress(f"{change.change} ({change.where})")
        new_data, new_scenario = change.apply(data, scenario)
        new_status, cost, _, _ = _solve(new_data, new_scenario)
        delta = None if cost is None else cost - base
        note = "" if cost is not None else "no plan meets the rules after this change"
        rows.append(pd.DataFrame([{"change": change.change, "where": change.where,
                                   "method": "re-solve", "status": new_status,
                                   "weekly_gbp": delta, "note": note}]))
    table = pd.concat(rows, ignore_index=True)
    table["annual_gbp"] = table["weekly_gbp"] * weeks
    table["weekly_gbp"] = table["weekly_gbp"].round(2)
    table["annual_gbp"] = table["annual_gbp"].round(2)
    return table[COLUMNS], summarise(table, base * weeks)


def summarise(table: pd.DataFrame, base_annual: float) -> list[str]:
    """The largest effects in words."""
    lines = [f"Base plan: GBP {base_annual:,.0f} a year."]
    solved = table[table["method"] == "re-solve"]
    for row in solved.sort_values("annual_gbp", ascending=False, na_position="last").itertuples():
        if row.weekly_gbp is None or pd.isna(row.weekly_gbp):
            lines.append(f"{row.change} ({row.where}): no plan could meet the rules.")
        else:
            lines.append(f"{row.change} ({row.where}): GBP {row.annual_gbp:+,.0f} a year.")
    rates = table[table["method"] == "rate x hours"].nlargest(3, "annual_gbp")
    for row in rates.itertuples():
        lines.append(f"{row.change} for {row.where}: GBP {row.annual_gbp:+,.0f} a year.")
    return lines


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write atomically so a half-written table never exists."""
    atomic_write(path, lambda temp: write_csv(table, temp))
