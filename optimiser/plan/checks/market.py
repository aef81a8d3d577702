"""Rule families 7-8: provider capacity, market share, framework admission and rank order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.plan.checks.choice import _allowed_within_cap
from optimiser.plan.checks.context import (
    BANDS,
    SHARE_TOL,
    TOL,
    Context,
    _known_alloc,
    _pct,
    rating_points,
    route_prices,
)
from optimiser.plan.checks.cover import cover_table

# --------------------------------------------------------------------------- 7-8. market


def provider_hours(ctx: Context) -> pd.Series:
    """Hours each provider supplies: block staff-hours plus paid package hours (framework
    hours include paid travel); direct payments are not a provider's hours."""
    rota = ctx.tables["rota"]
    block = (rota["staff"] * rota["hours"]).groupby(rota["provider_id"]).sum()
    a = _known_alloc(ctx)
    a = a[a["route_kind"].isin(["spot", "framework"])]
    paid = (a["share"] * a["paid_hours"]).groupby(a["provider_id"]).sum()
    return block.add(paid, fill_value=0.0)


def commissioned_hours(ctx: Context) -> pd.Series:
    """Hours commissioned from each provider, by need (docs/model.md, commissioned hours): for
    each scheme it holds, the cover hours (every slot's minimum staff, or reserve plus check
    visits if more) and the contact hours of the care under its block; for packages bought by
    the hour, their paid hours. Rota staff beyond need are not commissioned hours."""
    grid = cover_table(ctx)
    grid = grid[grid["scheme_id"].isin(ctx.holders)]
    need = np.maximum(grid["min_staff"], grid["reserve"] + grid["check_visits"])
    cover = (need * ctx.week.slot_minutes / 60).groupby(grid["scheme_id"]).sum()
    a = _known_alloc(ctx)
    block = a[a["route_kind"] == "block"]
    contact = (block["share"] * block["staff_hours"]).groupby(block["scheme_id"]).sum()
    per_scheme = cover.add(contact, fill_value=0.0)
    held = per_scheme.groupby(per_scheme.index.map(ctx.holders)).sum()
    hourly = a[a["route_kind"].isin(["spot", "framework"])]
    paid = (hourly["share"] * hourly["paid_hours"]).groupby(hourly["provider_id"]).sum()
    return held.add(paid, fill_value=0.0)


def check_capacity(ctx: Context) -> list[str]:
    """No provider above its weekly capacity (hours supplied, rota included), nor above the
    market-share cap (hours commissioned, by need)."""
    hours = provider_hours(ctx)
    cap = ctx.providers["weekly_capacity_hours"]
    out = []
    for pid, h in hours.items():
        if pid in cap.index and h > cap[pid] + TOL:
            out.append(f"capacity: {ctx.provider(pid)} supplies {h:.2f} hours a week, above its "
                       f"capacity of {cap[pid]:.2f}")
    share = ctx.policy.max_provider_share
    if share < 1:
        hours = commissioned_hours(ctx)
        total = float(hours.sum())
        for pid, h in hours.items():
            if h > share * total + TOL:
                out.append(f"market share: {ctx.provider(pid)} supplies {h:.2f} of {total:.2f} "
                           f"commissioned hours ({_pct(round(h / total, 4))}), above the "
                           f"{_pct(share)} cap")
    return out


def check_framework(ctx: Context) -> list[str]:
    """Admitted providers exist, are allowed and pass the CQC floor; each zone keeps between
    the minimum and maximum number of admitted providers serving it."""
    policy, fw, out = ctx.policy, ctx.tables["framework"], []
    for pid in fw["provider_id"][fw["provider_id"].duplicated()]:
        out.append(f"framework: provider {pid} is listed twice in framework.csv")
    if len(fw) and not policy.allow_framework:
        out.append(f"framework: {len(fw)} provider(s) admitted, but the model does not allow "
                   "framework providers (allow_framework = false)")
    for pid in sorted(ctx.admitted):
        if pid not in ctx.providers.index:
            out.append(f"framework: admitted provider {pid} is not in providers.csv")
        elif not ctx.passes(pid, policy.cqc_floor):
            out.append(f"framework: admitted {ctx.provider(pid)} is rated "
                       f"{ctx.providers.at[pid, 'cqc_rating']}, below the CQC floor "
                       f"({policy.cqc_floor})")
    for zone in sorted(ctx.schemes["zone"].unique()):
        members = sorted(p for p in ctx.admitted if (p, zone) in ctx.serves)
        names = f" ({', '.join(members)})" if members else ""
        low = policy.min_framework_per_zone
        if policy.allow_framework and low and len(members) < low:
            out.append(f"framework: zone {zone} has {len(members)} admitted framework "
                       f"provider(s){names}, fewer than the minimum of {low}")
        high = policy.max_framework_per_zone
        if high is not None and len(members) > high:
            out.append(f"framework: zone {zone} has {len(members)} admitted framework "
                       f"provider(s){names}, more than the maximum of {high}")
    return out


