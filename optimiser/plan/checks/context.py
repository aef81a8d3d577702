"""Reading a written plan and re-deriving, from the input tables alone, the week's slots,
visits, packages and route prices every rule family checks against."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.inputs.config import Policy, Scenario
from optimiser.inputs.load import Dataset, InputError
from optimiser.inputs.schema import DAYS

BANDS: tuple[str, ...] = ("day", "night", "weekend")
ROUTE_KINDS: tuple[str, ...] = ("block", "spot", "framework", "direct")
# CQC ratings as points: a provider passes a floor if its points are at least the floor's.
RATING_POINTS: dict[str, int] = {
    "outstanding": 4, "good": 3, "requires_improvement": 2, "inadequate": 1}
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
    folder: Path | None = None  # the run folder, for the tables only rule family 12 reads

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
        return pid in self.providers.index and rating_passes(
            str(self.providers.at[pid, "cqc_rating"]), floor, self.policy.unrated_as)

    def can_hold_block(self, pid: object, zone: object) -> bool:
        """Whether a provider could hold a block contract in a zone under the model's floors."""
        return (pid in self.providers.index and bool(self.providers.at[pid, "onsite_capable"])
                and (pid, zone) in self.serves and self.passes(pid, self.policy.cqc_floor)
                and self.passes(pid, self.policy.onsite_cqc_floor))

    def can_frame(self, pid: object, zone: object) -> bool:
        """Whether a provider could deliver framework care in a zone (zone served, CQC floor)."""
        return (pid, zone) in self.serves and self.passes(pid, self.policy.cqc_floor)


def rating_points(rating: str, unrated_as: str) -> int:
    """A rating's points; a provider not yet rated scores as the model says (0 if excluded)."""
    if rating == "unrated":
        rating = unrated_as
    return RATING_POINTS.get(rating, 0)


def rating_passes(rating: str, floor: str, unrated_as: str) -> bool:
    """Whether a CQC rating meets a floor; an excluded unrated provider meets none."""
    return rating_points(rating, unrated_as) >= RATING_POINTS[floor]


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
        alloc=alloc, rota_slots=_rota_slots(tables["rota"], week), folder=folder,
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


