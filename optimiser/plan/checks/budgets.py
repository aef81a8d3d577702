"""Rule families 5-6: prices and personal-budget caps, and cover paid from pooled budgets."""

from __future__ import annotations

from optimiser.plan.checks.context import MONEY_TOL, TOL, Context, _known_alloc, _pct, _route, gbp
from optimiser.plan.checks.costs import rota_costs

# --------------------------------------------------------------------------- 5-6. prices, budgets


def check_prices(ctx: Context) -> list[str]:
    """allocations.csv weekly_cost and budget_draw equal share x the price recomputed from the
    provider's rates (or the direct-payment rate) and the resident's visits."""
    a = _known_alloc(ctx)
    a = a[a["provider_id"].isna() | a["provider_id"].isin(ctx.providers.index)]
    out = []
    for column, recomputed in (("weekly_cost", "price"), ("budget_draw", "draw")):
        expected = a["share"] * a[recomputed]
        for row, want in zip(a[(a[column] - expected).abs() > MONEY_TOL].itertuples(),
                             expected[(a[column] - expected).abs() > MONEY_TOL], strict=True):
            out.append(f"price: resident {row.resident_id}, {_route(row)}: {column} "
                       f"{gbp(getattr(row, column))} in allocations.csv, but the rates give "
                       f"{gbp(want)} (share {row.share:g} x {gbp(getattr(row, recomputed))})")
    return out


def check_budgets(ctx: Context) -> list[str]:
    """What packages draw on personal budgets stays within budget plus top-up, per resident
    (individual) or per scheme (pooled)."""
    rule, topup = ctx.policy.budget_rule, ctx.policy.budget_topup_share
    if rule == "none":
        return []
    a = _known_alloc(ctx)
    draw = (a["share"] * a["draw"]).groupby(a["resident_id"]).sum()
    pk = ctx.packages
    out = []
    if rule == "individual":
        over = pk.loc[draw.index, ["weekly_budget", "cap"]].assign(draw=draw)
        for row in over[over["draw"] > over["cap"] + TOL].itertuples():
            out.append(f"budget: resident {row.Index} draws {gbp(row.draw)} a week, above budget "
                       f"{gbp(row.weekly_budget)} plus {_pct(topup)} top-up ({gbp(row.cap)})")
        return out
    scheme_draw = draw.groupby(pk["scheme_id"].reindex(draw.index)).sum()
    caps = pk.groupby("scheme_id")[["weekly_budget", "cap"]].sum()
    for sid, total in scheme_draw.items():
        if total > caps.at[sid, "cap"] + TOL:
            out.append(f"budget: {ctx.scheme(sid)} packages draw {gbp(total)} a week, above the "
                       f"pooled budgets {gbp(caps.at[sid, 'weekly_budget'])} plus "
                       f"{_pct(topup)} top-up ({gbp(caps.at[sid, 'cap'])})")
    return out


def check_pooled_cover(ctx: Context) -> list[str]:
    """Micro-commissioning (seed 000): where the pooled budgets pay for the on-site team, what
    a scheme's packages draw plus its team's staff cost stays within its residents' budgets
    plus top-up."""
    if ctx.policy.cover_funding != "pooled_budgets":
        return []
    a = _known_alloc(ctx)
    draw = (a["share"] * a["draw"]).groupby(a["resident_id"].map(ctx.packages["scheme_id"])).sum()
    rota = ctx.tables["rota"]
    team = rota_costs(ctx).groupby(rota["scheme_id"]).sum()
    pool = ctx.packages.groupby("scheme_id")["cap"].sum()
    out = []
    for sid in sorted(ctx.holders):
        used = float(draw.get(sid, 0.0)) + float(team.get(sid, 0.0))
        if used > float(pool.get(sid, 0.0)) + MONEY_TOL:
            out.append(f"budget: {ctx.scheme(sid)} packages and on-site team cost {gbp(used)} a "
                       f"week, above the pooled budgets plus top-up "
                       f"({gbp(float(pool.get(sid, 0.0)))}) that must pay for both")
    return out


