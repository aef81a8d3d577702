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

COLUMNS = ["change", "where", "method", "status", "proven", "weekly_gbp", "annual_gbp",
           "weekly_gbp_low", "weekly_gbp_high", "note"]
FOLDER_PREFIX = "marginal-"  # results/marginal-<model>/: a later solve of <model> keeps it
UNPROVEN = ("unproven: a solve stopped before proving its plan optimal; the true change lies "
            "between weekly_gbp_low and weekly_gbp_high (give a longer --time-limit)")


@dataclasses.dataclass(frozen=True)
class Change:
    """One step of one rule, applied to the data and/or the model file."""

    change: str
    where: str
    apply: Callable[[Dataset, Scenario], tuple[Dataset, Scenario]]


@dataclasses.dataclass(frozen=True)
class Solved:
    """One solve: its status, the best plan's weekly cost and the proven lower bound."""

    status: str
    cost: float | None = None
    bound: float | None = None
    params: Params | None = None
    plan: Plan | None = None

    @property
    def proven(self) -> bool:
        """HiGHS proved the plan optimal (within the model's requested gap)."""
        return self.status == "optimal"

    @property
    def floor(self) -> float:
        """The most the optimum can be below the plan found: its proven bound."""
        if self.proven and self.bound is None:
            return float(self.cost)
        return float(self.bound) if self.bound is not None else -math.inf


def _solve(data: Dataset, scenario: Scenario) -> Solved:
    try:
        params = derive(data, scenario)
    except StaticInfeasibility:
        return Solved("infeasible")
    model = build_model(params)
    result = solve_model(model, params, scenario.solver)
    if not result.has_plan:
        return Solved(result.status, params=params)
    return Solved(result.status, result.objective, result.bound, params,
                  extract_plan(model, params, result))


def change_range(base: Solved, new: Solved) -> tuple[float, float, float]:
    """Estimate, lowest and highest weekly change in the optimal cost when a rule tightens.

    Every plan meeting the stricter rule also meets the base rules, so the base optimum is at
    most the stricter plan's cost: the base's best known cost is the lower of the two, and the
    change is never below 0. The true change lies between the stricter solve's bound less that
    best base cost, and the stricter plan's cost less the base's bound (both proven: equal
    within the requested gaps)."""
    best_base = min(float(base.cost), float(new.cost))
    estimate = float(new.cost) - best_base
    low = max(0.0, new.floor - best_base)
    high = max(estimate, float(new.cost) - base.floor)
    return estimate, min(low, estimate), high


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
    base = _solve(data, scenario)
    if base.cost is None or base.params is None or base.plan is None:
        raise ValueError(f"the base model has no plan ({base.status}); nothing to compare "
                         "against")
    params = base.params
    rows = [rate_sensitivities(params, base.plan).assign(proven=base.proven)]
    weeks = params.weeks_per_year
    for change in rule_changes(params):
        if progress:
            progress(f"{change.change} ({change.where})")
        new = _solve(*change.apply(data, scenario))
        row = {"change": change.change, "where": change.where, "method": "re-solve",
               "status": new.status, "proven": False, "note": ""}
        if new.cost is None:
            row["note"] = "no plan meets the rules after this change" if new.status in (
                "infeasible",) else f"no plan found ({new.status})"
            row["proven"] = new.status == "infeasible"
        else:
            estimate, low, high = change_range(base, new)
            row.update(weekly_gbp=estimate, weekly_gbp_low=low, weekly_gbp_high=high,
                       proven=base.proven and new.proven)
            if not row["proven"]:
                row["note"] = UNPROVEN
        rows.append(pd.DataFrame([row]))
    table = pd.concat(rows, ignore_index=True).reindex(columns=COLUMNS)
    table["annual_gbp"] = table["weekly_gbp"] * weeks
    for col in ("weekly_gbp", "annual_gbp", "weekly_gbp_low", "weekly_gbp_high"):
        table[col] = table[col].astype(float).round(2)
    table["proven"] = table["proven"].map({True: "yes", False: "no"})
    return table[COLUMNS], summarise(table, base.cost * weeks, weeks)


def solves_needed(scenario: Scenario) -> int:
    """How many solves a run makes: the base plan, one per scheme (a night member of staff),
    and at most three more (CQC floor, one more preference, one more framework provider)."""
    return 1 + len(load_dataset(scenario.dataset).schemes) + 3


def summarise(table: pd.DataFrame, base_annual: float, weeks: float = 52.143) -> list[str]:
    """The largest effects in words; a re-solve not proven optimal is said to be unproven, with
    the range the true change lies in."""
    lines = [f"Base plan: GBP {base_annual:,.0f} a year."]
    solved = table[table["method"] == "re-solve"]
    for row in solved.sort_values("annual_gbp", ascending=False, na_position="last").itertuples():
        if row.weekly_gbp is None or pd.isna(row.weekly_gbp):
            lines.append(f"{row.change} ({row.where}): {row.note or 'no plan'}.")
        elif row.proven == "yes":
            lines.append(f"{row.change} ({row.where}): GBP {row.annual_gbp:+,.0f} a year.")
        else:
            high = row.weekly_gbp_high * weeks
            upper = f"GBP {high:+,.0f}" if math.isfinite(high) else "an unknown amount"
            lines.append(f"{row.change} ({row.where}): GBP {row.annual_gbp:+,.0f} a year, "
                         f"UNPROVEN (a solve hit its time limit): between GBP "
                         f"{row.weekly_gbp_low * weeks:+,.0f} and {upper}.")
    rates = table[table["method"] == "rate x hours"].nlargest(3, "annual_gbp")
    for row in rates.itertuples():
        lines.append(f"{row.change} for {row.where}: GBP {row.annual_gbp:+,.0f} a year.")
    return lines


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write atomically so a half-written table never exists."""
    atomic_write(path, lambda temp: write_csv(table, temp))
