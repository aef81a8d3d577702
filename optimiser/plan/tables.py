"""Plan tables: the solved model turned into the tidy tables a commissioner reads.

Only the decisions are read from Pyomo (awards, rota, admissions, routes); every derived figure
(cover per slot, costs per line) is recomputed here from those decisions and the input rates, so
the tables agree with the independent checker in :mod:`optimiser.plan.checks` by construction of the
data, not by trusting the solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimiser.inputs.params import Params, cover_hours
from optimiser.inputs.routes import ROUTE_LABELS
from optimiser.inputs.schema import DAYS
from optimiser.model.objective import COST_LINES, cash_allocations
from optimiser.solving.highs import SolveResult

SHARE_EPS = 1e-6

# The headline figures (summary.csv metrics) that comparisons and sweeps report, in order.
HEADLINE_FIGURES: tuple[str, ...] = (
    "schemes_with_block",
    "block_staff_hours_per_week",
    "onsite_share_of_planned_care",
    "framework_providers",
    "direct_payments",
    "night_cover_cost_per_flat_per_week",
    "preferences_stated",
    "preferences_honoured",
    "mean_satisfaction",
    "providers_per_scheme",
)


@dataclass
class Plan:
    """All plan tables of one run."""

    summary: pd.DataFrame
    cost_lines: pd.DataFrame
    block_contracts: pd.DataFrame
    rota: pd.DataFrame
    cover: pd.DataFrame
    framework: pd.DataFrame
    allocations: pd.DataFrame
    providers: pd.DataFrame
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)  # model-specific tables

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__
               if name != "extras"}
        return out | self.extras


def _values(var: pyo.Var) -> pd.Series:
    keys = list(var.keys())
    vals = [0.0 if var[k].value is None else float(var[k].value) for k in keys]
    return pd.Series(vals, index=pd.Index(keys, tupleize_cols=False), dtype=float)


def _holders(m: pyo.ConcreteModel) -> pd.DataFrame:
    award = _values(m.award)
    won = [key for key, v in award.items() if v > 0.5]
    return pd.DataFrame(won, columns=["scheme_id", "provider_id"])


def _rota(m: pyo.ConcreteModel, p: Params) -> pd.DataFrame:
    staff = _values(m.staff)
    staff = staff[staff > 0.5]
    rows = pd.DataFrame(list(staff.index), columns=["scheme_id", "pattern"])
    rows["staff"] = np.round(staff.to_numpy()).astype(int)
    rows = rows.merge(_holders(m), on="scheme_id")
    rows = rows.merge(p.patterns, on="pattern").merge(p.pattern_cost, on=["provider_id", "pattern"])
    rows["day"] = rows["day"].map(dict(enumerate(DAYS)))
    rows["start"] = rows["start_hour"].map(lambda h: f"{int(h):02d}:00")
    rows["staff_hours"] = rows["staff"] * rows["hours"]
    rows["weekly_cost"] = rows["staff"] * rows["cost"]
    for band in ("day", "night", "weekend"):
        rows[f"{band}_hours"] = rows[f"{band}_hours"] * rows["staff"]
    cols = ["scheme_id", "provider_id", "pattern", "day", "start", "hours", "staff",
            "staff_hours", "day_hours", "night_hours", "weekend_hours", "weekly_cost"]
    return rows[cols].sort_values(["scheme_id", "pattern"]).reset_index(drop=True)


def _allocations(m: pyo.ConcreteModel, p: Params) -> pd.DataFrame:
    share = _values(m.care)
    routes = p.routes.assign(share=share.reindex(p.routes["route"]).to_numpy())
    chosen = routes[routes["share"] > SHARE_EPS].copy()
    block = chosen["kind"] == "block"
    if block.any():  # care under the block is delivered by whoever holds the contract
        holder = _holders(m).set_index("scheme_id")["provider_id"]
        chosen["provider_id"] = chosen["provider_id"].astype(object)
        chosen.loc[block, "provider_id"] = chosen.loc[block, "scheme_id"].map(holder)
        sat = p.providers.set_index("provider_id")["satisfaction"]
        chosen.loc[block, "satisfaction"] = chosen.loc[block, "provider_id"].map(sat)
    chosen["preferred"] = chosen["provider_id"].notna() & (
        chosen["provider_id"] == chosen["preferred_provider"]
    )
    chosen["share"] = chosen["share"].round(6)
    chosen["route_kind"] = chosen["kind"]
    chosen["route_description"] = chosen["kind"].map(ROUTE_LABELS)
    chosen["weekly_cost"] = chosen["price"] * chosen["share"]
    chosen["budget_draw"] = chosen["budget_price"] * chosen["share"]
    budget = p.packages.set_index("resident_id")["weekly_budget"]
    chosen["weekly_budget"] = chosen["resident_id"].map(budget)
    chosen["package_hours"] = chosen["hours"].round(4)
    chosen["preference_honoured"] = np.where(
        chosen["preferred_provider"].isna(), "", np.where(chosen["preferred"], "yes", "no"))
    cols = ["resident_id", "scheme_id", "route_kind", "route_description", "provider_id",
            "share", "package_hours", "weekly_cost", "budget_draw", "weekly_budget",
            "preferred_provider", "preference_strength", "preference_honoured",
            "wants_direct_payment", "satisfaction"]
    return chosen[cols].sort_values(["resident_id", "route_kind", "provider_id"],
                                    na_position="first").reset_index(drop=True)


def _cover(p: Params, rota: pd.DataFrame, allocations: pd.DataFrame,
           awarded: set[str]) -> pd.DataFrame:
    """Required and on-duty staff in every slot, recomputed from the plan's decisions."""
    on = rota.merge(p.pattern_slots, on="pattern").groupby(["scheme_id", "slot"])["staff"].sum()
    block = allocations[allocations["route_kind"] == "block"][["resident_id", "scheme_id", "share"]]
    load = block.merge(p.load, on="resident_id")
    doubles = load[load["carers"] >= 2].groupby(["scheme_id", "slot"])["carers"].max()
    busy = block.merge(p.peaks, on=["resident_id", "scheme_id"])
    busy["busy"] = busy["carers"] * busy["share"]
    planned = (busy.groupby(["scheme_id", "slot", "instant"])["busy"].sum()
               .groupby(level=["scheme_id", "slot"]).max())
    cover = p.cover.copy()
    key = pd.MultiIndex.from_frame(cover[["scheme_id", "slot"]])
    has_block = cover["scheme_id"].isin(awarded)
    cover["planned_load"] = planned.reindex(key, fill_value=0.0).to_numpy(dtype=float).round(4)
    cover["min_staff"] = np.where(has_block, cover["min_staff"], 0)
    cover["reserve"] = np.where(has_block, cover["reserve"], 0)
    cover["double_up_carers"] = doubles.reindex(key, fill_value=0).to_numpy().astype(int)
    check_load = (p.tier_load.set_index(["scheme_id", "slot"])["load"]
                  if not p.tier_load.empty else pd.Series(dtype=float))
    cover["check_visits"] = np.where(
        has_block, check_load.reindex(key, fill_value=0.0).to_numpy(), 0.0).round(4)
    cover["required"] = np.maximum.reduce([
        cover["min_staff"], cover["planned_load"] + cover["reserve"] + cover["check_visits"],
        np.where(cover["double_up_carers"] > 0, cover["double_up_carers"] + cover["reserve"], 0)])
    cover["on_duty"] = on.reindex(key, fill_value=0).to_numpy().astype(int)
    cover["slack"] = (cover["on_duty"] - cover["required"]).round(4)
    slots = p.slots.set_index("slot")
    cover["day"] = cover["slot"].map(slots["day"]).map(dict(enumerate(DAYS)))
    cover["time"] = [f"{h:02d}:{mi:02d}" for h, mi in zip(
        cover["slot"].map(slots["hour"]), cover["slot"].map(slots["minute"]), strict=True)]
    cover["band"] = cover["slot"].map(slots["band"])
    cols = ["scheme_id", "slot", "day", "time", "band", "min_staff", "planned_load",
            "double_up_carers", "reserve", "check_visits", "required", "on_duty", "slack"]
    return cover[cols]


