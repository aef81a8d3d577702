"""What a sweep says: the plain-English summary (ranges, where the plan changes, random
draws) and the charts, written beside sweep.csv (optimiser.studies.sweep).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from pathlib import Path

import pandas as pd

from optimiser.plan.files import atomic_write
from optimiser.studies.sweep_spec import (
    BASE_ID_LABEL,
    FACTORIAL,
    ONE_AT_A_TIME,
    RANDOM_LABEL,
    SweepSpec,
)

CSV_NAME = "sweep.csv"
PARQUET_NAME = "sweep.parquet"
PARQUET_FROM_ROWS = 10_000
SUMMARY_NAME = "summary.txt"
TORNADO_NAME = "tornado.png"

# Plan-summary figures charted against each varied parameter.
CHARTED: tuple[str, ...] = (
    "annual_cost", "block_staff_hours_per_week", "framework_providers",
    "night_cover_cost_per_flat_per_week", "preferences_honoured", "mean_satisfaction",
    "onsite_share_of_planned_care",
)


def write_outputs(table: pd.DataFrame, spec: SweepSpec, folder: Path, charts: bool = True) -> str:
    """Parquet (large tables, if pyarrow is there), charts and summary.txt; returns the
    summary text."""
    if len(table) > PARQUET_FROM_ROWS:
        with contextlib.suppress(ImportError):  # Parquet is optional: CSV is the record
            atomic_write(folder / PARQUET_NAME, lambda p: table.to_parquet(p, index=False))
    if charts:
        sweep_charts(table, spec, folder)
    text = summary_text(table, spec)
    atomic_write(folder / SUMMARY_NAME, lambda p: p.write_text(text, encoding="utf-8"))
    return text


# ---------------------------------------------------------------------------------------------
# Plain-English summary


def _money(value: float) -> str:
    return f"GBP {value:,.0f}"


def _show(value: object) -> str:
    """A varied value as a commissioner would write it (1.15, good, 4)."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _has_plan(row: pd.Series) -> bool:
    return bool(pd.notna(row.get("annual_cost")))


def _series(table: pd.DataFrame, param: str) -> pd.DataFrame:
    """One-at-a-time rows moving one parameter, in the order its values were given."""
    return table[table["varied"] == param]


def _base_row(table: pd.DataFrame) -> pd.Series | None:
    base = table[table["varied"] == BASE_ID_LABEL]
    return base.iloc[0] if len(base) and _has_plan(base.iloc[0]) else None


def cost_ranges(table: pd.DataFrame, spec: SweepSpec) -> list[tuple[str, float, object, object]]:
    """(parameter, range of annual cost in GBP, value at cheapest, value at dearest), largest
    range first. Factorial sweeps use the mean cost at each value (the main effect)."""
    out = []
    for vary in spec.varies:
        if spec.mode == FACTORIAL:
            plans = table[table["annual_cost"].notna()]
            costs = plans.groupby(vary.param, sort=False)["annual_cost"].mean()
        else:
            series = pd.concat([table[table["varied"] == BASE_ID_LABEL],
                                _series(table, vary.param)])  # the base is a point too
            costs = series[series["annual_cost"].notna()].groupby(
                vary.param, sort=False)["annual_cost"].first()
        if len(costs):
            out.append((vary.param, float(costs.max() - costs.min()), costs.idxmin(),
                        costs.idxmax()))
    return sorted(out, key=lambda item: -item[1])


def _block_changes(before: pd.Series, after: pd.Series, at: str) -> list[str]:
    schemes = sorted({c[len("block_"):-len("_provider")] for c in before.index
                      if c.startswith("block_") and c.endswith("_provider")})
    out = []
    for scheme in schemes:
        col = f"block_{scheme}_provider"
        old, new = before.get(col), after.get(col)
        old = None if pd.isna(old) else old
        new = None if pd.isna(new) else new
        if old == new:
            continue
        if old and new:
            out.append(f"{at}, {scheme}'s block moves from {old} to {new}.")
        elif old:
            out.append(f"{at}, {scheme} no longer has a block contract (was {old}).")
        else:
            out.append(f"{at}, {scheme} gets a block contract with {new}.")
    return out


def _step_changes(before: pd.Series, after: pd.Series, param: str) -> list[str]:
    """How the plan's structure differs between two consecutive values of one parameter."""
    at = f"At {param} = {_show(after[param])}"
    if _has_plan(before) != _has_plan(after):
        if _has_plan(after):
            return [f"{at}, a plan exists again."]
        return [f"{at}, there is no plan: {after.get('reason', after.get('status'))}."]
    if not _has_plan(after):
        return []
    out = _block_changes(before, after, at)
    old, new = before.get("framework_providers"), after.get("framework_providers")
    if pd.notna(old) and pd.notna(new) and int(old) != int(new):
        out.append(f"{at}, the framework goes from {int(old)} to {int(new)} provider(s).")
    return out


def structure_changes(table: pd.DataFrame, spec: SweepSpec) -> list[str]:
    """Where the optimal plan's structure changes along each one-at-a-time parameter."""
    if spec.mode == FACTORIAL:
        return []
    out = []
    for vary in spec.varies:
        series = _series(table, vary.param)
        rows = [row for _, row in series.iterrows()]
        for before, after in itertools.pairwise(rows):
            out += _step_changes(before, after, vary.param)
    return out


def _random_lines(table: pd.DataFrame) -> list[str]:
    draws = table[table["varied"] == RANDOM_LABEL]
    costs = draws["annual_cost"].dropna()
    if not len(draws):
        return []
    lines = [f"Random demand: {len(draws)} draw(s), {len(costs)} with a plan."]
    if len(costs):
        low, mid, high = costs.quantile([0.05, 0.5, 0.95])
        lines.append(f"  Annual cost: median {_money(mid)}, 90 % of draws between "
                     f"{_money(low)} and {_money(high)}.")
    return lines


