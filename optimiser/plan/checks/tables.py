"""Rule family 12: every number in every table a run writes, re-derived.

The other rule families check the decisions (who holds each block, the rota, who delivers each
package) and the figures the rules speak of. This one re-derives every other figure the plan
tables show, from the input tables, the model file and the plan's checked decisions: the
block contracts' staff-hours, pay bands, costs and residents; the rota's pattern numbers,
staff-hours and hours by band; every column of the cover table; the allocations' package hours,
budgets and satisfaction; the framework's residents, hours and costs; providers' hours and
market share; every headline figure of the summary; and the tables some models add (support
tiers, the framework ranking, cover paid from pooled budgets). A figure that differs by more
than the rounding its cell shows is reported, naming the table, the row and the column.

run.json also records a SHA-256 of every table the run wrote, so a table changed by hand is
reported even where a figure cannot be re-derived from the plan alone (what a first-stage solve
measured, for cover paid from pooled budgets: ``CHECKSUM_ONLY``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.plan.checks.context import (
    BANDS,
    Context,
    _known_alloc,
    _minutes_of_week,
    _strip_guard,
    rating_points,
)
from optimiser.plan.checks.contracts import numbered_shifts
from optimiser.plan.checks.costs import rota_costs
from optimiser.plan.checks.cover import cover_table
from optimiser.plan.checks.market import commissioned_hours

RULE = "table"
MANIFEST_KEY = "table_checksums_sha256"

# Columns that carry no figure: names, descriptions and sentences beside the ids. A table's
# id and key columns are checked through the rows they name; these are not checked at all.
FREE_TEXT: frozenset[str] = frozenset({
    "scheme_name", "provider_name", "name", "description", "route_description", "finding",
    "unit", "note", "notes",
})
# Figures that only a first-stage solve measured (cover paid from pooled budgets): no plan
# table holds what they are computed from, so only the run's table checksums protect them.
CHECKSUM_ONLY: frozenset[tuple[str, str]] = frozenset({
    ("cover_funding", "team_cost_if_kept"),
})


def table_checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every CSV table in a run folder, by file name."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).glob("*.csv"))}


# --------------------------------------------------------------------------- reading, comparing


def read_raw(folder: Path, name: str) -> pd.DataFrame | None:
    """A plan table as text cells (the Excel guard undone), or None if the run has none."""
    path = Path(folder) / f"{name}.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in frame.columns:
        values = frame[col].tolist()
        if any(v.startswith("'") or v != v.strip() for v in values):
            frame[col] = _strip_guard(frame[col]).str.strip()
    return frame


def _number(text: str) -> float:
    try:
        return float(text) if text != "" else np.nan
    except ValueError:
        return np.nan


def _unit(text: str) -> float:
    """One unit of the last digit written: 0.01 for '12.34', 1 for '12', 1e-06 for '1.5e-05'."""
    if "e" in text or "E" in text:
        try:
            exponent = Decimal(text).as_tuple().exponent
        except InvalidOperation:
            return 1.0
        return 10.0 ** exponent if isinstance(exponent, int) else 1.0
    dot = text.rfind(".")
    return 10.0 ** -(len(text) - dot - 1) if dot >= 0 else 1.0


def _tolerances(text: pd.Series, expected: np.ndarray) -> np.ndarray:
    """Half a unit of the last digit written (a cell rounded to 2 decimals may be 0.005 off),
    at most half a penny (no table rounds a figure more coarsely: a whole number written as an
    integer is exact), plus floating-point noise."""
    unit = np.fromiter((_unit(v) for v in text.astype(str)), dtype=float, count=len(text))
    size = np.maximum(1.0, np.abs(np.nan_to_num(expected)))
    return np.minimum(0.5 * unit, 0.005) * (1 + 1e-6) + 1e-9 * size


def _fmt(x: float) -> str:
    return "empty" if pd.isna(x) else f"{x:.6g}"


class _Table:
    """One written table with the sentences about it."""

    def __init__(self, name: str, raw: pd.DataFrame, label: Callable[[pd.Series], str]):
        self.name, self.raw, self.label = name, raw, label
        self.problems: list[str] = []

    def has(self, column: str) -> bool:
        return column in self.raw.columns

    def number(self, column: str) -> pd.Series:
        if not self.has(column):
            return pd.Series(np.nan, index=self.raw.index)
        return pd.to_numeric(self.raw[column], errors="coerce").astype(float)

    def missing(self, *columns: str) -> bool:
        """Report required columns that are absent; True if any is."""
        gone = [c for c in columns if not self.has(c)]
        self.problems += [f"{RULE}: {self.name}.csv has no column '{c}'" for c in gone]
        return bool(gone)

    def expect(self, column: str, expected: pd.Series | np.ndarray | float, why: str,
               rows: pd.Series | None = None) -> None:
        """Each cell of ``column`` equals the re-derived figure within its written rounding."""
        if not self.has(column):
            self.problems.append(f"{RULE}: {self.name}.csv has no column '{column}'")
            return
        want = (expected.reindex(self.raw.index) if isinstance(expected, pd.Series) else
                pd.Series(expected, index=self.raw.index)).to_numpy(dtype=float)
        text = self.raw[column]
        got = self.number(column).to_numpy()
        both = np.isnan(got) & np.isnan(want)
        with np.errstate(invalid="ignore"):
            bad = ~both & (np.isnan(got) | np.isnan(want)
                           | ~(np.abs(got - want) <= _tolerances(text, want)))
        if rows is not None:
            bad &= rows.to_numpy(dtype=bool)
        for i in np.flatnonzero(bad):
            index = self.raw.index[i]
            shown = repr(text.iat[i]) if np.isnan(got[i]) and text.iat[i] != "" else _fmt(got[i])
            self.problems.append(
                f"{RULE}: {self.name}.csv row {index + 2} ({self.label(self.raw.loc[index])}): "
                f"{column} is {shown}, but {why} gives {_fmt(want[i])}")

    def expect_text(self, column: str, expected: pd.Series, why: str) -> None:
        if not self.has(column):
            self.problems.append(f"{RULE}: {self.name}.csv has no column '{column}'")
            return
        want = expected.reindex(self.raw.index).fillna("").astype(str)
        got = self.raw[column].astype(str)
        for i in self.raw.index[got.str.lower() != want.str.lower()]:
            self.problems.append(
                f"{RULE}: {self.name}.csv row {i + 2} ({self.label(self.raw.loc[i])}): "
                f"{column} is {got[i]!r}, but {why} gives {want[i]!r}")

    def rows_match(self, key: str, expected: pd.Index, what: str) -> None:
        """The table has exactly one row for each of ``expected`` (values of ``key``)."""
        if not self.has(key):
            self.problems.append(f"{RULE}: {self.name}.csv has no column '{key}'")
            return
        have = self.raw[key]
        for value in have[have.duplicated()].unique():
            self.problems.append(f"{RULE}: {self.name}.csv lists {key} {value} twice")
        for value in sorted(set(map(str, expected)) - set(have)):
            self.problems.append(f"{RULE}: {self.name}.csv has no row for {what} {value}")
        for value in sorted(set(have) - set(map(str, expected))):
            self.problems.append(f"{RULE}: {self.name}.csv has a row for {what} {value}, which "
                                 "the plan does not give one")


def _by(*columns: str) -> Callable[[pd.Series], str]:
    return lambda row: ", ".join(str(row.get(c, "")) for c in columns)


def _bool_text(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "True" if bool(v) else "False")


# --------------------------------------------------------------------------- figures shared


def _memo(ctx: Context, key: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """A figure several tables use, computed once per check of a plan (kept on the context,
    which lives for one check)."""
    memo = ctx.__dict__.setdefault("_table_figures", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _rota(ctx: Context) -> pd.DataFrame:
    """The rota as checked (typed), with each row's staff-hours and hours by pay band."""
    return _memo(ctx, "rota", lambda: _rota_figures(ctx))