def _block_contracts(m: pyo.ConcreteModel, p: Params, rota: pd.DataFrame,
                     allocations: pd.DataFrame) -> pd.DataFrame:
    frame = _holders(m).merge(p.block_pairs[["scheme_id", "provider_id", "min_hours", "mgmt_cost"]],
                        on=["scheme_id", "provider_id"])
    hours = rota.groupby(["scheme_id", "provider_id"])[
        ["staff_hours", "day_hours", "night_hours", "weekend_hours", "weekly_cost"]].sum()
    frame = frame.join(hours, on=["scheme_id", "provider_id"]).fillna(0.0)
    onsite = allocations[allocations["route_kind"].isin(["block", "spot"])]
    counts = onsite.groupby(["scheme_id", "route_kind"])["share"].sum().unstack(fill_value=0)
    for kind in ("block", "spot"):
        col = counts[kind] if kind in counts else pd.Series(dtype=float)
        frame[f"residents_{kind}"] = frame["scheme_id"].map(col).fillna(0).round(3)
    schemes = p.data.schemes.set_index("scheme_id")
    names = p.data.providers.set_index("provider_id")["name"]
    frame.insert(1, "scheme_name", frame["scheme_id"].map(schemes["name"]))
    frame.insert(2, "zone", frame["scheme_id"].map(schemes["zone"]))
    frame.insert(4, "provider_name", frame["provider_id"].map(names))
    frame = frame.rename(columns={"staff_hours": "weekly_staff_hours", "min_hours":
                                  "min_block_hours", "weekly_cost": "weekly_staff_cost",
                                  "mgmt_cost": "weekly_management_cost"})
    return frame.sort_values("scheme_id").reset_index(drop=True)


