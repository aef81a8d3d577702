"""`optimiser diff RUN_A RUN_B`: what changed between two plans, in words and as tables.

Both plans are read from their run folders as written (the CSV tables and run.json): cost
lines, block contracts that changed hands or size, framework providers in and out, residents
whose provider or route changed (counts, and the list by pseudonymous id), preferences
honoured and the quality figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from optimiser.plan.report import Run

FIGURES: tuple[tuple[str, str, str], ...] = (
    # (summary metric, words, format)
    ("schemes_with_block", "Schemes with a block contract", ",.0f"),
    ("block_staff_hours_per_week", "Block staff-hours a week", ",.0f"),
    ("onsite_share_of_planned_care", "On-site share of planned care", "pct"),
    ("framework_providers", "Framework providers", ",.0f"),
    ("direct_payments", "Direct payments", "g"),
    ("preferences_honoured", "Preferences honoured", "g"),
    ("mean_satisfaction", "Satisfaction, hours-weighted (0-100)", ".2f"),
    ("providers_per_scheme", "Providers active per scheme", ".2f"),
    ("night_cover_cost_per_flat_per_week", "Night cover per flat a week (GBP)", ",.2f"),
)


@dataclass
class PlanDiff:
    a: str
    b: str
    costs: pd.DataFrame
    blocks: pd.DataFrame
    framework_in: list[str]
    framework_out: list[str]
    residents: pd.DataFrame
    figures: pd.DataFrame
    words: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"cost_lines": self.costs, "block_contracts": self.blocks,
                "residents": self.residents, "figures": self.figures}


def _money(x: float) -> str:
    return f"GBP {abs(x):,.0f}"


def _signed(x: float) -> str:
    if abs(x) < 0.5:
        return "0"
    return ("+" if x > 0 else "-") + f"{abs(x):,.0f}"


def _fmt(value: float, fmt: str) -> str:
    if value != value:
        return "-"
    if fmt == "pct":
        return f"{100 * value:.0f} %"
    return format(value, fmt)


def _cost_table(a: Run, b: Run) -> pd.DataFrame:
    la, lb = a.lines(), b.lines()
    lines = list(dict.fromkeys([*la["line"], *lb["line"]]))
    desc = dict(zip(la["line"], la["description"], strict=True)) | dict(
        zip(lb["line"], lb["description"], strict=True))
    ya = la.set_index("line")["annual_gbp"]
    yb = lb.set_index("line")["annual_gbp"]
    frame = pd.DataFrame({"line": lines, "description": [desc[x] for x in lines]})
    frame["annual_a"] = [float(ya.get(x, 0.0)) for x in lines]
    frame["annual_b"] = [float(yb.get(x, 0.0)) for x in lines]
    frame["change"] = (frame["annual_b"] - frame["annual_a"]).round(2)
    keep = (frame["annual_a"].abs() >= 0.5) | (frame["annual_b"].abs() >= 0.5) | (
        frame["line"] == "total")
    return frame[keep].reset_index(drop=True)


def _block_table(a: Run, b: Run) -> pd.DataFrame:
    cols = ["scheme_id", "scheme_name", "provider_id", "provider_name", "weekly_staff_hours"]
    ba = a.table("block_contracts")
    bb = b.table("block_contracts")
    ba = ba[cols] if len(ba) else pd.DataFrame(columns=cols)
    bb = bb[cols] if len(bb) else pd.DataFrame(columns=cols)
    m = ba.merge(bb, on="scheme_id", how="outer", suffixes=("_a", "_b")).sort_values("scheme_id")
    m["scheme_name"] = m["scheme_name_a"].fillna(m["scheme_name_b"])
    ha = m["weekly_staff_hours_a"].astype(float)
    hb = m["weekly_staff_hours_b"].astype(float)
    pa, pb = m["provider_id_a"].fillna(""), m["provider_id_b"].fillna("")
    change = []
    for x, y, h1, h2 in zip(pa, pb, ha, hb, strict=True):
        if not x:
            change.append("new block")
        elif not y:
            change.append("block ended")
        elif x != y:
            change.append("changed hands")
        elif abs((h1 if h1 == h1 else 0) - (h2 if h2 == h2 else 0)) > 1e-6:
            change.append("changed size")
        else:
            change.append("unchanged")
    m["change"] = change
    m["hours_change"] = (hb.fillna(0) - ha.fillna(0)).round(4)
    return m[["scheme_id", "scheme_name", "provider_id_a", "provider_name_a",
              "weekly_staff_hours_a", "provider_id_b", "provider_name_b",
              "weekly_staff_hours_b", "hours_change", "change"]].reset_index(drop=True)


def _who(alloc: pd.DataFrame) -> pd.DataFrame:
    """Per resident: route(s) and provider(s), as text (a split lists each part)."""
    if alloc.empty:
        return pd.DataFrame(columns=["route", "provider"])
    alloc = alloc.sort_values(["resident_id", "route_kind"])
    provider = alloc["provider_id"].fillna("")
    parts = alloc.assign(provider=provider, share_text=alloc["share"].map(
        lambda s: "" if float(s) >= 1 - 1e-6 else f" ({100 * float(s):.0f} %)"))
    grouped = parts.groupby("resident_id")
    return pd.DataFrame({
        "route": grouped.apply(lambda g: " + ".join(g["route_kind"] + g["share_text"]),
                               include_groups=False),
        "provider": grouped.apply(lambda g: " + ".join(p or "-" for p in g["provider"]),
                                  include_groups=False),
        "scheme_id": grouped["scheme_id"].first(),
    })


def _resident_table(a: Run, b: Run) -> pd.DataFrame:
    wa, wb = _who(a.table("allocations")), _who(b.table("allocations"))
    m = wa.merge(wb, left_index=True, right_index=True, how="outer", suffixes=("_a", "_b"))
    m["scheme_id"] = m["scheme_id_a"].fillna(m["scheme_id_b"])
    m = m[(m["route_a"] != m["route_b"]) | (m["provider_a"] != m["provider_b"])].copy()
    m["change"] = [
        "provider and route" if ra != rb and pa != pb else "route" if ra != rb else "provider"
        for ra, rb, pa, pb in zip(m["route_a"], m["route_b"], m["provider_a"], m["provider_b"],
                                  strict=True)]
    m.index.name = "resident_id"
    return m.reset_index()[["resident_id", "scheme_id", "route_a", "provider_a", "route_b",
                            "provider_b", "change"]].sort_values("resident_id").reset_index(
        drop=True)


def _figure_table(a: Run, b: Run) -> pd.DataFrame:
    rows = []
    for metric, words, fmt in FIGURES:
        x, y = a.figure(metric, float("nan")), b.figure(metric, float("nan"))
        rows.append({"metric": metric, "figure": words, "a": x, "b": y,
                     "change": round(y - x, 6) if x == x and y == y else float("nan"),
                     "format": fmt})
    return pd.DataFrame(rows)


def diff_runs(folder_a: Path, folder_b: Path) -> PlanDiff:
    a, b = Run(folder_a), Run(folder_b)
    costs = _cost_table(a, b)
    blocks = _block_table(a, b)
    fa = set(a.table("framework").get("provider_id", pd.Series(dtype=str)))
    fb = set(b.table("framework").get("provider_id", pd.Series(dtype=str)))
    residents = _resident_table(a, b)
    figures = _figure_table(a, b)
    out = PlanDiff(a=a.name, b=b.name, costs=costs, blocks=blocks,
                   framework_in=sorted(fb - fa), framework_out=sorted(fa - fb),
                   residents=residents, figures=figures)
    out.words = _words(out, a, b)
    return out


def _names(run_a: Run, run_b: Run) -> dict[str, str]:
    names: dict[str, str] = {}
    for run in (run_a, run_b):
        for table in ("framework", "allocations", "block_contracts", "providers"):
            t = run.table(table)
            if {"provider_id", "provider_name"} <= set(t.columns):
                names.update(dict(zip(t["provider_id"].dropna(), t["provider_name"].dropna(),
                                      strict=False)))
    return names


def _words(d: PlanDiff, a: Run, b: Run) -> list[str]:
    total = d.costs.set_index("line")
    change = float(total.at["total", "change"]) if "total" in total.index else 0.0
    words = [f"'{d.b}' against '{d.a}':"]
    if abs(change) < 0.5:
        words.append("The two plans cost the same.")
    else:
        words.append(f"'{d.b}' costs {_money(change)} a year {'more' if change > 0 else 'less'}"
                     f" than '{d.a}' ({_money(a.annual())} -> {_money(b.annual())}).")
    moved = d.costs[(d.costs["line"] != "total") & (d.costs["change"].abs() >= 0.5)]
    moved = moved.reindex(moved["change"].abs().sort_values(ascending=False).index)
    for row in moved.itertuples():
        words.append(f"  - {row.description}: {_signed(row.change)} a year "
                     f"({_money(row.annual_a)} -> {_money(row.annual_b)})")
    blocks = d.blocks
    for row in blocks[blocks["change"] != "unchanged"].itertuples():
        if row.change == "changed hands":
            words.append(f"Block at {row.scheme_name} changed hands: {row.provider_name_a} "
                         f"({row.weekly_staff_hours_a:,.0f} h/week) -> {row.provider_name_b} "
                         f"({row.weekly_staff_hours_b:,.0f} h/week).")
        elif row.change == "changed size":
            words.append(f"Block at {row.scheme_name} ({row.provider_name_b}) changed size: "
                         f"{row.weekly_staff_hours_a:,.0f} -> {row.weekly_staff_hours_b:,.0f} "
                         f"staff-hours a week ({_signed(row.hours_change)}).")
        elif row.change == "new block":
            words.append(f"New block at {row.scheme_name}: {row.provider_name_b}, "
                         f"{row.weekly_staff_hours_b:,.0f} staff-hours a week.")
        else:
            words.append(f"Block at {row.scheme_name} ended (was {row.provider_name_a}, "
                         f"{row.weekly_staff_hours_a:,.0f} staff-hours a week): no 24-hour "
                         "cover there.")
    same = int((blocks["change"] == "unchanged").sum())
    if same:
        words.append(f"{same} block contract(s) unchanged.")
    names = _names(a, b)
    for label, ids in (("joins", d.framework_in), ("leaves", d.framework_out)):
        for pid in ids:
            words.append(f"Framework: {names.get(pid, pid)} ({pid}) {label}.")
    if not d.framework_in and not d.framework_out:
        words.append("Framework: the same providers.")
    r = d.residents
    if len(r):
        kinds = r["change"].value_counts()
        words.append(f"{len(r)} resident(s) change provider or route ("
                     + ", ".join(f"{n} {k}" for k, n in kinds.items()) + "); the list is "
                     "below, by pseudonymous id.")
    else:
        words.append("No resident changes provider or route.")
    for row in d.figures.itertuples():
        if row.change == row.change and abs(row.change) > 1e-9:
            words.append(f"{row.figure}: {_fmt(row.a, row.format)} -> "
                         f"{_fmt(row.b, row.format)}.")
    return words


def markdown(d: PlanDiff, max_residents: int | None = None) -> str:
    """The diff as Markdown: the words, then the tables."""
    out = ["\n".join(d.words), "", f"| cost line | {d.a} | {d.b} | change |", "|---|---|---|---|"]
    for row in d.costs.itertuples():
        out.append(f"| {row.description} | {row.annual_a:,.0f} | {row.annual_b:,.0f} | "
                   f"{_signed(row.change)} |")
    out += ["", f"| scheme | {d.a}: block holder | h/week | {d.b}: block holder | h/week | "
                "change |", "|---|---|---|---|---|---|"]
    for row in d.blocks.itertuples():
        ha = "-" if row.weekly_staff_hours_a != row.weekly_staff_hours_a else \
            f"{row.weekly_staff_hours_a:,.0f}"
        hb = "-" if row.weekly_staff_hours_b != row.weekly_staff_hours_b else \
            f"{row.weekly_staff_hours_b:,.0f}"
        out.append(f"| {row.scheme_name} | {row.provider_name_a if isinstance(row.provider_name_a, str) else '-'} | "  # noqa: E501
                   f"{ha} | {row.provider_name_b if isinstance(row.provider_name_b, str) else '-'} | {hb} | "  # noqa: E501
                   f"{row.change} |")
    out += ["", f"| figure | {d.a} | {d.b} |", "|---|---|---|"]
    for row in d.figures.itertuples():
        out.append(f"| {row.figure} | {_fmt(row.a, row.format)} | {_fmt(row.b, row.format)} |")
    if len(d.residents):
        shown = d.residents if max_residents is None else d.residents.head(max_residents)
        out += ["", f"| resident | scheme | {d.a}: route | provider | {d.b}: route | provider |",
                "|---|---|---|---|---|---|"]
        for row in shown.itertuples():
            out.append(f"| {row.resident_id} | {row.scheme_id} | {row.route_a} | "
                       f"{row.provider_a} | {row.route_b} | {row.provider_b} |")
        if len(shown) < len(d.residents):
            out.append(f"\n... and {len(d.residents) - len(shown)} more residents "
                       "(--out writes them all to residents.csv)")
    return "\n".join(out) + "\n"


def write_diff(d: PlanDiff, folder: Path) -> Path:
    """diff.md and one CSV per table in folder."""
    from optimiser.plan.files import write_csv

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "diff.md").write_text(markdown(d), encoding="utf-8")
    for name, frame in d.tables().items():
        write_csv(frame, folder / f"{name}.csv")
    return folder