def _rota_figures(ctx: Context) -> pd.DataFrame:
    rota = ctx.tables["rota"].copy()
    rota["staff_hours"] = rota["staff"] * rota["hours"]
    cells = ctx.rota_slots
    band = ctx.bands[cells["slot"].to_numpy()] if len(cells) else np.array([], dtype=str)
    hours = cells["staff"].to_numpy(dtype=float) * ctx.week.slot_minutes / 60
    for b in BANDS:
        by_row = pd.Series(np.where(band == b, hours, 0.0)).groupby(cells["row"].to_numpy()).sum()
        rota[f"{b}_hours"] = by_row.reindex(rota.index, fill_value=0.0)
    rota["weekly_cost"] = rota_costs(ctx).reindex(rota.index)
    return rota


def _routes(ctx: Context) -> pd.DataFrame:
    """Allocations as checked, with each row's package hours, paid hours, price and draw times
    its share, and the satisfaction of whoever delivers it."""
    return _memo(ctx, "routes", lambda: _route_figures(ctx))


def _route_figures(ctx: Context) -> pd.DataFrame:
    a = _known_alloc(ctx).copy()
    a["package_hours"] = a["resident_id"].map(ctx.packages["hours"])
    sat = ctx.data.providers.set_index("provider_id")["satisfaction"]
    a["satisfaction"] = a["provider_id"].map(sat).where(
        a["route_kind"] != "direct", ctx.costs["direct_payment_satisfaction"])
    a["weighted_hours"] = a["share"] * a["package_hours"]
    a["paid"] = a["share"] * a["paid_hours"]
    a["cost"] = a["share"] * a["price"]
    return a


