"""Rule family 2: 24-hour cover, re-derived from the rota and the visits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.plan.checks.context import TOL, Context, _known_alloc, split_visits
from optimiser.plan.checks.erlang import floating_carers

# --------------------------------------------------------------------------- 2. cover


def cover_table(ctx: Context) -> pd.DataFrame:
    """Staff on duty and staff required in every slot of every scheme, recomputed.

    Required = max(minimum staff, most carers busy at once + reserve + check visits, double-up
    carers + reserve); minimum and reserve apply only where the scheme has a block contract
    (there is no team otherwise)."""
    s = ctx.data.schemes
    n = ctx.week.n_slots
    night = ctx.bands == "night"
    night_min = np.where(s["lone_working_at_night"], s["night_min_staff"],
                         np.maximum(s["night_min_staff"], 2))
    tiers = _tiers(ctx)
    scale = (s["scheme_id"].map(tiers.groupby("scheme_id")["tier"].apply(lambda t: (t >= 2).mean()))
             .fillna(1.0) if tiers is not None else pd.Series(1.0, index=s.index))
    reserve = {band: np.array([
        floating_carers(float(c), float(h), float(t), float(q)) for c, h, t, q in zip(
            s[f"{band}_calls_per_hour"] * scale, s["mean_call_minutes"],
            s["response_target_minutes"],
            s["response_share"], strict=True)], dtype=float) for band in ("day", "night")}
    has_block = s["scheme_id"].isin(ctx.holders).to_numpy()[:, None]
    grid = pd.DataFrame({
        "scheme_id": np.repeat(s["scheme_id"].to_numpy(), n),
        "slot": np.tile(np.arange(n), len(s)),
        "min_staff": (np.where(night[None, :], night_min[:, None],
                               s["day_min_staff"].to_numpy()[:, None]) * has_block).ravel(),
        "reserve": (np.where(night[None, :], reserve["night"][:, None],
                             reserve["day"][:, None]) * has_block).ravel(),
    })
    key = pd.MultiIndex.from_frame(grid[["scheme_id", "slot"]])
    load, doubles = _block_load(ctx)
    grid["planned_load"] = load.reindex(key, fill_value=0.0).to_numpy()
    grid["double_up"] = doubles.reindex(key, fill_value=0).to_numpy()
    grid["check_visits"] = _check_visit_load(ctx, tiers, grid) * np.repeat(has_block.ravel(), n)
    on_duty = ctx.rota_slots.groupby(["scheme_id", "slot"])["staff"].sum()
    grid["on_duty"] = on_duty.reindex(key, fill_value=0.0).to_numpy()
    grid["required"] = np.maximum.reduce([
        grid["min_staff"].to_numpy(dtype=float),
        (grid["planned_load"] + grid["reserve"] + grid["check_visits"]).to_numpy(),
        np.where(grid["double_up"] > 0, grid["double_up"] + grid["reserve"], 0.0)])
    return grid


def _tiers(ctx: Context) -> pd.DataFrame | None:
    """Support tiers (seed 002, Cheshire Peaks and Plains) where the model has them: the
    resident's own support_tier, else the model's tier for the needs band (else 2*)."""
    if not ctx.policy.support_tiers:
        return None
    r = ctx.data.residents
    chosen = pd.to_numeric(r["support_tier"], errors="coerce")
    tier = chosen.fillna(r["needs_band"].map(ctx.policy.tier_by_needs_band)).fillna(2)
    visits = tier.astype(int).map(lambda t: ctx.policy.tier_visits_per_week[t - 1])
    return pd.DataFrame({"scheme_id": r["scheme_id"], "tier": tier.astype(int),
                         "check_minutes": visits * ctx.policy.tier_visit_minutes})


def _check_visit_load(ctx: Context, tiers: pd.DataFrame | None, grid: pd.DataFrame
                      ) -> np.ndarray:
    """Staff kept busy by check visits in each slot: a scheme's weekly check minutes spread
    evenly over the slots from 10:00 to 16:00 on every day."""
    if tiers is None:
        return np.zeros(len(grid))
    hour = (grid["slot"].to_numpy() % ctx.week.per_day) * ctx.week.slot_minutes // 60
    window = (hour >= 10) & (hour < 16)
    minutes = grid["scheme_id"].map(tiers.groupby("scheme_id")["check_minutes"].sum()).fillna(0.0)
    window_minutes_per_week = 7 * 6 * 60  # six hours a day, every day
    per_slot = minutes.to_numpy() / window_minutes_per_week
    return np.where(window, per_slot, 0.0)


def busy_minute_by_minute(visits: pd.DataFrame, share: pd.Series, scheme: pd.Series,
                          schemes: list[str], week_minutes: int) -> np.ndarray:
    """Carers busy with visits at every minute of the week, per scheme (schemes x minutes).

    Each visit adds its carers (times the share of the package under the block) from its
    first minute to its last, wrapping Sunday night into Monday: a difference array, summed."""
    row = {s: i for i, s in enumerate(schemes)}
    start = visits["at"].to_numpy(dtype=np.int64)
    end = start + visits["minutes"].to_numpy(dtype=np.int64)
    who = visits["resident_id"]
    weight = (visits["carers"].to_numpy(dtype=float) * who.map(share).to_numpy(dtype=float))
    at = who.map(scheme).map(row).to_numpy(dtype=np.int64)
    diff = np.zeros((len(schemes), 2 * week_minutes + 1))
    np.add.at(diff, (at, start), weight)
    np.add.at(diff, (at, end), -weight)
    busy = np.cumsum(diff, axis=1)[:, :2 * week_minutes]
    return busy[:, :week_minutes] + busy[:, week_minutes:]


def _block_load(ctx: Context) -> tuple[pd.Series, pd.Series]:
    """Most carers busy at once with block visits, and the largest double-up, per scheme and
    slot. Every minute is checked: on-duty staff are constant within a slot, visits are not.

    A visit counts its carers times the share of the package under the block; a double-up
    (2+ carers) needs all its carers at once whatever the share."""
    block = _known_alloc(ctx)
    block = block[block["route_kind"] == "block"].groupby("resident_id")["share"].sum()
    visits = ctx.visits[ctx.visits["resident_id"].isin(block.index)]
    schemes = sorted(ctx.data.schemes["scheme_id"])
    width, n = ctx.week.slot_minutes, ctx.week.n_slots
    busy = busy_minute_by_minute(visits, block, ctx.packages["scheme_id"], schemes, n * width)
    peak = busy.reshape(len(schemes), n, width).max(axis=2)
    load = pd.Series(peak.ravel(), index=pd.MultiIndex.from_product(
        [schemes, range(n)], names=["scheme_id", "slot"]))
    parts = split_visits(visits, ctx.week)
    parts["scheme_id"] = parts["resident_id"].map(ctx.packages["scheme_id"])
    doubles = parts[parts["carers"] >= 2].groupby(["scheme_id", "slot"])["carers"].max()
    return load[load > 0], doubles


def check_cover(ctx: Context) -> list[str]:
    """Enough staff on duty in every slot of every scheme with a block contract, and cover.csv
    agreeing with the rota and the rules."""
    grid = cover_table(ctx)
    short = grid[grid["scheme_id"].isin(ctx.holders)
                 & (grid["on_duty"] < grid["required"] - TOL)]
    out = []
    for row in short.itertuples():
        parts = f"minimum {row.min_staff:g}; carers busy at once {row.planned_load:.2f} + " \
                f"reserve {row.reserve:g}"
        if row.double_up > 0:
            parts += f"; double-up {row.double_up:g} + reserve {row.reserve:g}"
        out.append(f"cover: {ctx.scheme(row.scheme_id)}, {ctx.week.label(row.slot)}: "
                   f"{row.on_duty:g} staff on duty, {row.required:g} required ({parts})")
    return out + _cover_table_agrees(ctx, grid)


def _cover_table_agrees(ctx: Context, grid: pd.DataFrame) -> list[str]:
    table = ctx.tables["cover"]
    merged = grid.merge(table, on=["scheme_id", "slot"], how="left", suffixes=("", "_csv"),
                        indicator=True)
    out = []
    missing = merged[(merged["_merge"] == "left_only") & merged["scheme_id"].isin(ctx.holders)]
    for row in missing.itertuples():
        out.append(f"cover table: cover.csv has no row for {ctx.scheme(row.scheme_id)}, "
                   f"{ctx.week.label(row.slot)}")
    both = merged[merged["_merge"] == "both"]
    for row in both[(both["on_duty"] - both["on_duty_csv"]).abs() > TOL].itertuples():
        out.append(f"cover table: cover.csv gives {ctx.scheme(row.scheme_id)}, "
                   f"{ctx.week.label(row.slot)} {row.on_duty_csv:g} staff on duty; the rota "
                   f"gives {row.on_duty:g}")
    for row in both[(both["required"] - both["required_csv"]).abs() > 1e-3].itertuples():
        out.append(f"cover table: cover.csv gives {ctx.scheme(row.scheme_id)}, "
                   f"{ctx.week.label(row.slot)} {row.required_csv:g} staff required; the rules "
                   f"give {row.required:.4g}")
    return out