def summary_text(table: pd.DataFrame, spec: SweepSpec) -> str:
    """What a commissioner reads first: which parameters move the cost most, and where the
    plan's structure changes."""
    plans = int(table["annual_cost"].notna().sum()) if "annual_cost" in table else 0
    lines = [f"Sweep of model '{spec.name}' ({spec.mode}): {len(table)} scenario(s), "
             f"{plans} with a plan, {len(table) - plans} without."]
    base = _base_row(table) if spec.mode == ONE_AT_A_TIME and len(table) else None
    if base is not None:
        lines.append(f"Base plan: {_money(base['annual_cost'])} a year.")
    ranges = cost_ranges(table, spec) if len(table) else []
    if ranges:
        lines.append("What moves the annual cost most:")
    for param, spread, cheap, dear in ranges:
        if spread < 0.5:
            lines.append(f"  - {param}: no change in the annual cost.")
            continue
        lines.append(f"  - {param}: a range of {_money(spread)} a year (cheapest at "
                     f"{_show(cheap)}, dearest at {_show(dear)}).")
    changes = structure_changes(table, spec) if len(table) else []
    if changes:
        lines.append("Where the plan's structure changes:")
        lines += [f"  - {change}" for change in changes]
    elif spec.mode == ONE_AT_A_TIME and spec.varies:
        lines.append("The plan's structure (block holders, framework size) does not change.")
    lines += _random_lines(table) if len(table) else []
    failed = table[table["status"].isin(["error", "input error"])] if len(table) else table
    if len(failed):
        lines.append(f"{len(failed)} scenario(s) failed; their reasons are in {CSV_NAME}.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Charts


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _slug(param: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", param.replace("*", "_scale").lower()).strip("_")


def _x(values: pd.Series) -> tuple[list, list[str] | None]:
    """Numeric values plot as they are; words (CQC levels) as evenly spaced categories."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return list(numeric), None
    return list(range(len(values))), [str(v) for v in values]


def parameter_chart(table: pd.DataFrame, param: str, path: Path) -> None:
    """Annual cost and the headline figures against one parameter (one-at-a-time)."""
    plt = _plt()
    series = _series(table, param)
    x, labels = _x(series[param])
    fig, axes = plt.subplots(2, 4, figsize=(13, 5.5), squeeze=False)
    for ax, metric in zip(axes.flat, CHARTED, strict=False):
        y = pd.to_numeric(series[metric], errors="coerce")
        scale = 1000.0 if metric == "annual_cost" else 1.0
        ax.plot(x, y / scale, marker="o", color="#3b6ea5")
        ax.set_title("annual cost (GBP thousand)" if scale > 1 else metric.replace("_", " "),
                     fontsize=8)
        if labels is not None:
            ax.set_xticks(x, labels, rotation=20, fontsize=7)
        ax.tick_params(labelsize=7)
    axes.flat[-1].axis("off")
    fig.suptitle(f"Plan against {param}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def tornado_chart(table: pd.DataFrame, spec: SweepSpec, path: Path) -> bool:
    """Change in annual cost from the base at the first and last value of each parameter,
    widest bar on top. False (nothing drawn) without a base plan."""
    base = _base_row(table)
    if base is None:
        return False
    bars = []
    for vary in spec.varies:
        series = _series(table, vary.param)
        if len(series) and _has_plan(series.iloc[0]) and _has_plan(series.iloc[-1]):
            low = float(series.iloc[0]["annual_cost"] - base["annual_cost"])
            high = float(series.iloc[-1]["annual_cost"] - base["annual_cost"])
            label = f"{vary.param} ({_show(vary.values[0])} to {_show(vary.values[-1])})"
            bars.append((label, low, high))
    if not bars:
        return False
    bars.sort(key=lambda b: max(abs(b[1]), abs(b[2])))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.55 * len(bars)))
    pos = range(len(bars))
    ax.barh(pos, [b[1] / 1000 for b in bars], color="#9bb7d4", label="first value")
    ax.barh(pos, [b[2] / 1000 for b in bars], color="#3b6ea5", label="last value")
    ax.set_yticks(list(pos), [b[0] for b in bars], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"Change in annual cost from the base ({_money(base['annual_cost'])}), "
                  "GBP thousand")
    ax.set_title("Cost sensitivity")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def sweep_charts(table: pd.DataFrame, spec: SweepSpec, folder: Path) -> list[Path]:
    """The charts a sweep writes: one per parameter and a tornado (one-at-a-time), or one
    histogram of random-draw costs."""
    written = []
    if spec.mode == ONE_AT_A_TIME and len(table):
        for vary in spec.varies:
            path = folder / f"vary_{_slug(vary.param)}.png"
            parameter_chart(table, vary.param, path)
            written.append(path)
        if tornado_chart(table, spec, folder / TORNADO_NAME):
            written.append(folder / TORNADO_NAME)
    costs = table[table["varied"] == RANDOM_LABEL]["annual_cost"].dropna() if len(table) \
        else pd.Series(dtype=float)
    if len(costs):
        plt = _plt()
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.hist(costs / 1000, bins=min(30, max(5, len(costs) // 3)), color="#3b6ea5")
        ax.set_xlabel("Annual cost, GBP thousand")
        ax.set_ylabel("draws")
        ax.set_title("Annual cost under random demand")
        fig.tight_layout()
        fig.savefig(folder / "random_demand.png", dpi=100)
        plt.close(fig)
        written.append(folder / "random_demand.png")
    return written