def _framework_use(ctx: Context) -> pd.DataFrame:
    a = _routes(ctx)
    a = a[a["route_kind"] == "framework"]
    return a.groupby("provider_id").agg(residents=("share", "sum"),
                                        weekly_paid_hours=("paid", "sum"),
                                        weekly_care_cost=("cost", "sum"))


def _provider_hours(ctx: Context) -> pd.DataFrame:
    rota = ctx.tables["rota"]
    block = (rota["staff"] * rota["hours"]).groupby(rota["provider_id"]).sum()
    a = _routes(ctx)
    a = a[a["route_kind"].isin(["spot", "framework"])]
    paid = a.groupby("provider_id")["paid"].sum()
    out = pd.concat([block.rename("block_staff_hours"), paid.rename("package_paid_hours")],
                    axis=1).fillna(0.0)
    out["total_hours"] = out["block_staff_hours"] + out["package_paid_hours"]
    return out[out["total_hours"] > 0]


# --------------------------------------------------------------------------- one table each


def _block_contracts(ctx: Context, t: _Table) -> None:
    if t.missing("scheme_id", "provider_id"):
        return
    rota = _rota(ctx)
    key = pd.MultiIndex.from_frame(t.raw[["scheme_id", "provider_id"]])
    sums = rota.groupby(["scheme_id", "provider_id"])[
        ["staff_hours", "day_hours", "night_hours", "weekend_hours", "weekly_cost"]].sum()
    sums = sums.reindex(key, fill_value=0.0).set_axis(t.raw.index)
    prov, weeks = ctx.data.providers.set_index("provider_id"), ctx.costs["weeks_per_year"]
    t.expect("min_block_hours", t.raw["provider_id"].map(prov["min_block_hours"]),
             "the provider's minimum block hours in providers.csv")
    t.expect("weekly_management_cost",
             float(ctx.costs["block_contract_management_per_year"]) / weeks,
             "block_contract_management_per_year / weeks_per_year in costs.csv")
    t.expect("weekly_staff_hours", sums["staff_hours"], "the rota (staff x hours)")
    for b in BANDS:
        t.expect(f"{b}_hours", sums[f"{b}_hours"], f"the rota's staff-hours in the {b} band")
    t.expect("weekly_staff_cost", sums["weekly_cost"], "the rota at the block rates")
    a = _routes(ctx)
    for kind in ("block", "spot"):
        n = a[a["route_kind"] == kind].groupby("scheme_id")["share"].sum()
        t.expect(f"residents_{kind}", t.raw["scheme_id"].map(n).fillna(0.0),
                 f"the shares of residents' care on the {kind} route at the scheme")
    t.expect_text("zone", t.raw["scheme_id"].map(ctx.schemes["zone"]), "schemes.csv")


