"""Rule families 1: block contracts and the rota that is the contract."""

from __future__ import annotations

import pandas as pd

from optimiser.inputs.config import Shifts
from optimiser.plan.checks.context import TOL, Context, _minutes_of_week, rating_passes

# --------------------------------------------------------------------------- 1. block contracts


def check_blocks(ctx: Context) -> list[str]:
    """At most one block contract per scheme (exactly one with 24-hour cover), held by an
    eligible provider, with at least the provider's minimum viable staff-hours."""
    blocks = ctx.tables["block_contracts"]
    out = []
    for sid in blocks["scheme_id"][~blocks["scheme_id"].isin(ctx.schemes.index)]:
        out.append(f"block: block_contracts.csv names scheme {sid}, which is not in schemes.csv")
    counts = blocks.groupby("scheme_id")["provider_id"].agg(list)
    for sid, holders in counts.items():
        if len(holders) > 1:
            out.append(f"block: {ctx.scheme(sid)} has {len(holders)} block contracts "
                       f"({', '.join(map(str, holders))}); at most one is allowed")
    barred = set(ctx.policy.schemes_without_cover)
    for sid in sorted(barred & set(blocks["scheme_id"].dropna())):
        out.append(f"block: {ctx.scheme(sid)} has a block contract, but the model gives it no "
                   "on-site team (schemes_without_cover)")
    if ctx.policy.require_24h_cover:
        required = ctx.schemes.index.difference(sorted(barred))
        for sid in required.difference(blocks["scheme_id"].dropna()):
            out.append(f"block: {ctx.scheme(sid)} has no block contract, but the model requires "
                       "24-hour cover (require_24h_cover)")
    kept, least = blocks["scheme_id"].dropna().nunique(), ctx.policy.min_schemes_with_cover
    if kept < least:
        out.append(f"block: {kept} scheme(s) keep an on-site team, but the model requires at "
                   f"least {least} (min_schemes_with_cover)")
    for row in blocks.itertuples():
        if row.scheme_id in ctx.schemes.index:
            reasons = _holder_faults(ctx, row.provider_id, ctx.schemes.at[row.scheme_id, "zone"])
            if reasons:
                out.append(f"block: {ctx.scheme(row.scheme_id)} block contract is held by "
                           f"{ctx.provider(row.provider_id)}, which {' and '.join(reasons)}")
    return out + _min_block_hours(ctx)


def _holder_faults(ctx: Context, pid: object, zone: object) -> list[str]:
    """Why a provider may not hold a block contract in a zone (empty if it may)."""
    if pid not in ctx.providers.index:
        return ["is not in providers.csv"]
    p, policy, faults = ctx.providers.loc[pid], ctx.policy, []
    if not p["onsite_capable"]:
        faults.append("cannot run an on-site team")
    if (pid, zone) not in ctx.serves:
        faults.append(f"does not serve zone {zone}")
    for floor, name in ((policy.cqc_floor, "CQC floor"),
                        (policy.onsite_cqc_floor, "on-site CQC floor")):
        if not rating_passes(p["cqc_rating"], floor, policy.unrated_as):
            faults.append(f"is rated {p['cqc_rating']}, below the {name} ({floor})")
    return faults


def _min_block_hours(ctx: Context) -> list[str]:
    rota = ctx.tables["rota"]
    hours = (rota["staff"] * rota["hours"]).groupby(
        [rota["scheme_id"], rota["provider_id"]]).sum()
    out = []
    for sid, pid in ctx.holders.items():
        if pid not in ctx.providers.index:
            continue
        need = ctx.providers.at[pid, "min_block_hours"]
        have = float(hours.get((sid, pid), 0.0))
        if pd.notna(need) and have < need - TOL:
            out.append(f"block: {ctx.scheme(sid)} block contract with {ctx.provider(pid)} has "
                       f"{have:.2f} staff-hours a week, below the provider's minimum viable "
                       f"block of {need:.2f}")
    return out


def model_shifts(rules: Shifts) -> set[tuple[int, int]]:
    """The daily shifts (start hour, hours) the model file allows, read from its own fields:
    every start with every length where starts or lengths are given, else the listed patterns."""
    return set(numbered_shifts(rules))


def numbered_shifts(rules: Shifts) -> list[tuple[int, int]]:
    """The same shifts in the order the model file gives them (starts, then lengths, or the
    listed patterns), first occurrence kept: a rota row's pattern number is day x count + this
    position."""
    if rules.starts or rules.lengths:
        pairs = [(int(start), int(hours)) for start in rules.starts for hours in rules.lengths]
    else:
        pairs = [(int(start), int(hours)) for start, hours in rules.patterns]
    return list(dict.fromkeys(pairs))


def check_rota(ctx: Context) -> list[str]:
    """Rota rows only for the scheme's block holder, on the model's shift patterns, with a
    whole, non-negative number of staff."""
    rota, out = ctx.tables["rota"], []
    shifts = model_shifts(ctx.scenario.shifts)
    listed = ", ".join(f"{s:02d}:00 for {h} h" for s, h in sorted(shifts))
    rows = rota.assign(at=_minutes_of_week(rota["day"], rota["start"]),
                       holder=rota["scheme_id"].map(ctx.holders))
    for row in rows.itertuples():
        where = f"rota row {row.Index + 2} ({row.scheme_id}, {row.provider_id}, {row.day} " \
                f"{row.start}, {row.hours:g} h)"
        if row.provider_id != row.holder:
            held = f"is held by {row.holder}" if pd.notna(row.holder) else "does not exist"
            out.append(f"rota: {where}: {row.provider_id} does not hold the block contract "
                       f"at {ctx.scheme(row.scheme_id)}; the contract {held}")
        if pd.isna(row.at):
            out.append(f"rota: {where}: day or start time cannot be read")
        elif (int(row.at % 1440) // 60, row.hours) not in shifts or row.at % 60:
            out.append(f"rota: {where}: not one of the model's shifts ({listed})")
        if row.staff < 0 or row.staff != round(row.staff):
            out.append(f"rota: {where}: {row.staff:g} staff; must be a whole number")
    return out