def _framework(m: pyo.ConcreteModel, p: Params, allocations: pd.DataFrame) -> pd.DataFrame:
    admit = _values(m.admit)
    fw = p.framework.assign(admitted=admit.reindex(p.framework["provider_id"]).fillna(0).to_numpy())
    fw = fw[fw["admitted"] > 0.5].copy()
    used = allocations[allocations["route_kind"] == "framework"].copy()
    paid = p.routes.set_index("route")["paid_hours"]
    used = used.merge(p.routes[["resident_id", "provider_id", "kind", "route"]].rename(
        columns={"kind": "route_kind"}), on=["resident_id", "provider_id", "route_kind"])
    used["paid_hours"] = used["route"].map(paid) * used["share"]
    agg = used.groupby("provider_id").agg(residents=("share", "sum"),
                                          weekly_paid_hours=("paid_hours", "sum"),
                                          weekly_care_cost=("weekly_cost", "sum"))
    fw = fw.join(agg, on="provider_id").fillna({"residents": 0, "weekly_paid_hours": 0,
                                                 "weekly_care_cost": 0})
    prov = p.providers.set_index("provider_id")
    fw.insert(1, "provider_name", fw["provider_id"].map(prov["name"]))
    fw["cqc_rating"] = fw["provider_id"].map(prov["cqc_rating"])
    fw["weekly_fixed_cost"] = fw["framework_fixed_cost"].round(2)
    cols = ["provider_id", "provider_name", "zones", "cqc_rating", "residents",
            "weekly_paid_hours", "weekly_care_cost", "weekly_fixed_cost"]
    return fw[cols].sort_values("provider_id").reset_index(drop=True)


def _commissioned(p: Params, allocations: pd.DataFrame, blocks: pd.DataFrame) -> pd.Series:
    """Hours commissioned from each provider by need (docs/model.md, commissioned hours): the
    cover hours of each scheme it holds and the contact hours of the care under its block, plus
    the paid hours of packages bought by the hour."""
    cover = pd.Series(cover_hours(p))
    holder = blocks.set_index("scheme_id")["provider_id"]
    under = allocations[allocations["route_kind"] == "block"]
    contact = (under["package_hours"] * under["share"]).groupby(under["scheme_id"]).sum()
    held = cover.reindex(holder.index, fill_value=0.0).add(
        contact.reindex(holder.index, fill_value=0.0))
    return held.groupby(holder).sum()