def _rota_table(ctx: Context, t: _Table) -> None:
    if t.missing("day", "start", "hours"):
        return
    rota = _rota(ctx)
    shifts = numbered_shifts(ctx.scenario.shifts)
    at = _minutes_of_week(t.raw["day"], t.raw["start"])
    number = {(s, h): i for i, (s, h) in enumerate(shifts)}
    pattern = [np.nan if pd.isna(m) or m % 60 else
               (m // 1440) * len(shifts) + number.get((int(m % 1440) // 60, hours), np.nan)
               for m, hours in zip(at, rota["hours"], strict=True)]
    t.expect("pattern", pd.Series(pattern, index=t.raw.index, dtype=float),
             "the shift's day, start and length numbered as the model file lists them")
    t.expect("staff_hours", rota["staff_hours"], "staff x hours")
    for b in BANDS:
        t.expect(f"{b}_hours", rota[f"{b}_hours"], f"the shift's hours in the {b} band x staff")


def _cover(ctx: Context, t: _Table) -> None:
    if t.missing("scheme_id", "slot"):
        return
    grid = cover_table(ctx).copy()
    grid["slack"] = grid["on_duty"] - grid["required"]
    slot = pd.to_numeric(t.raw["slot"], errors="coerce")
    key = pd.MultiIndex.from_arrays([t.raw["scheme_id"], slot])
    mine = grid.set_index(["scheme_id", "slot"]).reindex(key).set_axis(t.raw.index)
    columns = {"min_staff": "min_staff", "planned_load": "planned_load",
               "double_up_carers": "double_up", "reserve": "reserve",
               "check_visits": "check_visits", "required": "required", "on_duty": "on_duty",
               "slack": "slack"}
    for written, derived in columns.items():
        if derived in mine.columns:
            t.expect(written, mine[derived], "the rules, the rota and the visits")
    ok = slot.notna() & (slot >= 0) & (slot < ctx.week.n_slots) & (slot == slot.round())
    labels = slot.where(ok).map(lambda s: "" if pd.isna(s) else ctx.week.label(int(s)))
    t.expect_text("day", labels.str[:3], "the slot number")
    t.expect_text("time", labels.str[4:], "the slot number")
    t.expect_text("band", slot.where(ok).map(
        lambda s: "" if pd.isna(s) else str(ctx.bands[int(s)])), "the slot number and night hours")


def _allocations(ctx: Context, t: _Table) -> None:
    if t.missing("resident_id", "route_kind", "provider_id"):
        return
    pk = ctx.packages
    t.expect("package_hours", t.raw["resident_id"].map(pk["hours"]),
             "the resident's visits in visits.csv (minutes x carers)")
    budget = ctx.data.residents.set_index("resident_id")["weekly_budget"]
    t.expect("weekly_budget", t.raw["resident_id"].map(budget), "residents.csv")
    sat = ctx.data.providers.set_index("provider_id")["satisfaction"]
    direct = t.raw["route_kind"] == "direct"
    t.expect("satisfaction", t.raw["provider_id"].map(sat).where(
        ~direct, ctx.costs["direct_payment_satisfaction"]),
        "the provider's satisfaction (or direct_payment_satisfaction)")
    residents = ctx.data.residents.set_index("resident_id")
    preferred = t.raw["resident_id"].map(residents["preferred_provider"])
    t.expect_text("preferred_provider", preferred, "residents.csv")
    t.expect_text("preference_strength", t.raw["resident_id"].map(
        residents["preference_strength"]), "residents.csv")
    t.expect_text("wants_direct_payment", _bool_text(t.raw["resident_id"].map(
        residents["wants_direct_payment"]).fillna(False)), "residents.csv")
    honoured = np.where(preferred.isna(), "", np.where(
        t.raw["provider_id"] == preferred.fillna(""), "yes", "no"))
    t.expect_text("preference_honoured", pd.Series(honoured, index=t.raw.index),
                  "the provider against the resident's preferred provider")


def _framework(ctx: Context, t: _Table) -> None:
    if t.missing("provider_id"):
        return
    use = _framework_use(ctx)
    pid = t.raw["provider_id"]
    for column in ("residents", "weekly_paid_hours", "weekly_care_cost"):
        t.expect(column, pid.map(use[column]).fillna(0.0),
                 "the framework rows of allocations.csv at the provider's rates")
    prov, costs = ctx.data.providers.set_index("provider_id"), ctx.costs
    weeks = costs["weeks_per_year"]
    fixed = (prov["framework_admission_cost"] / (costs["framework_term_years"] * weeks)
             + prov["framework_monitoring_cost"] * ctx.policy.framework_monitoring_factor / weeks)
    t.expect("weekly_fixed_cost", pid.map(fixed),
             "admission over the framework term plus monitoring, a week")
    t.expect_text("zones", pid.map(prov["zones"]), "providers.csv")
    t.expect_text("cqc_rating", pid.map(prov["cqc_rating"]), "providers.csv")


def _providers(ctx: Context, t: _Table) -> None:
    hours = _provider_hours(ctx)
    t.rows_match("provider_id", hours.index, "provider")
    if not t.has("provider_id"):
        return
    pid = t.raw["provider_id"]
    for column in ("block_staff_hours", "package_paid_hours", "total_hours"):
        t.expect(column, pid.map(hours[column]).fillna(0.0),
                 "the rota and the paid hours of the allocations")
    cap = ctx.data.providers.set_index("provider_id")["weekly_capacity_hours"]
    t.expect("weekly_capacity_hours", pid.map(cap), "providers.csv")
    commissioned = commissioned_hours(ctx)
    t.expect("commissioned_hours", pid.map(commissioned).fillna(0.0),
             "cover and contact hours under its blocks plus paid hours, by need")
    total = float(commissioned.sum())
    t.expect("market_share", pid.map(commissioned / total if total else commissioned)
             .fillna(0.0), "the provider's commissioned hours over all commissioned hours")


def _eligible_preferences(ctx: Context) -> int:
    """Residents whose named provider could serve them under this model's rules (affordably,
    under individual budgets), leaving out those granted the direct payment they asked for."""
    from optimiser.plan.checks.choice import direct_payment_choices
    from optimiser.plan.checks.context import route_prices

    pk, policy = ctx.packages, ctx.policy
    asked = pk[pk["preferred_provider"].notna()]
    rows = []
    for rid, row in asked.iterrows():
        k, zone = row["preferred_provider"], row["zone"]
        onsite = ctx.can_hold_block(k, zone) and row["scheme_id"] not in \
            policy.schemes_without_cover
        if policy.allow_block_care and onsite:
            rows.append((rid, "block", k))
        if policy.allow_onsite_spot and onsite:
            rows.append((rid, "spot", k))
        if policy.allow_framework and ctx.can_frame(k, zone):
            rows.append((rid, "framework", k))
    routes = pd.DataFrame(rows, columns=["resident_id", "route_kind", "provider_id"])
    if routes.empty:
        return 0
    draw = route_prices(routes, pk, ctx.providers, ctx.costs, policy)["draw"].to_numpy()
    cap = pk["cap"].reindex(routes["resident_id"]).to_numpy()
    ok = (routes["route_kind"] == "block").to_numpy() | (policy.budget_rule != "individual") | (
        draw <= cap + 1e-9)
    eligible = set(routes.loc[ok, "resident_id"])
    return len(eligible - set(direct_payment_choices(ctx)))


def _summary(ctx: Context, t: _Table) -> None:
    if t.missing("metric", "value"):
        return
    record, weeks = ctx.record, ctx.costs["weeks_per_year"]
    lines = ctx.tables["cost_lines"].drop_duplicates("line").set_index("line")["weekly_gbp"]
    total = float(lines.get("total", np.nan))
    blocks = ctx.tables["block_contracts"]
    a = _routes(ctx)
    hours = a["weighted_hours"]
    onsite = a["route_kind"].isin(["block", "spot"])
    rota = _rota(ctx)
    night = rota.groupby("provider_id")["night_hours"].sum() if len(rota) else pd.Series()
    rate = ctx.data.providers.set_index("provider_id")["block_rate_night"]
    night_cost = float((night * rate.reindex(night.index).fillna(0.0)).sum())
    flats = float(ctx.schemes["flats"].reindex(blocks["scheme_id"].dropna()).sum())
    pk = ctx.packages
    stated = pk[pk["preferred_provider"].notna()]
    mine = a[a["provider_id"] == a["resident_id"].map(pk["preferred_provider"])]
    per_scheme = a[a["provider_id"].notna()].groupby("scheme_id")["provider_id"].nunique()

    def rec(key: str) -> float:
        value = record.get(key)
        return float(value) if isinstance(value, int | float) else np.nan

    figures: dict[str, tuple[float, str]] = {
        "gap": (rec("gap"), "run.json"),
        "weekly_cost": (total, "the total of cost_lines.csv"),
        "annual_cost": (total * weeks, "the weekly total x weeks_per_year"),
        "solver_objective": (rec("objective_weekly_gbp"), "run.json"),
        "solver_bound": (rec("bound_weekly_gbp"), "run.json"),
        "schemes": (len(ctx.schemes), "schemes.csv"),
        "schemes_with_block": (len(blocks), "block_contracts.csv"),
        "residents_with_care": (len(pk), "residents.csv"),
        "package_hours_per_week": (float(pk["hours"].sum()), "visits.csv"),
        "block_staff_hours_per_week": (float(rota["staff_hours"].sum()), "the rota"),
        "onsite_share_of_planned_care": (
            float(hours[onsite].sum() / hours.sum()) if hours.sum() else 0.0,
            "the allocations' hours on site over all hours"),
        "framework_providers": (len(ctx.tables["framework"]), "framework.csv"),
        "direct_payments": (float(a.loc[a["route_kind"] == "direct", "share"].sum()),
                            "the direct payments in allocations.csv"),
        "night_cover_cost_per_flat_per_week": (night_cost / flats if flats else 0.0,
                                               "the rota's night hours at the night rates"),
        "preferences_stated": (len(stated), "residents.csv"),
        "preferences_eligible": (_eligible_preferences(ctx), "the model's rules"),
        "preferences_honoured": (float(mine["share"].sum()), "allocations.csv"),
        "mean_satisfaction": (
            float((hours * a["satisfaction"].fillna(0.0)).sum() / hours.sum())
            if hours.sum() else 0.0, "the hours-weighted satisfaction of allocations.csv"),
        "providers_per_scheme": (float(per_scheme.mean()) if len(per_scheme) else 0.0,
                                 "allocations.csv"),
    }
    metric = t.raw["metric"]
    for name in metric[metric.duplicated()].unique():
        t.problems.append(f"{RULE}: summary.csv lists metric {name} twice")
    for name, (value, why) in figures.items():
        if name not in set(metric):
            t.problems.append(f"{RULE}: summary.csv has no metric '{name}'")
            continue
        t.expect("value", pd.Series(value, index=t.raw.index), why, rows=metric == name)
    texts = {"model": ctx.scenario.name, "status": record.get("status_text")}
    for name, value in texts.items():
        if value is not None and name in set(metric):
            rows = t.raw[metric == name]
            sub = _Table("summary", rows, t.label)
            sub.expect_text("value", pd.Series(str(value), index=rows.index), "run.json")
            t.problems += sub.problems


def _tiers(ctx: Context, t: _Table) -> None:
    if not ctx.policy.support_tiers:
        return
    policy, r = ctx.policy, ctx.data.residents
    chosen = pd.to_numeric(r["support_tier"], errors="coerce")
    tier = chosen.fillna(r["needs_band"].map(policy.tier_by_needs_band)).fillna(2).astype(int)
    visits = tier.map(lambda k: policy.tier_visits_per_week[k - 1])
    hours = visits * policy.tier_visit_minutes / 60.0
    holder = r["scheme_id"].map(ctx.holders)
    rate = holder.map(ctx.data.providers.set_index("provider_id")["block_rate_day"]).fillna(0.0)
    per = pd.DataFrame({"tier": tier, "visits": visits, "hours": hours, "cost": hours * rate})
    agg = per.groupby("tier").agg(residents=("tier", "size"), visits=("visits", "sum"),
                                  hours=("hours", "sum"), cost=("cost", "sum"))
    t.rows_match("tier", agg.index, "support tier")
    if not t.has("tier"):
        return
    k = pd.to_numeric(t.raw["tier"], errors="coerce")
    t.expect("residents", k.map(agg["residents"]).fillna(0.0), "residents.csv and the tier rules")
    t.expect("check_visits_per_week", k.map(agg["visits"]).fillna(0.0), "the tier rules")
    t.expect("check_hours_per_week", k.map(agg["hours"]).fillna(0.0), "the tier rules")
    t.expect("weekly_check_cost", k.map(agg["cost"]).fillna(0.0),
             "check hours at the block holder's day rate")
    t.expect_text("emergency_response", _bool_text(k.fillna(0) >= 2), "the tier (2* and above)")


def _ranking(ctx: Context, t: _Table) -> None:
    if not ctx.policy.call_off_in_rank_order:
        return
    policy = ctx.policy
    prov = ctx.providers[[ctx.passes(pid, policy.cqc_floor) for pid in ctx.providers.index]]
    hours = np.array([ctx.packages[f"hours_{b}"].sum() for b in BANDS], dtype=float)
    weights = hours / hours.sum() if hours.sum() else np.full(len(BANDS), 1 / len(BANDS))
    r = pd.DataFrame(index=prov.index)
    r["price"] = prov[[f"framework_rate_{b}" for b in BANDS]].to_numpy(dtype=float) @ weights
    r["price_score"] = 100 * r["price"].min() / r["price"]
    points = prov["cqc_rating"].map(lambda rating: rating_points(rating, policy.unrated_as))
    r["quality_score"] = 100 * (points.astype(float) / 4
                                + prov["satisfaction"].astype(float) / 100) / 2
    w = policy.rank_price_weight
    r["score"] = w * r["price_score"] + (1 - w) * r["quality_score"]
    order = sorted(r.index, key=lambda pid: (-r.at[pid, "score"], pid))
    r["rank"] = pd.Series(np.arange(1, len(order) + 1), index=order)
    use = _framework_use(ctx)
    r["residents"] = use["residents"].reindex(r.index).fillna(0.0)
    r["weekly_paid_hours"] = use["weekly_paid_hours"].reindex(r.index).fillna(0.0)
    t.rows_match("provider_id", r.index, "provider")
    if not t.has("provider_id"):
        return
    pid = t.raw["provider_id"]
    for column in ("price", "price_score", "quality_score", "score", "rank"):
        t.expect(column, pid.map(r[column]), "the ranking rule (price and quality)")
    for column in ("residents", "weekly_paid_hours"):
        t.expect(column, pid.map(r[column]), "the framework rows of allocations.csv")
    t.expect_text("admitted", _bool_text(pid.isin(ctx.admitted)), "framework.csv")


def _cover_funding(ctx: Context, t: _Table) -> None:
    if ctx.policy.cover_funding != "pooled_budgets":
        return
    t.rows_match("scheme_id", ctx.schemes.index, "scheme")
    if not t.has("scheme_id"):
        return
    sid = t.raw["scheme_id"]
    pk = ctx.packages
    a = _routes(ctx)
    a["drawn"] = a["share"] * a["draw"]
    drawn = a.groupby(a["resident_id"].map(pk["scheme_id"]))["drawn"].sum()
    rota = _rota(ctx)
    team = rota.groupby("scheme_id")["weekly_cost"].sum()
    t.expect("flats", sid.map(ctx.schemes["flats"]), "schemes.csv")
    t.expect("pooled_budgets", sid.map(pk.groupby("scheme_id")["cap"].sum()).fillna(0.0),
             "the residents' budgets plus top-up")
    t.expect("care_drawn", sid.map(drawn).fillna(0.0), "what allocations.csv draws on budgets")
    t.expect("team_cost", sid.map(team).fillna(0.0), "the rota at the block rates")
    covered = sid.isin(ctx.holders)
    t.expect_text("has_24h_cover", _bool_text(covered), "block_contracts.csv")
    t.expect("restore_cost_weekly", pd.Series(0.0, index=t.raw.index),
             "a scheme that keeps its cover", rows=covered)
    weekly = t.number("restore_cost_weekly")
    t.expect("restore_cost_annual", weekly * ctx.costs["weeks_per_year"],
             "restore_cost_weekly x weeks_per_year")


# name: (check, label of a row, whether every run writes it)
TABLE_CHECKS: dict[str, tuple[Callable[[Context, _Table], None], Callable, bool]] = {
    "summary": (_summary, _by("metric"), True),
    "block_contracts": (_block_contracts, _by("scheme_id", "provider_id"), True),
    "rota": (_rota_table, _by("scheme_id", "day", "start"), True),
    "cover": (_cover, _by("scheme_id", "day", "time"), True),
    "allocations": (_allocations, _by("resident_id", "route_kind", "provider_id"), True),
    "framework": (_framework, _by("provider_id"), True),
    "providers": (_providers, _by("provider_id"), True),
    "tiers": (_tiers, _by("tier"), False),
    "ranking": (_ranking, _by("provider_id"), False),
    "cover_funding": (_cover_funding, _by("scheme_id"), False),
}


def _manifest(ctx: Context) -> list[str]:
    recorded = ctx.record.get(MANIFEST_KEY)
    if not isinstance(recorded, dict):
        return [f"{RULE}: run.json records no checksums of the plan tables; cannot tell "
                "whether a table was edited since the plan was made"]
    now = table_checksums(ctx.folder)
    out = [f"{RULE}: {name} was changed after the plan was made (its SHA-256 differs from "
           "run.json)" for name in sorted(recorded) if name in now and now[name] != recorded[name]]
    out += [f"{RULE}: {name} is missing from the run folder" for name in sorted(recorded)
            if name not in now]
    return out


def check_tables(ctx: Context) -> list[str]:
    """Every figure of every plan table the run wrote agrees with its re-derivation, and no
    table has changed since the run recorded its checksum."""
    if ctx.folder is None:
        return []
    out = _manifest(ctx)
    for name, (check, label, always) in TABLE_CHECKS.items():
        raw = read_raw(ctx.folder, name)
        if raw is None:
            if always:
                out.append(f"{RULE}: {name}.csv is missing from the run folder")
            continue
        table = _Table(name, raw, label)
        try:
            check(ctx, table)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            table.problems.append(f"{RULE}: {name}.csv cannot be re-derived ({exc!r})")
        out += table.problems
    return out


__all__ = ["CHECKSUM_ONLY", "FREE_TEXT", "MANIFEST_KEY", "check_tables",
           "table_checksums"]
