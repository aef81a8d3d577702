"""Rule families 9-10: choice (preferences, providers per zone) and quality floors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimiser.plan.checks.context import SHARE_TOL, TOL, Context, _known_alloc, _pct, route_prices

# --------------------------------------------------------------------------- 9-10. choice, quality


def _allowed_within_cap(ctx: Context, routes: pd.DataFrame) -> np.ndarray:
    """Under individual budgets without splits a route above budget plus top-up is not allowed."""
    if not ctx.budget_filter or routes.empty:
        return np.ones(len(routes), dtype=bool)
    draw = route_prices(routes, ctx.packages, ctx.providers, ctx.costs, ctx.policy)["draw"]
    cap = ctx.packages["cap"].reindex(routes["resident_id"]).to_numpy()
    return draw.to_numpy() <= cap + TOL


def _affordable(ctx: Context, routes: pd.DataFrame) -> np.ndarray:
    """Under individual budgets a preference counts only where the preferred provider's route
    draws no more than budget plus top-up, with or without splits (a split package may still
    use a dearer route in part, but that part does not honour a preference)."""
    if ctx.policy.budget_rule != "individual" or routes.empty:
        return np.ones(len(routes), dtype=bool)
    draw = routes["draw"] if "draw" in routes else route_prices(
        routes, ctx.packages, ctx.providers, ctx.costs, ctx.policy)["draw"]
    cap = ctx.packages["cap"].reindex(routes["resident_id"]).to_numpy()
    return draw.to_numpy(dtype=float) <= cap + TOL


def direct_payment_choices(ctx: Context) -> pd.Index:
    """Residents who asked for a direct payment and may have one (the policy allows it and,
    where budgets rule routes out beforehand, the payment fits budget plus top-up)."""
    if ctx.policy.direct_payments == "never":
        return pd.Index([], name="resident_id")
    pk = ctx.packages
    ask = pk.index[pk["wants_direct_payment"].to_numpy(dtype=bool)]
    routes = pd.DataFrame({"resident_id": ask, "route_kind": "direct", "provider_id": np.nan})
    return ask[_allowed_within_cap(ctx, routes)]


def preference_table(ctx: Context) -> pd.DataFrame:
    """Residents with a stated (weak or strong) preference: is it eligible, how much honoured.

    Eligible, as in the model: care under the block if the provider could hold the scheme's
    block, or a spot or framework route with the provider open to the resident (on-site
    provider; zone served and CQC floor) that is affordable under individual budgets. A
    resident granted the direct payment they asked for chooses their own carers, so their
    preference is not counted as one the council must honour. Honoured: the share under the
    block while the provider holds it plus the shares on affordable routes with it."""
    pk, policy = ctx.packages, ctx.policy
    pref = pk[pk["preference_strength"].isin(["weak", "strong"]) & pk["preferred_provider"].notna()]
    pref = pref[["scheme_id", "preferred_provider", "preference_strength", "zone"]].reset_index()
    pairs = list(zip(pref["preferred_provider"], pref["zone"], strict=True))
    onsite = np.array([ctx.can_hold_block(k, z) for k, z in pairs], dtype=bool) & ~pref[
        "scheme_id"].isin(ctx.policy.schemes_without_cover).to_numpy()
    framed = np.array([ctx.can_frame(k, z) for k, z in pairs], dtype=bool)

    def within_cap(kind: str) -> np.ndarray:
        routes = pd.DataFrame({"resident_id": pref["resident_id"], "route_kind": kind,
                               "provider_id": pref["preferred_provider"]})
        return _affordable(ctx, routes)

    pref["onsite_ok"] = (policy.allow_block_care & onsite) | (
        policy.allow_onsite_spot & onsite & within_cap("spot"))
    pref["framework_ok"] = policy.allow_framework & framed & within_cap("framework")
    pref["holds_block"] = pref["scheme_id"].map(ctx.holders) == pref["preferred_provider"]
    pref["eligible"] = (pref["onsite_ok"] | pref["framework_ok"]) & ~pref["resident_id"].isin(
        direct_payment_choices(ctx))
    a = ctx.alloc
    mine = a[(a["provider_id"] == a["resident_id"].map(pk["preferred_provider"]))
             & ((a["route_kind"] == "block") | _affordable(ctx, a))]
    honoured = mine.groupby("resident_id")["share"].sum()
    pref["honoured"] = pref["resident_id"].map(honoured).fillna(0.0)
    return pref


def check_choice(ctx: Context) -> list[str]:
    """Strong eligible preferences honoured, the minimum share of eligible preferences honoured,
    and direct payments granted to those who ask where they are allowed.

    A strong preference binds whenever the provider can deliver the care: always if it could be
    called off the framework for the resident, and, if it could only serve on site, whenever it
    holds the scheme's block contract (a resident's wish does not award a block contract)."""
    policy, out = ctx.policy, []
    pref = preference_table(ctx)
    eligible = pref[pref["eligible"]]
    if policy.honour_strong_preferences:
        binding = eligible["framework_ok"] | (eligible["onsite_ok"] & eligible["holds_block"])
        strong = eligible[binding & (eligible["preference_strength"] == "strong")
                          & (eligible["honoured"] < 1 - SHARE_TOL)]
        for row in strong.itertuples():
            out.append(f"choice: resident {row.resident_id} strongly prefers "
                       f"{ctx.provider(row.preferred_provider)}, an eligible provider, but only "
                       f"{row.honoured:g} of the package is with it")
    need = math.ceil(policy.min_preference_share * len(eligible) - 1e-9)
    got = float(eligible["honoured"].sum())
    if policy.min_preference_share > 0 and got < need - SHARE_TOL:
        out.append(f"choice: {got:g} of {len(eligible)} eligible stated preferences honoured; the "
                   f"model requires at least {need} ({_pct(policy.min_preference_share)})")
    return out + _direct_requests(ctx)


def _direct_requests(ctx: Context) -> list[str]:
    a = ctx.alloc
    got = a[a["route_kind"] == "direct"].groupby("resident_id")["share"].sum()
    return [f"choice: resident {rid} asked for a direct payment, which the model allows, but "
            f"{got.get(rid, 0.0):g} of the package is a direct payment (must be 1)"
            for rid in direct_payment_choices(ctx) if got.get(rid, 0.0) < 1 - SHARE_TOL]


def check_quality(ctx: Context) -> list[str]:
    """Hours-weighted mean satisfaction of planned care at least the model's floor."""
    floor = ctx.policy.min_mean_satisfaction
    if floor <= 0:
        return []
    a = _known_alloc(ctx)
    sat = a["provider_id"].map(ctx.providers["satisfaction"]).where(
        a["route_kind"] != "direct", ctx.costs["direct_payment_satisfaction"]).fillna(0.0)
    weighted = float((a["share"] * a["staff_hours"] * sat).sum())
    total = float(ctx.packages["hours"].sum())
    if weighted < floor * total - TOL:
        return [f"quality: hours-weighted mean satisfaction of planned care is "
                f"{weighted / total:.2f}, below the model's floor of {floor:.2f}"]
    return []


