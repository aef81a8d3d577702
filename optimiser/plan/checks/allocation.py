"""Rule families 3-4: every resident's care allocated, on routes they may use."""

from __future__ import annotations

import pandas as pd

from optimiser.plan.checks.context import ROUTE_KINDS, SHARE_TOL, Context, _route

# --------------------------------------------------------------------------- 3-4. allocation


def check_allocation(ctx: Context) -> list[str]:
    """Every resident with care has routes whose shares sum to 1 (one route of share 1 without
    splits), and nobody else appears: every visit is delivered exactly once."""
    a, pk, out = ctx.alloc, ctx.packages, []
    residents = ctx.data.residents.set_index("resident_id")
    for rid in a["resident_id"][~a["resident_id"].isin(pk.index)].unique():
        why = "not in residents.csv" if rid not in residents.index else \
            "has no care package (needs band none)"
        out.append(f"allocation: resident {rid} appears in allocations.csv but {why}")
    shares = a.groupby("resident_id")["share"].sum()
    for rid in pk.index.difference(shares.index):
        out.append(f"allocation: resident {rid} at {ctx.scheme(pk.at[rid, 'scheme_id'])} has "
                   f"no allocation for {pk.at[rid, 'hours']:.2f} staff-hours of care a week; "
                   "every visit must be delivered")
    for rid, total in shares[shares.index.isin(pk.index)].items():
        if abs(total - 1) > SHARE_TOL:
            out.append(f"allocation: resident {rid}'s shares sum to {total:.6g}, not 1 (every "
                       "visit must be delivered exactly once)")
    for row in a[(a["share"] <= 0) | (a["share"] > 1 + SHARE_TOL)].itertuples():
        out.append(f"allocation: resident {row.resident_id}, {_route(row)}: share "
                   f"{row.share:g} is outside (0, 1]")
    if not ctx.policy.allow_splits:
        counts = a.groupby("resident_id").size()
        for rid, n in counts[counts > 1].items():
            out.append(f"allocation: resident {rid} has {n} routes, but the model does not "
                       "allow splitting a package (allow_splits = false)")
    dup = a[a.duplicated(["resident_id", "route_kind", "provider_id"], keep="first")]
    for row in dup.itertuples():
        out.append(f"allocation: resident {row.resident_id} has the {_route(row)} twice")
    home = a["resident_id"].map(residents["scheme_id"])
    for row in a[home.notna() & (home != a["scheme_id"])].itertuples():
        out.append(f"allocation: resident {row.resident_id} lives in scheme "
                   f"{residents.at[row.resident_id, 'scheme_id']}, but allocations.csv gives "
                   f"scheme {row.scheme_id}")
    return out


def check_routes(ctx: Context) -> list[str]:
    """Each allocation row uses a route the model allows for that resident and provider."""
    a = ctx.alloc[ctx.alloc["resident_id"].isin(ctx.packages.index)]
    a = a.assign(home=a["resident_id"].map(ctx.packages["scheme_id"]),
                 zone=a["resident_id"].map(ctx.packages["zone"]),
                 asked=a["resident_id"].map(ctx.packages["wants_direct_payment"]))
    out = []
    for row in a.itertuples():
        fault = _route_fault(ctx, row)
        if fault:
            out.append(f"route: resident {row.resident_id}, {_route(row)}: {fault}")
    return out


def _route_fault(ctx: Context, row) -> str | None:
    """Why an allocation row's route is not allowed (None if it is)."""
    policy, kind, pid, sid, zone = ctx.policy, row.route_kind, row.provider_id, row.home, row.zone
    if kind not in ROUTE_KINDS:
        return f"route kind '{kind}' is not one of {', '.join(ROUTE_KINDS)}"
    if kind == "direct":
        if policy.direct_payments == "never":
            return "the model allows no direct payments (direct_payments = never)"
        if policy.direct_payments == "on_request" and not row.asked:
            return "the resident has not asked for a direct payment (direct_payments = on_request)"
        return None if pd.isna(pid) else f"a direct payment names provider {pid}; it should not"
    if pd.isna(pid) or pid not in ctx.providers.index:
        return f"provider {pid} is not in providers.csv"
    if kind in ("block", "spot"):
        allowed = policy.allow_block_care if kind == "block" else policy.allow_onsite_spot
        if not allowed:
            switch = "allow_block_care" if kind == "block" else "allow_onsite_spot"
            return f"the model does not allow this route ({switch} = false)"
        holder = ctx.holders.get(sid)
        if pid != holder:
            held = f"held by {holder}" if holder is not None else "not awarded"
            return f"{pid} does not hold the block contract at {ctx.scheme(sid)} ({held})"
        return None
    if not policy.allow_framework:
        return "the model does not allow framework providers (allow_framework = false)"
    if pid not in ctx.admitted:
        return f"{ctx.provider(pid)} is not admitted to the framework (framework.csv)"
    if (pid, zone) not in ctx.serves:
        return f"{ctx.provider(pid)} does not serve zone {zone}"
    if not ctx.passes(pid, policy.cqc_floor):
        return f"{ctx.provider(pid)} is rated {ctx.providers.at[pid, 'cqc_rating']}, below the " \
               f"CQC floor ({policy.cqc_floor})"
    return None


