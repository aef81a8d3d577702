"""The independent plan checker: re-check a written plan against the input data and the rules.

A plan is trusted only if a second, separate derivation agrees with it. This module therefore
never imports the optimiser's own parameter derivation, model, result extraction or solver: it
reads the plan's CSV tables and ``run.json`` as a commissioner would, recomputes time slots, pay
bands, planned-care load, emergency reserve, route prices, budgets and every cost line from the
input tables, and reports each broken rule as one plain-English sentence. The rules are the
contract in docs/model.md; each sentence starts with the rule's name (``cover:``, ``budget:``
...) and names the scheme, provider or resident and the numbers involved.

Only the validated loader (:mod:`optimiser.data.load`), the model-file schema
(:mod:`optimiser.config`), the table constants (:mod:`optimiser.data.schema`) and the Erlang C
reserve (:mod:`optimiser.queueing`, tested on its own) are shared with the optimiser.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.config import CQC_POINTS, Policy, Scenario, load_scenario
from optimiser.data.load import Dataset, InputError, load_dataset
from optimiser.data.schema import DAYS
from optimiser.queueing import reserve_staff

BANDS: tuple[str, ...] = ("day", "night", "weekend")
ROUTE_KINDS: tuple[str, ...] = ("block", "spot", "framework", "direct")
MAX_PER_RULE = 20  # sentences shown per rule before "... and N more"
TOL = 1e-6  # feasibility tolerance of the solver's constraints
MONEY_TOL = 0.01  # GBP: tables are written to the penny
SHARE_TOL = 1e-6

# Columns the checker reads from each plan table: (text columns, numeric columns).
PLAN_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rota": (("scheme_id", "provider_id", "day", "start"), ("hours", "staff", "weekly_cost")),
    "block_contracts": (("scheme_id", "provider_id"), ()),
    "allocations": (
        ("resident_id", "scheme_id", "route_kind", "provider_id"),
        ("share", "weekly_cost", "budget_draw"),
    ),
    "framework": (("provider_id",), ()),
    "cover": (("scheme_id",), ("slot", "required", "on_duty")),
    "cost_lines": (("line",), ("weekly_gbp", "annual_gbp")),
}


# --------------------------------------------------------------------------- reading the plan


def _strip_guard(column: pd.Series) -> pd.Series:
    """Undo the Excel formula-injection guard: one leading apostrophe is not part of the text."""
    text = column.astype(str)
    return text.where(~text.str.startswith("'"), text.str[1:])


def read_plan_table(folder: Path, name: str) -> pd.DataFrame:
    """Read one plan table with the columns the checker needs, typed; InputError if unusable."""
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise InputError([f"{name}.csv: not found in {folder}; is this a run folder?"])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    text_cols, num_cols = PLAN_COLUMNS[name]
    missing = [c for c in (*text_cols, *num_cols) if c not in frame.columns]
    if missing:
        raise InputError([f"{name}.csv: column '{c}' is missing" for c in missing])
    for col in frame.columns:
        frame[col] = _strip_guard(frame[col]).str.strip()
    problems = []
    for col in text_cols:
        frame[col] = frame[col].replace("", np.nan)
    for col in num_cols:
        values = pd.to_numeric(frame[col], errors="coerce")
        for i in values.index[values.isna()][:MAX_PER_RULE]:
            problems.append(f"{name}.csv: row {i + 2}, column '{col}' = {frame.at[i, col]!r} "
                            "is not a number")
        frame[col] = values.astype(float)
    if problems:
        raise InputError(problems)
    return frame


def read_run_record(folder: Path) -> dict:
    """The run's record (``run.json``): scenario, objective, input checksums."""
    path = folder / "run.json"
    if not path.is_file():
        raise InputError([f"run.json: not found in {folder}; is this a run folder?"])
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([f"run.json: not valid JSON ({exc})"]) from None
    if not isinstance(record, dict):
        raise InputError(["run.json: expected an object with the run's record"])
    return record


# --------------------------------------------------------------------------- time and visits