def _providers(p: Params, rota: pd.DataFrame, allocations: pd.DataFrame,
               blocks: pd.DataFrame) -> pd.DataFrame:
    """Hours each provider supplies against its capacity, and its share of the hours
    commissioned (the market-share rule's measure: by need, not by rota)."""
    block = rota.groupby("provider_id")["staff_hours"].sum().rename("block_staff_hours")
    paid = allocations[allocations["route_kind"].isin(["spot", "framework"])].merge(
        p.routes[["resident_id", "provider_id", "kind", "paid_hours"]].rename(
            columns={"kind": "route_kind"}), on=["resident_id", "provider_id", "route_kind"])
    paid["hours"] = paid["paid_hours"] * paid["share"]
    package = paid.groupby("provider_id")["hours"].sum().rename("package_paid_hours")
    frame = pd.concat([block, package], axis=1).fillna(0.0)
    frame["total_hours"] = frame.sum(axis=1)
    frame = frame[frame["total_hours"] > 0]
    cap = p.providers.set_index("provider_id")["weekly_capacity_hours"]
    frame["weekly_capacity_hours"] = cap.reindex(frame.index)
    commissioned = _commissioned(p, allocations, blocks).add(
        package.reindex(frame.index, fill_value=0.0), fill_value=0.0)
    frame["commissioned_hours"] = commissioned.reindex(frame.index, fill_value=0.0)
    total = frame["commissioned_hours"].sum()
    frame["market_share"] = (frame["commissioned_hours"] / total).round(6) if total else 0.0
    frame.index.name = "provider_id"
    return frame.reset_index().sort_values("provider_id").reset_index(drop=True)


def cost_lines(plan_parts: dict[str, pd.DataFrame], p: Params) -> pd.DataFrame:
    """Weekly and annual cost per line, recomputed from the plan tables and input rates."""
    alloc = plan_parts["allocations"]
    blocks = plan_parts["block_contracts"]
    by_kind = alloc.groupby("route_kind")["weekly_cost"].sum()
    active = set(zip(alloc.loc[alloc["provider_id"].notna(), "scheme_id"],
                     alloc.loc[alloc["provider_id"].notna(), "provider_id"], strict=True))
    active |= set(zip(blocks["scheme_id"], blocks["provider_id"], strict=True))
    weekly = {
        "onsite_staff": plan_parts["rota"]["weekly_cost"].sum(),
        "block_management": blocks["weekly_management_cost"].sum(),
        "onsite_spot": by_kind.get("spot", 0.0),
        "framework_care": by_kind.get("framework", 0.0),
        # Unrounded per provider: the table shows pennies, the line must add up to the rates.
        "framework_fixed": p.framework.set_index("provider_id")["framework_fixed_cost"]
        .reindex(plan_parts["framework"]["provider_id"]).sum(),
        "direct_payments": by_kind.get("direct", 0.0),
        "coordination": len(active) * p.costs["coordination_per_provider_scheme_per_week"],
        "cash_allocations": cash_allocations(p),
    }
    frame = pd.DataFrame({
        "line": list(COST_LINES),
        "description": list(COST_LINES.values()),
        "weekly_gbp": [round(float(weekly[k]), 2) for k in COST_LINES],
    })
    # The total is the exact sum rounded once, not the sum of rounded lines (whose rounding
    # errors add up and, times the weeks of a year, would move the annual total by pounds).
    total = pd.DataFrame({"line": ["total"], "description": ["Total"],
                          "weekly_gbp": [round(sum(float(weekly[k]) for k in COST_LINES), 2)]})
    frame = pd.concat([frame, total], ignore_index=True)
    frame["annual_gbp"] = (frame["weekly_gbp"] * p.weeks_per_year).round(2)
    return frame


