"""Charts for a plan: annual cost by line, and on-duty against required staff per scheme."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from optimiser.plan.tables import Plan  # noqa: E402

MAX_SCHEMES_CHARTED = 12


def cost_chart(plan: Plan, path: Path) -> None:
    lines = plan.cost_lines[plan.cost_lines["line"] != "total"]
    lines = lines[lines["annual_gbp"].abs() >= 0.5]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(lines["description"], lines["annual_gbp"] / 1000.0, color="#3b6ea5")
    ax.set_xlabel("GBP thousand a year")
    ax.set_title("Annual cost by line")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cover_chart(plan: Plan, path: Path) -> None:
    cover = plan.cover
    schemes = sorted(cover["scheme_id"].unique())[:MAX_SCHEMES_CHARTED]
    fig, axes = plt.subplots(len(schemes), 1, figsize=(10, 1.8 * len(schemes) + 0.5),
                             sharex=True, squeeze=False)
    for ax, sid in zip(axes[:, 0], schemes, strict=True):
        part = cover[cover["scheme_id"] == sid]
        ax.step(part["slot"], part["on_duty"], where="post", label="on duty", color="#3b6ea5")
        ax.step(part["slot"], part["required"], where="post", label="required",
                color="#c0392b", linestyle="--")
        ax.set_ylabel(sid, rotation=0, ha="right")
        ax.set_ylim(bottom=0)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xticks(range(0, 168, 24), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    fig.suptitle("Staff on duty against required cover, hour by hour")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plan_charts(plan: Plan, folder: Path) -> None:
    cost_chart(plan, folder / "cost_lines.png")
    if len(plan.cover):
        cover_chart(plan, folder / "cover.png")