@dataclass(frozen=True)
class Week:
    """The representative week cut into slots of ``slot_minutes``, Monday 00:00 first."""

    slot_minutes: int
    night_start: int
    night_end: int

    @property
    def per_day(self) -> int:
        return 1440 // self.slot_minutes

    @property
    def n_slots(self) -> int:
        return 7 * self.per_day

    def bands(self) -> np.ndarray:
        """Pay band of every slot: night by the clock first, then weekend, else day."""
        slot = np.arange(self.n_slots)
        hour = (slot % self.per_day) * self.slot_minutes // 60
        start, end = self.night_start, self.night_end
        night = (hour >= start) | (hour < end) if start > end else (hour >= start) & (hour < end)
        weekend = slot // self.per_day >= 5
        return np.where(night, "night", np.where(weekend, "weekend", "day"))

    def label(self, slot: int) -> str:
        """'Tue 02:00' for a slot number."""
        minute = (int(slot) % self.per_day) * self.slot_minutes
        return f"{DAYS[int(slot) // self.per_day]} {minute // 60:02d}:{minute % 60:02d}"


def _minutes_of_week(day: pd.Series, start: pd.Series) -> pd.Series:
    """Minute of the week of a (day name, HH:MM) pair; NaN where either is not readable."""
    day_index = day.map({d: i for i, d in enumerate(DAYS)})
    parts = start.astype(str).str.extract(r"^(\d{1,2}):(\d{2})$").astype(float)
    minute = parts[0] * 60 + parts[1]
    ok = (parts[0] < 24) & (parts[1] < 60)
    return (day_index * 1440 + minute).where(ok)