def ranking(ctx: Context) -> pd.Series:
    """Rank of every provider passing the CQC floor (1 = best), recomputed: price = hourly
    rates weighted by the hours residents need in each band, price score 100 x cheapest / own,
    quality score 100 x (CQC points / 4 + satisfaction / 100) / 2, score = weight x price +
    (1 - weight) x quality; ties to the lower provider id."""
    policy = ctx.policy
    prov = ctx.providers[[ctx.passes(pid, policy.cqc_floor) for pid in ctx.providers.index]]
    hours = np.array([ctx.packages[f"hours_{b}"].sum() for b in BANDS], dtype=float)
    weights = hours / hours.sum() if hours.sum() else np.full(len(BANDS), 1 / len(BANDS))
    price = prov[[f"framework_rate_{b}" for b in BANDS]].to_numpy(dtype=float) @ weights
    points = prov["cqc_rating"].map(lambda rating: rating_points(rating, policy.unrated_as))
    quality = 100 * (points.to_numpy(dtype=float) / 4
                     + prov["satisfaction"].to_numpy(dtype=float) / 100) / 2
    w = policy.rank_price_weight
    score = pd.Series(w * 100 * price.min() / price + (1 - w) * quality, index=prov.index)
    order = sorted(score.index, key=lambda pid: (-score[pid], pid))
    return pd.Series(np.arange(1, len(order) + 1), index=order)


def _passed_over(ctx: Context, rank: pd.Series) -> list[str]:
    """Admission follows the ranking: no admitted provider has a better-ranked provider
    serving one of its zones left off the framework."""
    zones = {f: {z for g, z in ctx.serves if g == f} for f in rank.index}
    out = []
    for f in sorted(ctx.admitted & set(rank.index)):
        above = [g for g in rank.index if rank[g] < rank[f] and g not in ctx.admitted
                 and zones[g] & zones[f]]
        if above:
            out.append(f"rank order: {ctx.provider(f)} (rank {rank[f]}) is admitted, but "
                       f"better-ranked {', '.join(above)} serving the same zone are not")
    return out


def check_rank_order(ctx: Context) -> list[str]:
    """Essex (seed 004): a package goes to a lower-ranked framework provider only if every
    better-ranked admitted provider that could take it (serves the zone, within the budget cap)
    is full for it: its spare capacity is below the paid hours of this resident's package. A
    resident's own named provider is exempt."""
    policy = ctx.policy
    if not (policy.call_off_in_rank_order and policy.allow_framework):
        return []
    rank = ranking(ctx)
    pk = ctx.packages
    candidates = pd.DataFrame([(r, f) for r, zone in pk["zone"].items() for f in rank.index
                               if (f, zone) in ctx.serves],
                              columns=["resident_id", "provider_id"])
    candidates["route_kind"] = "framework"
    candidates = candidates[_allowed_within_cap(ctx, candidates)]
    paid = route_prices(candidates, pk, ctx.providers, ctx.costs, policy)["paid_hours"]
    hours, cap = provider_hours(ctx), ctx.providers["weekly_capacity_hours"]
    room = {(r, f): hours.get(f, 0.0) < cap[f] - package - TOL for r, f, package in zip(
        candidates["resident_id"], candidates["provider_id"], paid, strict=True)}
    a = _known_alloc(ctx)
    a = a[(a["route_kind"] == "framework") & (a["share"] > SHARE_TOL)]
    out = _passed_over(ctx, rank)
    for row in a.itertuples():
        if row.provider_id == pk.at[row.resident_id, "preferred_provider"]:
            continue
        skipped = [f for f in rank.index if rank[f] < rank.get(row.provider_id, 0)
                   and f in ctx.admitted and room.get((row.resident_id, f), False)]
        if skipped:
            out.append(f"rank order: resident {row.resident_id} is called off to "
                       f"{ctx.provider(row.provider_id)} (rank {rank.get(row.provider_id)}), but "
                       f"better-ranked admitted {', '.join(skipped)} could take the package and "
                       "are not full")
    return out


