"""Charts for a plan: annual cost by line, and staff on duty against required cover per scheme.

Each chart reads the plan tables as written (so the report can draw them from a run folder),
labels schemes by name, places slots by their clock time (any slot length), and stays legible
in black and white and to colour-blind readers: values are written on the bars, on-duty staff
are a hatched grey area and the requirement a thick dashed black line drawn over it.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from optimiser.inputs.schema import DAYS  # noqa: E402
from optimiser.plan.tables import Plan  # noqa: E402

MAX_SCHEMES_CHARTED = 12
BAR_COLOUR = "#0072B2"  # Okabe-Ito blue: dark enough to print as a mid grey
DUTY_COLOUR = "#9ecae1"
plt.rcParams["svg.hashsalt"] = "optimiser"  # the same chart gives the same SVG


def _save(fig, path: Path | io.BytesIO, fmt: str | None = None) -> None:
    fig.savefig(path, dpi=110, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)


def cost_lines_figure(lines: pd.DataFrame):
    """Horizontal bars of the annual cost of each line, with the amount written on each bar."""
    lines = lines[lines["line"] != "total"]
    lines = lines[lines["annual_gbp"].abs() >= 0.5]
    fig, ax = plt.subplots(figsize=(8, 0.5 * max(len(lines), 1) + 1.2))
    values = lines["annual_gbp"].astype(float) / 1000.0
    bars = ax.barh(lines["description"], values, color=BAR_COLOUR, edgecolor="black")
    ax.bar_label(bars, labels=[f"£{v:,.0f}k" for v in values], padding=3, fontsize=9)
    ax.set_xlabel("£ thousand a year")
    ax.set_title("Annual cost by line")
    ax.set_xlim(0, max(float(values.max()) if len(values) else 1.0, 1.0) * 1.18)
    ax.invert_yaxis()
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _hours_of_week(cover: pd.DataFrame) -> pd.Series:
    """Hour of the week (Mon 00:00 = 0) of each slot, from its day and clock time."""
    day = cover["day"].map({d: i for i, d in enumerate(DAYS)}).astype(float)
    clock = cover["time"].astype(str).str.extract(r"^(\d{1,2}):(\d{2})").astype(float)
    return day * 24 + clock[0] + clock[1] / 60


def cover_figure(cover: pd.DataFrame):
    """One panel per scheme (by name): on-duty staff as a hatched area, required staff as a
    dashed line on top, hour by hour through the week."""
    key = "scheme_name" if "scheme_name" in cover.columns else "scheme_id"
    schemes = list(dict.fromkeys(cover.sort_values("scheme_id")[key]))[:MAX_SCHEMES_CHARTED]
    fig, axes = plt.subplots(len(schemes), 1, figsize=(10, 1.7 * len(schemes) + 0.9),
                             sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], schemes, strict=True):
        part = cover[cover[key] == name]
        hours = _hours_of_week(part).tolist()
        step = (hours[1] - hours[0]) if len(hours) > 1 else 1.0
        edges = hours + [hours[-1] + step] if hours else []
        duty = part["on_duty"].astype(float).tolist()
        need = part["required"].astype(float).tolist()
        ax.fill_between(edges, duty + duty[-1:], step="post", facecolor=DUTY_COLOUR,
                        edgecolor="#08519c", hatch="///", linewidth=0.8, label="on duty")
        ax.step(edges, need + need[-1:], where="post", color="black", linestyle="--",
                linewidth=1.6, label="required")
        ax.set_title(str(name), loc="left", fontsize=10)
        ax.set_ylim(0, max(max(duty + need, default=1.0), 1.0) * 1.25)
        ax.set_ylabel("staff")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        ax.grid(axis="x", color="#bbbbbb", linewidth=0.5)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncols=2, frameon=True)
    axes[-1, 0].set_xticks([24 * d for d in range(7)], list(DAYS))
    axes[-1, 0].set_xlim(0, 168)
    fig.suptitle("Staff on duty against staff required, through the week")
    fig.tight_layout()
    return fig


def cost_chart(plan: Plan | pd.DataFrame, path: Path) -> None:
    lines = plan.cost_lines if isinstance(plan, Plan) else plan
    _save(cost_lines_figure(lines), path)


def cover_chart(plan: Plan | pd.DataFrame, path: Path) -> None:
    cover = plan.cover if isinstance(plan, Plan) else plan
    _save(cover_figure(cover), path)


def svg(fig) -> bytes:
    """A figure as SVG bytes, for embedding in the report."""
    buffer = io.BytesIO()
    _save(fig, buffer, "svg")
    return buffer.getvalue()


def plan_charts(plan: Plan, folder: Path) -> None:
    cost_chart(plan, folder / "cost_lines.png")
    if len(plan.cover):
        cover_chart(plan, folder / "cover.png")