def _visit_table(data: Dataset, week: Week, bands: np.ndarray) -> pd.DataFrame:
    """Every planned visit with its minute of the week, pay band and staff-hours."""
    v = data.visits[["resident_id", "day", "start", "minutes", "carers"]].copy()
    v["at"] = _minutes_of_week(v["day"], v["start"]).astype(int)
    v["band"] = bands[(v["at"] // week.slot_minutes).to_numpy()] if len(v) else []
    v["staff_hours"] = v["carers"] * v["minutes"] / 60.0
    return v


def split_visits(visits: pd.DataFrame, week: Week) -> pd.DataFrame:
    """Spread each visit over the slots it overlaps, wrapping Sunday night into Monday.

    Returns one row per (visit, slot) with the overlapping staff-minutes (minutes x carers)."""
    start = visits["at"].to_numpy(dtype=np.int64)
    end = start + visits["minutes"].to_numpy(dtype=np.int64)
    width = week.slot_minutes
    first, last = start // width, (end - 1) // width
    count = last - first + 1
    row = np.repeat(np.arange(len(visits)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    slot = first[row] + offset
    overlap = np.minimum(end[row], (slot + 1) * width) - np.maximum(start[row], slot * width)
    carers = visits["carers"].to_numpy()[row]
    return pd.DataFrame({
        "resident_id": visits["resident_id"].to_numpy()[row],
        "slot": slot % week.n_slots,
        "staff_minutes": overlap * carers,
        "carers": carers,
    })


def _packages(data: Dataset, visits: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per resident with care: staff-hours and carer-visits by band, budget cap, preference."""
    by_band = visits.groupby(["resident_id", "band"])[["staff_hours", "carers"]].sum()
    hours = by_band["staff_hours"].unstack().reindex(columns=list(BANDS)).add_prefix("hours_")
    calls = by_band["carers"].unstack().reindex(columns=list(BANDS)).add_prefix("visits_")
    r = data.residents.set_index("resident_id")
    care = r[r["needs_band"] != "none"]
    out = care.join(hours).join(calls)
    out[hours.columns] = out[hours.columns].fillna(0.0)
    out[calls.columns] = out[calls.columns].fillna(0)
    out["hours"] = out[list(hours.columns)].sum(axis=1)
    out["zone"] = out["scheme_id"].map(data.schemes.set_index("scheme_id")["zone"])
    policy = scenario.policy
    out["cap"] = (out["weekly_budget"] * (1 - policy.cash_allocation_share)
                  * (1 + policy.budget_topup_share))
    return out


# --------------------------------------------------------------------------- the context


@dataclass
class Context:
    """Everything the rules read: inputs, policy, the plan's tables and recomputed figures."""

    data: Dataset
    scenario: Scenario
    week: Week
    bands: np.ndarray
    tables: dict[str, pd.DataFrame]
    record: dict
    schemes: pd.DataFrame  # indexed by scheme_id
    providers: pd.DataFrame  # indexed by provider_id
    serves: set[tuple[str, str]]  # (provider_id, zone)
    visits: pd.DataFrame
    packages: pd.DataFrame  # indexed by resident_id
    holders: dict[str, str]  # scheme_id -> block holder
    admitted: set[str]
    alloc: pd.DataFrame  # allocations with recomputed price, draw, paid_hours, staff_hours
    rota_slots: pd.DataFrame  # one row per (readable rota row, covered slot)

    @property
    def policy(self) -> Policy:
        return self.scenario.policy

    @property
    def costs(self) -> dict[str, float]:
        return self.data.costs

    @property
    def budget_filter(self) -> bool:
        """Individual budgets without splits rule out any route above the cap beforehand."""
        return self.policy.budget_rule == "individual" and not self.policy.allow_splits

    @cached_property
    def _names(self) -> dict[str, dict]:
        return {"scheme": self.schemes["name"].to_dict(),
                "provider": self.providers["name"].to_dict()}

    def scheme(self, sid: object) -> str:
        """'scheme S01 (Oakfield Court)', the way commissioners know it."""
        name = self._names["scheme"].get(sid)
        return f"scheme {sid} ({name})" if name is not None else f"scheme {sid}"

    def provider(self, pid: object) -> str:
        name = self._names["provider"].get(pid)
        return f"provider {pid} ({name})" if name is not None else f"provider {pid}"

    def passes(self, pid: object, floor: str) -> bool:
        return pid in self.providers.index and self.policy.passes(
            str(self.providers.at[pid, "cqc_rating"]), floor)

    def can_hold_block(self, pid: object, zone: object) -> bool:
        """Whether a provider could hold a block contract in a zone under the model's floors."""
        return (pid in self.providers.index and bool(self.providers.at[pid, "onsite_capable"])
                and (pid, zone) in self.serves and self.passes(pid, self.policy.cqc_floor)
                and self.passes(pid, self.policy.onsite_cqc_floor))

    def can_frame(self, pid: object, zone: object) -> bool:
        """Whether a provider could deliver framework care in a zone (zone served, CQC floor)."""
        return (pid, zone) in self.serves and self.passes(pid, self.policy.cqc_floor)


def _serves(providers: pd.DataFrame) -> set[tuple[str, str]]:
    return {(pid, zone.strip()) for pid, zones in providers["zones"].items()
            for zone in str(zones).split("|")}


def route_prices(routes: pd.DataFrame, packages: pd.DataFrame, providers: pd.DataFrame,
                 costs: dict[str, float], policy: Policy) -> pd.DataFrame:
    """Weekly price to the council, budget draw and paid hours of (resident, kind, provider).

    framework: carers x (minutes + travel) / 60 x the provider's rate for the visit's band;
    spot: carers x minutes / 60 x the on-site provider's rate (no travel); direct: package
    staff-hours x the direct-payment rate plus its weekly administration; block: nothing (the
    block contract pays). The budget draw is the price, less the administration of a direct
    payment (the council's own cost), and nothing under the block. Where the model pays on
    outcomes, framework and spot prices and paid hours are the expected ones (_on_outcomes)."""
    out = pd.DataFrame(index=routes.index)
    pkg = packages.reindex(routes["resident_id"])
    prov = providers.reindex(routes["provider_id"])
    hours = {b: pkg[f"hours_{b}"].to_numpy(dtype=float) for b in BANDS}
    calls = {b: pkg[f"visits_{b}"].to_numpy(dtype=float) for b in BANDS}
    rate = {b: prov[f"framework_rate_{b}"].to_numpy(dtype=float) for b in BANDS}
    travel = prov["travel_minutes_per_visit"].to_numpy(dtype=float) / 60.0
    total_hours = pkg["hours"].to_numpy(dtype=float)
    kind = routes["route_kind"].to_numpy()
    fw_price = sum(rate[b] * (hours[b] + calls[b] * travel) for b in BANDS)
    spot_price = sum(rate[b] * hours[b] for b in BANDS)
    admin = costs["direct_payment_admin_per_year"] / costs["weeks_per_year"]
    dp_draw = total_hours * costs["direct_payment_hourly_rate"]
    fw_paid = total_hours + sum(calls[b] for b in BANDS) * travel
    out["price"] = np.select([kind == "framework", kind == "spot", kind == "direct"],
                             [fw_price, spot_price, dp_draw + admin], 0.0)
    out["draw"] = np.select([kind == "framework", kind == "spot", kind == "direct"],
                            [fw_price, spot_price, dp_draw], 0.0)
    out["paid_hours"] = np.select([kind == "framework", kind == "spot"],
                                  [fw_paid, total_hours], 0.0)
    out["staff_hours"] = total_hours
    return _on_outcomes(out, kind, prov, policy, costs["weeks_per_year"])


def _on_outcomes(out: pd.DataFrame, kind: np.ndarray, prov: pd.DataFrame, policy: Policy,
                 weeks: float) -> pd.DataFrame:
    """Hourly care paid on outcomes (seed 004), in expectation: the council pays (1 - w) + w a
    of the price (w at risk, a the provider's achievement rate: outcome_achievement, else
    satisfaction / 100); reablement leaves 1 - rho a (none + reduced x reduction) (1 - weeks
    of reablement / weeks a year) of the hours; plus rho a none x bonus / weeks a year."""
    w, rho = policy.outcome_payment_share, policy.reablement_share
    if w == 0 and rho == 0:
        return out
    stated = pd.to_numeric(prov["outcome_achievement"], errors="coerce")
    a = stated.fillna(prov["satisfaction"] / 100.0).fillna(1.0).to_numpy(dtype=float)
    after = max(0.0, 1 - policy.reablement_weeks / weeks)
    kept = 1 - rho * a * (policy.reablement_no_care
                          + policy.reablement_reduced * policy.reablement_reduction) * after
    bonus = rho * a * policy.reablement_no_care * policy.reablement_bonus / weeks
    hourly = np.isin(kind, ["framework", "spot"])
    price = out["price"].to_numpy() * kept * ((1 - w) + w * a) + bonus
    out["price"] = np.where(hourly, price, out["price"])
    out["draw"] = np.where(hourly, price, out["draw"])
    out["paid_hours"] = np.where(hourly, out["paid_hours"].to_numpy() * kept, out["paid_hours"])
    return out


def _rota_slots(rota: pd.DataFrame, week: Week) -> pd.DataFrame:
    """Expand each readable rota row to the slots its shift covers (wrapping Sunday to Monday).

    A row starting at minute m of day d covers ``hours * 60 / slot_minutes`` consecutive slots
    from slot d * (1440 / slot_minutes) + m // slot_minutes."""
    at = _minutes_of_week(rota["day"], rota["start"])
    ok = at.notna() & (rota["hours"] > 0)
    rows = rota[ok]
    first = (at[ok] // week.slot_minutes).to_numpy(dtype=np.int64)
    count = np.ceil(rows["hours"].to_numpy() * 60 / week.slot_minutes).astype(np.int64)
    which = np.repeat(np.arange(len(rows)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return pd.DataFrame({
        "row": rows.index.to_numpy()[which],
        "scheme_id": rows["scheme_id"].to_numpy()[which],
        "provider_id": rows["provider_id"].to_numpy()[which],
        "staff": rows["staff"].to_numpy()[which],
        "slot": (first[which] + offset) % week.n_slots,
    })


def _holders(blocks: pd.DataFrame) -> dict[str, str]:
    """Scheme -> block holder; with two contracts at a scheme (itself reported) the first."""
    first = blocks.dropna(subset=["scheme_id"]).drop_duplicates("scheme_id")
    return dict(zip(first["scheme_id"], first["provider_id"], strict=True))


def _rates_under_policy(providers: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """A single hourly rate (seed 004, Bracknell Forest) replaces every provider's own hourly
    rates, so prices are recomputed at the rate the model file says the council pays."""
    if policy.single_framework_rate is None:
        return providers
    rate = float(policy.single_framework_rate)
    return providers.assign(**{f"framework_rate_{b}": rate for b in BANDS})


def build_context(folder: Path, data: Dataset, scenario: Scenario) -> Context:
    """Read the plan and recompute from the inputs every figure the rules need."""
    policy = scenario.policy
    week = Week(scenario.slot_minutes, policy.night_start_hour, policy.night_end_hour)
    bands = week.bands()
    tables = {name: read_plan_table(folder, name) for name in PLAN_COLUMNS}
    record = read_run_record(folder)
    visits = _visit_table(data, week, bands)
    packages = _packages(data, visits, scenario)
    providers = _rates_under_policy(data.providers.set_index("provider_id"), policy)
    alloc = tables["allocations"].copy()
    alloc = alloc.join(route_prices(alloc, packages, providers, data.costs, policy))
    blocks = tables["block_contracts"]
    return Context(
        data=data, scenario=scenario, week=week, bands=bands, tables=tables, record=record,
        schemes=data.schemes.set_index("scheme_id"), providers=providers,
        serves=_serves(providers), visits=visits, packages=packages,
        holders=_holders(blocks),
        admitted=set(tables["framework"]["provider_id"].dropna()),
        alloc=alloc, rota_slots=_rota_slots(tables["rota"], week),
    )


# --------------------------------------------------------------------------- helpers


def gbp(x: float) -> str:
    return f"GBP {x:,.2f}"


def _pct(share: float) -> str:
    return f"{100 * share:g} %"


def _cap(rule: str, problems: list[str]) -> list[str]:
    """At most MAX_PER_RULE sentences per rule, then a count of the rest."""
    if len(problems) <= MAX_PER_RULE:
        return problems
    rest = len(problems) - MAX_PER_RULE
    return problems[:MAX_PER_RULE] + [f"{rule}: ... and {rest} more problem(s) of this kind"]


def _route(row) -> str:
    """'framework route with provider P2' / 'direct payment' for an allocation row."""
    if row.route_kind == "direct":
        return "direct payment"
    return f"{row.route_kind} route with provider {row.provider_id}"


def _known_alloc(ctx: Context) -> pd.DataFrame:
    """Allocation rows of residents with a care package and a route kind the rules know."""
    a = ctx.alloc
    return a[a["resident_id"].isin(ctx.packages.index) & a["route_kind"].isin(ROUTE_KINDS)]


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
        if not policy.passes(p["cqc_rating"], floor):
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


def check_rota(ctx: Context) -> list[str]:
    """Rota rows only for the scheme's block holder, on the model's shift patterns, with a
    whole, non-negative number of staff."""
    rota, out = ctx.tables["rota"], []
    shifts = set(ctx.scenario.shifts.shift_list())
    listed = ", ".join(f"{s:02d}:00 for {h} h" for s, h in ctx.scenario.shifts.shift_list())
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


# --------------------------------------------------------------------------- 2. cover


def cover_table(ctx: Context) -> pd.DataFrame:
    """Staff on duty and staff required in every slot of every scheme, recomputed.

    Required = max(minimum staff, planned care + reserve, double-up carers + reserve); minimum
    and reserve apply only where the scheme has a block contract (there is no team otherwise)."""
    s = ctx.data.schemes
    n = ctx.week.n_slots
    night = ctx.bands == "night"
    night_min = np.where(s["lone_working_at_night"], s["night_min_staff"],
                         np.maximum(s["night_min_staff"], 2))
    tiers = _tiers(ctx)
    scale = (s["scheme_id"].map(tiers.groupby("scheme_id")["tier"].apply(lambda t: (t >= 2).mean()))
             .fillna(1.0) if tiers is not None else pd.Series(1.0, index=s.index))
    reserve = {band: np.array([
        reserve_staff(float(c), float(h), float(t), float(q)) for c, h, t, q in zip(
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


def _block_load(ctx: Context) -> tuple[pd.Series, pd.Series]:
    """Planned-care load of the on-site team and the largest double-up, per scheme and slot.

    Load counts each block visit's overlapping minutes x carers / slot length, times the share
    of the package under the block; a double-up (2+ carers) needs all its carers at once."""
    block = _known_alloc(ctx)
    block = block[block["route_kind"] == "block"].groupby("resident_id")["share"].sum()
    visits = ctx.visits[ctx.visits["resident_id"].isin(block.index)]
    parts = split_visits(visits, ctx.week)
    parts["scheme_id"] = parts["resident_id"].map(ctx.packages["scheme_id"])
    parts["load"] = parts["staff_minutes"] / ctx.week.slot_minutes * \
        parts["resident_id"].map(block)
    load = parts.groupby(["scheme_id", "slot"])["load"].sum()
    doubles = parts[parts["carers"] >= 2].groupby(["scheme_id", "slot"])["carers"].max()
    return load, doubles


def check_cover(ctx: Context) -> list[str]:
    """Enough staff on duty in every slot of every scheme with a block contract, and cover.csv
    agreeing with the rota and the rules."""
    grid = cover_table(ctx)
    short = grid[grid["scheme_id"].isin(ctx.holders)
                 & (grid["on_duty"] < grid["required"] - TOL)]
    out = []
    for row in short.itertuples():
        parts = f"minimum {row.min_staff:g}; planned care {row.planned_load:.2f} + reserve " \
                f"{row.reserve:g}"
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


def check_capacity(ctx: Context) -> list[str]:
    """No provider above its weekly capacity, nor above the market-share cap."""
    hours = provider_hours(ctx)
    cap = ctx.providers["weekly_capacity_hours"]
    out = []
    for pid, h in hours.items():
        if pid in cap.index and h > cap[pid] + TOL:
            out.append(f"capacity: {ctx.provider(pid)} supplies {h:.2f} hours a week, above its "
                       f"capacity of {cap[pid]:.2f}")
    share, total = ctx.policy.max_provider_share, float(hours.sum())
    if share < 1:
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
    rating = prov["cqc_rating"].replace("unrated", policy.unrated_as)
    quality = 100 * (rating.map(CQC_POINTS).to_numpy(dtype=float) / 4
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
    is full: its spare capacity is below the largest package it could be called off for. A
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
    largest = paid.groupby(candidates["provider_id"].to_numpy()).max()
    hours, cap = provider_hours(ctx), ctx.providers["weekly_capacity_hours"]
    full = {f for f in rank.index if hours.get(f, 0.0) >= cap[f] - largest.get(f, 0.0) - TOL}
    able = set(zip(candidates["resident_id"], candidates["provider_id"], strict=True))
    a = _known_alloc(ctx)
    a = a[(a["route_kind"] == "framework") & (a["share"] > SHARE_TOL)]
    out = _passed_over(ctx, rank)
    for row in a.itertuples():
        if row.provider_id == pk.at[row.resident_id, "preferred_provider"]:
            continue
        skipped = [f for f in rank.index if rank[f] < rank.get(row.provider_id, 0)
                   and f in ctx.admitted and (row.resident_id, f) in able and f not in full]
        if skipped:
            out.append(f"rank order: resident {row.resident_id} is called off to "
                       f"{ctx.provider(row.provider_id)} (rank {rank.get(row.provider_id)}), but "
                       f"better-ranked admitted {', '.join(skipped)} could take the package and "
                       "are not full")
    return out


# --------------------------------------------------------------------------- 9-10. choice, quality


def _allowed_within_cap(ctx: Context, routes: pd.DataFrame) -> np.ndarray:
    """Under individual budgets without splits a route above budget plus top-up is not allowed."""
    if not ctx.budget_filter or routes.empty:
        return np.ones(len(routes), dtype=bool)
    draw = route_prices(routes, ctx.packages, ctx.providers, ctx.costs, ctx.policy)["draw"]
    cap = ctx.packages["cap"].reindex(routes["resident_id"]).to_numpy()
    return draw.to_numpy() <= cap + TOL


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

    Eligible: some route with the provider is open to the resident by the static rules: on
    site (block or spot) if the provider could hold the scheme's block, framework if it serves
    the zone and passes the floor, within the budget cap where that rules routes out
    beforehand. A resident granted the direct payment they asked for chooses their own carers,
    so their preference is not counted as one the council must honour."""
    pk, policy = ctx.packages, ctx.policy
    pref = pk[pk["preference_strength"].isin(["weak", "strong"]) & pk["preferred_provider"].notna()]
    pref = pref[["scheme_id", "preferred_provider", "preference_strength", "zone"]].reset_index()
    pairs = list(zip(pref["preferred_provider"], pref["zone"], strict=True))
    onsite = np.array([ctx.can_hold_block(k, z) for k, z in pairs], dtype=bool)
    framed = np.array([ctx.can_frame(k, z) for k, z in pairs], dtype=bool)

    def within_cap(kind: str) -> np.ndarray:
        routes = pd.DataFrame({"resident_id": pref["resident_id"], "route_kind": kind,
                               "provider_id": pref["preferred_provider"]})
        return _allowed_within_cap(ctx, routes)

    pref["onsite_ok"] = (policy.allow_block_care & onsite) | (
        policy.allow_onsite_spot & onsite & within_cap("spot"))
    pref["framework_ok"] = policy.allow_framework & framed & within_cap("framework")
    pref["holds_block"] = pref["scheme_id"].map(ctx.holders) == pref["preferred_provider"]
    pref["eligible"] = (pref["onsite_ok"] | pref["framework_ok"]) & ~pref["resident_id"].isin(
        direct_payment_choices(ctx))
    a = ctx.alloc
    mine = a[a["provider_id"] == a["resident_id"].map(pk["preferred_provider"])]
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
    annual = lines.at[line, "annual_gbp"]
    if abs(annual - value * weeks) > MONEY_TOL * weeks:
        out.append(f"cost: line {line} is {gbp(annual)} a year in cost_lines.csv, but "
                   f"{gbp(value)} a week x {weeks:g} weeks is {gbp(value * weeks)}")
    return out


def _rota_row_costs(ctx: Context) -> list[str]:
    rota = ctx.tables["rota"]
    recomputed = rota_costs(ctx).reindex(rota.index)
    bad = recomputed.notna() & ((rota["weekly_cost"] - recomputed).abs() > MONEY_TOL)
    rows = rota[bad].assign(rates=recomputed[bad])
    return [f"cost: rota row {row.Index + 2} ({row.scheme_id}, {row.provider_id}, {row.day} "
            f"{row.start}, {row.hours:g} h x {row.staff:g} staff) costs {gbp(row.weekly_cost)} "
            f"in rota.csv, but the block rates give {gbp(row.rates)}" for row in rows.itertuples()]


# --------------------------------------------------------------------------- entry points

# The rule families in the order docs/model.md lists them; each returns sentences that start
# with their rule's name ("cover:", "budget:" ...).
RULES: tuple[Callable[[Context], list[str]], ...] = (
    check_blocks, check_rota, check_cover, check_allocation, check_routes, check_prices,
    check_budgets, check_pooled_cover, check_capacity, check_framework, check_rank_order,
    check_choice, check_quality, check_costs,
)


def _by_rule(problems: Iterable[str]) -> dict[str, list[str]]:
    """Group sentences by their rule prefix so each rule is capped on its own."""
    groups: dict[str, list[str]] = {}
    for problem in problems:
        groups.setdefault(problem.split(":", 1)[0], []).append(problem)
    return groups


def verify_run(folder: Path, data: Dataset, scenario: Scenario) -> list[str]:
    """Every rule the written plan in ``folder`` breaks (empty list: the plan holds)."""
    ctx = build_context(Path(folder), data, scenario)
    problems: list[str] = []
    for rule in RULES:
        for name, group in _by_rule(rule(ctx)).items():
            problems += _cap(name, group)
    return problems


def verify_folder(run_dir: Path, model_file: Path | None = None) -> list[str]:
    """Re-check a run folder against its recorded scenario (or a given model file) and the
    dataset on disk, reporting first any input file changed since the plan was made."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError([f"run folder {run_dir} does not exist"])
    record = read_run_record(run_dir)
    if model_file is not None:
        scenario = load_scenario(model_file)
    else:
        if "scenario" not in record:
            raise InputError(["run.json: has no 'scenario'; give the model file with --model"])
        try:
            scenario = Scenario.model_validate(record["scenario"])
        except ValueError as exc:
            raise InputError([f"run.json: the recorded scenario is not valid ({exc})"]) from None
    data = load_dataset(scenario.dataset)
    return _changed_inputs(data, record) + verify_run(run_dir, data, scenario)


def _changed_inputs(data: Dataset, record: dict) -> list[str]:
    """Input files whose SHA-256 differs from the one recorded when the plan was made."""
    recorded = record.get("input_checksums_sha256")
    if not isinstance(recorded, dict):
        return ["input: run.json records no input checksums; cannot tell whether the input "
                "changed since the plan was made"]
    return [f"input changed since the plan was made: {name}" for name in sorted(data.checksums)
            if recorded.get(name) != data.checksums[name]]