def headline(plan_parts: dict[str, pd.DataFrame], p: Params) -> dict[str, float]:
    """The figures a commissioner asks for first."""
    alloc = plan_parts["allocations"]
    hours = alloc["package_hours"] * alloc["share"]
    onsite = alloc["route_kind"].isin(["block", "spot"])
    stated_pref = alloc[alloc["preferred_provider"].notna()].groupby("resident_id")
    honoured = stated_pref.apply(lambda g: (g["share"] * (g["preference_honoured"] == "yes"))
                                 .sum()).sum() if len(stated_pref) else 0.0
    n_pref = stated_pref.ngroups
    blocks = plan_parts["block_contracts"]
    flats = p.data.schemes.set_index("scheme_id")["flats"]
    night_cost = blocks["night_hours"] @ blocks["provider_id"].map(
        p.data.providers.set_index("provider_id")["block_rate_night"]).fillna(0) if len(blocks) \
        else 0.0
    covered_flats = flats.reindex(blocks["scheme_id"]).sum() if len(blocks) else 0
    per_scheme = alloc[alloc["provider_id"].notna()].groupby("scheme_id")["provider_id"].nunique()
    return {
        "schemes": len(p.data.schemes),
        "schemes_with_block": len(blocks),
        "residents_with_care": len(p.packages),
        "package_hours_per_week": round(float(p.packages["hours"].sum()), 2),
        "block_staff_hours_per_week": round(float(blocks["weekly_staff_hours"].sum()), 2)
        if len(blocks) else 0.0,
        "onsite_share_of_planned_care": round(float(hours[onsite].sum() / hours.sum()), 4)
        if hours.sum() else 0.0,
        "framework_providers": len(plan_parts["framework"]),
        "direct_payments": round(float(alloc.loc[alloc["route_kind"] == "direct", "share"].sum()),
                                 3),
        "night_cover_cost_per_flat_per_week": round(float(night_cost / covered_flats), 2)
        if covered_flats else 0.0,
        "preferences_stated": n_pref,
        "preferences_eligible": _eligible_preferences(p),
        "preferences_honoured": round(float(honoured), 3),
        "mean_satisfaction": round(float((hours * alloc["satisfaction"]).sum() / hours.sum()), 2)
        if hours.sum() else 0.0,
        "providers_per_scheme": round(float(per_scheme.mean()), 3) if len(per_scheme) else 0.0,
    }


def _eligible_preferences(p: Params) -> int:
    """Residents whose named provider could serve them (affordably) under this model, leaving
    out those who take a direct payment: the preferences the choice rules speak of."""
    routes = p.routes
    eligible = set(routes.loc[routes["preferred"], "resident_id"])
    candidates = set(p.block_pairs[["scheme_id", "provider_id"]].itertuples(index=False,
                                                                            name=None))
    has_block = set(routes.loc[routes["kind"] == "block", "resident_id"])
    asked = p.packages[p.packages["preferred_provider"].notna()]
    eligible |= {r for r, s, k in asked[["resident_id", "scheme_id", "preferred_provider"]]
                 .itertuples(index=False, name=None) if r in has_block and (s, k) in candidates}
    direct = routes[(routes["kind"] == "direct") & routes["wants_direct_payment"]]
    return len(eligible - set(direct["resident_id"]))


TIER_NAMES: dict[int, str] = {
    1: "1* monitoring only (alarm goes to a key holder)",
    2: "2* emergency response",
    3: "3* emergency response and a monthly visit",
    4: "4* emergency response and a weekly visit",
    5: "5* emergency response and a daily visit",
}


def tier_table(p: Params, blocks: pd.DataFrame) -> pd.DataFrame:
    """What each support tier is, who is on it and what its check visits cost: check hours at
    the on-site holder's weekday daytime staff rate (the visits are made 10:00 to 16:00)."""
    t = p.tiers.copy()
    holder = blocks.set_index("scheme_id")["provider_id"]
    rate = p.data.providers.set_index("provider_id")["block_rate_day"]
    t["rate"] = t["scheme_id"].map(holder).map(rate).fillna(0.0)
    t["cost"] = t["check_hours"] * t["rate"]
    out = t.groupby("tier").agg(residents=("resident_id", "size"),
                                emergency_response=("emergency_response", "first"),
                                check_visits_per_week=("check_visits", "sum"),
                                check_hours_per_week=("check_hours", "sum"),
                                weekly_check_cost=("cost", "sum")).reset_index()
    out.insert(1, "description", out["tier"].map(TIER_NAMES))
    for col in ("check_visits_per_week", "check_hours_per_week", "weekly_check_cost"):
        out[col] = out[col].round(2)
    return out


