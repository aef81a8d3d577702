"""Rule family 11: every cost line re-derived from the input tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.plan.checks.context import BANDS, MONEY_TOL, Context, _known_alloc, gbp

# --------------------------------------------------------------------------- 11. costs


def cost_table(ctx: Context) -> dict[str, float]:
    """Every weekly cost line recomputed from the plan's decisions and the input rates."""
    costs, weeks = ctx.costs, ctx.costs["weeks_per_year"]
    a = _known_alloc(ctx)
    by_kind = (a["share"] * a["price"]).groupby(a["route_kind"]).sum()
    known = sorted(p for p in ctx.admitted if p in ctx.providers.index)
    fw = ctx.providers.loc[known]
    fixed = (fw["framework_admission_cost"] / (costs["framework_term_years"] * weeks)
             + fw["framework_monitoring_cost"] * ctx.policy.framework_monitoring_factor
             / weeks).sum()
    rows = ctx.alloc[ctx.alloc["provider_id"].notna()]
    active = set(zip(rows["scheme_id"], rows["provider_id"], strict=True)) | set(
        ctx.holders.items())
    return {
        "onsite_staff": float(rota_costs(ctx).sum()),
        "block_management": len(ctx.tables["block_contracts"])
        * costs["block_contract_management_per_year"] / weeks,
        "onsite_spot": float(by_kind.get("spot", 0.0)),
        "framework_care": float(by_kind.get("framework", 0.0)),
        "framework_fixed": float(fixed),
        "direct_payments": float(by_kind.get("direct", 0.0)),
        "coordination": len(active) * costs["coordination_per_provider_scheme_per_week"],
        "cash_allocations": ctx.policy.cash_allocation_share
        * float(ctx.packages["weekly_budget"].sum()),
    }


def rota_costs(ctx: Context) -> pd.Series:
    """Weekly cost of each rota row: staff x the block rate of each covered slot's band."""
    cells = ctx.rota_slots
    band = ctx.bands[cells["slot"].to_numpy()]
    rates = ctx.providers.reindex(cells["provider_id"])
    rate = np.select([band == b for b in BANDS],
                     [rates[f"block_rate_{b}"].to_numpy(dtype=float) for b in BANDS], np.nan)
    cost = cells["staff"].to_numpy() * rate * ctx.week.slot_minutes / 60
    return pd.Series(cost, index=cells.index).groupby(cells["row"].to_numpy()).sum(min_count=1)


def check_costs(ctx: Context) -> list[str]:
    """cost_lines.csv, rota.csv weekly_cost and run.json's objective match the rates."""
    mine = cost_table(ctx)
    weeks = ctx.costs["weeks_per_year"]
    lines = ctx.tables["cost_lines"].drop_duplicates("line").set_index("line")
    out = _rota_row_costs(ctx)
    for line, value in mine.items():
        out += _line_problems(line, value, lines, weeks)
    total = sum(round(v, 2) for v in mine.values())
    out += _line_problems("total", total, lines, weeks)
    objective = ctx.record.get("objective_weekly_gbp")
    exact = sum(mine.values())
    if not isinstance(objective, int | float):
        out.append("cost: run.json records no objective_weekly_gbp")
    elif abs(objective - exact) > MONEY_TOL + 1e-6 * abs(exact):
        out.append(f"cost: run.json gives the solver's objective as {gbp(objective)} a week, but "
                   f"the plan's recomputed cost is {gbp(exact)}")
    return out


def _line_problems(line: str, value: float, lines: pd.DataFrame, weeks: float) -> list[str]:
    if line not in lines.index:
        return [f"cost: cost_lines.csv has no line '{line}' (recomputed {gbp(value)} a week)"]
    out = []
    written = lines.at[line, "weekly_gbp"]
    if abs(written - value) > MONEY_TOL + 1e-9:
        out.append(f"cost: line {line} is {gbp(written)} a week in cost_lines.csv, but the "
                   f"rates give {gbp(value)}")
    # The annual figure is the written weekly one times the weeks (the weekly one is checked
    # against the rates above): tying it to the recomputed weekly figure instead would let a
    # penny's rounding of the week grow to half a pound over the year.
    annual = lines.at[line, "annual_gbp"]
    if abs(annual - written * weeks) > MONEY_TOL:
        out.append(f"cost: line {line} is {gbp(annual)} a year in cost_lines.csv, but "
                   f"{gbp(written)} a week x {weeks:g} weeks is {gbp(written * weeks)}")
    return out


def _rota_row_costs(ctx: Context) -> list[str]:
    rota = ctx.tables["rota"]
    recomputed = rota_costs(ctx).reindex(rota.index)
    bad = recomputed.notna() & ((rota["weekly_cost"] - recomputed).abs() > MONEY_TOL)
    rows = rota[bad].assign(rates=recomputed[bad])
    return [f"cost: rota row {row.Index + 2} ({row.scheme_id}, {row.provider_id}, {row.day} "
            f"{row.start}, {row.hours:g} h x {row.staff:g} staff) costs {gbp(row.weekly_cost)} "
            f"in rota.csv, but the block rates give {gbp(row.rates)}" for row in rows.itertuples()]


