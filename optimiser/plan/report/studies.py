"""The reports of a comparison (comparison.csv) and a sweep (sweep.csv) folder, and their charts.

These read one table of many plans rather than a run folder; the comparison's table is the
same one a plan's report shows when it was part of a comparison.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from optimiser.plan.report.html import esc, figure_html, gbp, num, page, png_figure, table_html
from optimiser.plan.report.plan import comparison_table


def comparison_report(folder: Path) -> str:
    table = pd.read_csv(Path(folder) / "comparison.csv", keep_default_na=False, na_values=[""])
    title = "Extra Care Housing: commissioning models compared"
    body = [f"<h1>{esc(title)}</h1>",
            f"<p class='meta'>{len(table)} models; folder {esc(folder)}.</p>"]
    planned = table[table["annual_cost"].notna()].sort_values("annual_cost")
    if len(planned):
        best = planned.iloc[0]
        body.append('<div class="answer"><p class="big">Cheapest: ' + esc(best["model"])
                    + f" at {gbp(best['annual_cost'])} a year.</p><p>"
                    + esc(_text(best.get("description"))) + "</p></div>")
    body.append("<h2>Side by side</h2>")
    body.append(comparison_table(table))
    if len(planned):
        body.append(figure_html(_comparison_chart(planned), "Bar chart of annual cost by model: "
                                + "; ".join(f"{m} {gbp(c)}" for m, c in
                                            zip(planned["model"], planned["annual_cost"],
                                                strict=True)),
                                "Annual cost of each model with a plan, cheapest first."))
    reasons = table[table["annual_cost"].isna()]
    if len(reasons):
        body.append("<h2>Models without a plan</h2><ul>" + "".join(
            f"<li><strong>{esc(r['model'])}</strong>: {esc(r['status'])}. "
            f"{esc(_text(r.get('reason')))}</li>" for r in reasons.to_dict("records")) + "</ul>")
    body.append("<h2>What each model is</h2><ul>" + "".join(
        f"<li><strong>{esc(r['model'])}</strong>: {esc(_text(r.get('description')))}</li>"
        for r in table.to_dict("records")) + "</ul>")
    return page(title, body, "Every figure comes from comparison.csv; each model's plan is in its "
                "own folder beside it.")


def _cell(value: object) -> str:
    """A table cell: large numbers with thousands separators, small ones to 4 figures."""
    if isinstance(value, float):
        return num(value, ",.0f" if abs(value) >= 1000 else ".4g")
    return esc(_text(value) if not isinstance(value, int) else value)


def _text(value: object) -> str:
    """A CSV cell as text: an empty cell (NaN) is no text."""
    return value if isinstance(value, str) else ""


def _comparison_chart(planned: pd.DataFrame) -> bytes:
    import matplotlib.pyplot as plt

    from optimiser.plan.charts import BAR_COLOUR, svg

    fig, ax = plt.subplots(figsize=(8, 0.45 * len(planned) + 1.2))
    values = planned["annual_cost"].astype(float) / 1000.0
    bars = ax.barh(planned["model"], values, color=BAR_COLOUR, edgecolor="black")
    ax.bar_label(bars, labels=[f"£{v:,.0f}k" for v in values], padding=3, fontsize=9)
    ax.set_xlim(0, float(values.max()) * 1.18)
    ax.invert_yaxis()
    ax.set_xlabel("£ thousand a year")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return svg(fig)


def sweep_report(folder: Path) -> str:
    folder = Path(folder)
    table = pd.read_csv(folder / "sweep.csv", keep_default_na=False, na_values=[""])
    summary = folder / "summary.txt"
    title = f"Extra Care Housing: what-if sweep ({folder.name})"
    body = [f"<h1>{esc(title)}</h1>", f"<p class='meta'>{len(table)} scenarios.</p>"]
    if summary.is_file():
        body.append("<h2>What the sweep says</h2><pre>"
                    + esc(summary.read_text(encoding="utf-8")) + "</pre>")
    for png in sorted(folder.glob("*.png")):
        body.append(png_figure(png, f"Sweep chart {png.stem.replace('_', ' ')} (the table "
                                    "below gives every scenario's figures)"))
    columns = list(table.columns)
    moved = (columns[columns.index("varied") + 1:columns.index("status")]
             if {"varied", "status"} <= set(columns) else [])  # the settings each scenario moves
    keep = [c for c in ("scenario_id", "varied", *moved, "status", "annual_cost",
                        "block_staff_hours_per_week", "onsite_share_of_planned_care",
                        "framework_providers", "mean_satisfaction") if c in columns]
    keep = keep or columns[:8]
    rows = [[_cell(v) for v in r] for r in table[keep].itertuples(index=False)]
    body.append("<h2>Every scenario</h2>" + table_html(keep, rows, "Scenarios"))
    return page(title, body, "Every figure comes from sweep.csv and summary.txt in the sweep "
                "folder.")