def ranking_table(m: pyo.ConcreteModel, p: Params, framework: pd.DataFrame) -> pd.DataFrame:
    """The framework ranking with who was admitted, how much work each got and whether each
    provider was full (which is what lets work pass down the ranking)."""
    r = p.ranking.copy()
    names = p.data.providers.set_index("provider_id")["name"]
    r.insert(1, "provider_name", r["provider_id"].map(names))
    used = framework.set_index("provider_id")
    r["admitted"] = r["provider_id"].isin(used.index)
    r["residents"] = r["provider_id"].map(used["residents"]).fillna(0.0)
    r["weekly_paid_hours"] = r["provider_id"].map(used["weekly_paid_hours"]).fillna(0.0)
    full = _values(m.full) if hasattr(m, "full") else pd.Series(dtype=float)
    # Full for at least one resident's package (the call-off rule is per resident).
    r["full"] = r["provider_id"].isin({f for (_, f), v in full.items() if v > 0.5})
    for col in ("price", "price_score", "quality_score", "score", "weekly_paid_hours"):
        r[col] = r[col].round(2)
    return r


def _extras(m: pyo.ConcreteModel, p: Params, parts: dict[str, pd.DataFrame]
            ) -> dict[str, pd.DataFrame]:
    extras = {}
    if not p.tiers.empty:
        extras["tiers"] = tier_table(p, parts["block_contracts"])
    if not p.ranking.empty:
        extras["ranking"] = ranking_table(m, p, parts["framework"])
    return extras


def extract_plan(m: pyo.ConcreteModel, p: Params, result: SolveResult) -> Plan:
    """Build every plan table from the solved model."""
    rota = _rota(m, p)
    allocations = _allocations(m, p)
    blocks = _block_contracts(m, p, rota, allocations)
    parts = {
        "rota": rota,
        "allocations": allocations,
        "block_contracts": blocks,
        "framework": _framework(m, p, allocations),
        "cover": _cover(p, rota, allocations, set(blocks["scheme_id"])),
        "providers": _providers(p, rota, allocations, blocks),
    }
    lines = cost_lines(parts, p)
    heads = headline(parts, p)
    summary = _summary(result, lines, heads, p)
    extras = {name: with_names(frame, p) for name, frame in _extras(m, p, parts).items()}
    parts = {name: with_names(frame, p) for name, frame in parts.items()}
    return Plan(summary=summary, cost_lines=lines, extras=extras, **parts)


def with_names(frame: pd.DataFrame, p: Params) -> pd.DataFrame:
    """Names beside ids: scheme_name after scheme_id, provider_name after provider_id and
    preferred_provider_name after preferred_provider, where a table has the id only."""
    out = frame.copy()
    schemes = p.data.schemes.set_index("scheme_id")["name"]
    providers = p.data.providers.set_index("provider_id")["name"]
    for id_col, name_col, names in (("scheme_id", "scheme_name", schemes),
                                    ("provider_id", "provider_name", providers),
                                    ("preferred_provider", "preferred_provider_name", providers)):
        if id_col in out.columns and name_col not in out.columns:
            out.insert(out.columns.get_loc(id_col) + 1, name_col, out[id_col].map(names))
    return out


def _summary(result: SolveResult, lines: pd.DataFrame, heads: dict[str, float],
             p: Params) -> pd.DataFrame:
    total = float(lines.loc[lines["line"] == "total", "weekly_gbp"].iloc[0])
    rows = [
        ("model", p.scenario.name, ""),
        ("status", result.describe(), ""),
        ("gap", "" if result.gap is None else round(result.gap, 6), "share"),
        ("weekly_cost", round(total, 2), "GBP/week"),
        ("annual_cost", round(total * p.weeks_per_year, 2), "GBP/year"),
        ("solver_objective", round(result.objective or 0.0, 2), "GBP/week"),
        ("solver_bound", "" if result.bound is None else round(result.bound, 2), "GBP/week"),
    ]
    rows += [(k, v, "") for k, v in heads.items()]
    return pd.DataFrame(rows, columns=["metric", "value", "unit"])
