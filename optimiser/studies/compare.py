"""Commissioning models side by side (`optimiser compare`).

Each model file is solved on its own dataset exactly as `optimiser solve` would (its plan is
written to ``<out>/<model>/`` and verified), and the figures a commissioner compares first are
gathered into one table: annual cost and its lines, block hours, on-site share, framework
size, direct payments, night cover per flat, choice, quality and fragmentation. A model that
cannot meet the data's rules is a row that says why, never a missing row: "this model cannot
work here" is one of the answers a comparison exists to give.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import pandas as pd
from rich import box
from rich.table import Table

from optimiser.inputs.config import Scenario, load_scenario
from optimiser.inputs.load import InputError
from optimiser.model.objective import COST_LINES
from optimiser.plan.files import atomic_write, write_csv
from optimiser.plan.tables import HEADLINE_FIGURES
from optimiser.run import Outcome, solve_scenario
from optimiser.solving.highs import INTERRUPTED, Progress

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import StrMethodFormatter  # noqa: E402

COMPARE_FOLDER = "compare"
CSV_NAME = "comparison.csv"
CHART_NAME = "cost_lines.png"

# Plan-summary figures copied into the comparison, in column order.
HEADLINES = HEADLINE_FIGURES
COST_COLUMNS: tuple[str, ...] = tuple(f"annual_{line}" for line in COST_LINES)
COLUMNS: tuple[str, ...] = (
    "model", "description", "dataset", "status", "reason", "gap", "annual_cost",
    *COST_COLUMNS, *HEADLINES, "cover_restore_cost_annual", "findings", "run_seconds",
    "results_folder",
)

# Plain-English status of a model run, by what happened.
INPUT_ERROR = "input error"
RULES_UNMET = "no plan meets the rules"
NO_PLAN_IN_TIME = "no plan within the time limit"
FAILED_VERIFICATION = "plan failed verification"
PLAN_STATUS = {"optimal": "optimal", "feasible": "feasible, not proven optimal"}
# The terminal table: short headers, and the status folded into the cost column, so it fits
# an 80-character terminal (comparison.csv and the notes under the table say everything).
TERMINAL_HEADERS: tuple[str, ...] = (
    "Model", "Cost\nGBPk/yr", "Block\nstaff-h\n/week", "On-site\nshare", "Frame-\nwork",
    "Direct\npay-\nments", "Night\nGBP/flat\n/week", "Prefs\nmet", "Satis-\nfaction",
    "Provs/\nscheme",
)
SHORT_STATUS = {RULES_UNMET: "no plan", NO_PLAN_IN_TIME: "no plan", INPUT_ERROR: "error",
                FAILED_VERIFICATION: "failed"}
SHORT_LINES = {
    "onsite_staff": "On-site staff (block)",
    "block_management": "Block management",
    "onsite_spot": "On-site, from budgets",
    "framework_care": "Framework care",
    "framework_fixed": "Framework fixed",
    "direct_payments": "Direct payments",
    "coordination": "Coordination",
}
# Colours for the cost lines, in COST_LINES order (same blue as the single-run chart first).
LINE_COLOURS = ("#3b6ea5", "#9bb7d4", "#e1812c", "#3a923a", "#98df8a", "#c03d3e", "#8c6bb1",
                "#bcbd22")


@dataclass
class ModelRun:
    """One model's run, reduced to what the comparison needs."""

    model_file: Path
    name: str
    description: str = ""
    dataset: str = ""
    status: str = ""
    reasons: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    seconds: float = 0.0

    @property
    def interrupted(self) -> bool:
        """The user stopped this solve (Ctrl-C): the comparison stops and writes nothing."""
        result = self.outcome.result if self.outcome is not None else None
        return result is not None and result.status == INTERRUPTED

    @property
    def has_plan(self) -> bool:
        """A plan was found, verified and written: only then are its numbers compared."""
        return self.outcome is not None and self.outcome.written_to is not None


def default_models(folder: Path = Path("models")) -> list[Path]:
    """Every model file in the models folder, sorted so the table order is stable."""
    return sorted(Path(folder).glob("*.toml"))


def _status(outcome: Outcome) -> str:
    """What happened, in words, most serious first."""
    result = outcome.result
    if result is None or result.status == "infeasible":
        return RULES_UNMET
    if not result.has_plan:
        return NO_PLAN_IN_TIME if result.status == "no_solution" else result.describe()
    if outcome.problems:
        return FAILED_VERIFICATION
    return PLAN_STATUS[result.status]


def _reasons(outcome: Outcome) -> list[str]:
    """Why there is no plan to compare (empty when there is one)."""
    if outcome.reasons:
        return list(outcome.reasons)
    if outcome.problems:
        return list(outcome.problems)
    result = outcome.result
    if result is not None and not result.has_plan:
        return [f"{result.describe()} (HiGHS: {result.solver_status})"]
    return []


def _load(model_file: Path, overrides: dict[str, object], seen: set[str]) -> Scenario:
    """Read one model file, refusing names whose results folders would collide."""
    scenario = load_scenario(model_file, overrides)
    if scenario.name == COMPARE_FOLDER:
        problem = f"{model_file.name}: the model name '{COMPARE_FOLDER}' is kept for the comparison"
        raise InputError([problem], "The model file")
    if scenario.name in seen:
        problem = f"{model_file.name}: another model file is also named '{scenario.name}'"
        raise InputError([problem], "The model file")
    return scenario


def run_model(model_file: Path, out_root: Path, overrides: dict[str, object] | None = None,
              seen: set[str] | None = None, progress: Progress | None = None) -> ModelRun:
    """Solve one model file; an input mistake becomes a row that says so, not a crash."""
    run = ModelRun(model_file=Path(model_file), name=Path(model_file).stem)
    started = time.perf_counter()
    try:
        scenario = _load(run.model_file, overrides or {}, seen if seen is not None else set())
        run.name, run.description = scenario.name, scenario.description
        run.dataset = Path(scenario.dataset).name
        run.outcome = solve_scenario(scenario, out_root, progress=progress)
    except InputError as exc:
        run.status, run.reasons = INPUT_ERROR, list(exc.problems)
    else:
        run.status, run.reasons = _status(run.outcome), _reasons(run.outcome)
    run.seconds = time.perf_counter() - started
    return run


def _plan_figures(outcome: Outcome) -> dict[str, object]:
    """Annual cost, its lines and the headline figures of a written plan."""
    plan = outcome.plan
    annual = plan.cost_lines.set_index("line")["annual_gbp"]
    summary = dict(zip(plan.summary["metric"], plan.summary["value"], strict=True))
    figures: dict[str, object] = {"gap": outcome.result.gap, "annual_cost": annual["total"]}
    figures.update({f"annual_{line}": annual.get(line, 0.0) for line in COST_LINES})
    figures.update({key: summary.get(key) for key in HEADLINES})
    funding = plan.extras.get("cover_funding")
    figures["cover_restore_cost_annual"] = (
        round(float(funding["restore_cost_annual"].sum()), 2) if funding is not None else 0.0)
    figures["findings"] = " ".join(outcome.notes)
    figures["results_folder"] = str(outcome.written_to)
    return figures


def comparison_row(run: ModelRun) -> dict[str, object]:
    """One row of the comparison: identity and status always, figures only for a plan."""
    row: dict[str, object] = dict.fromkeys(COLUMNS)
    row.update(model=run.name, description=run.description, dataset=run.dataset,
               status=run.status, reason="; ".join(run.reasons),
               run_seconds=round(run.seconds, 1))
    if run.has_plan:
        row.update(_plan_figures(run.outcome))
    return row


def comparison_table(runs: Iterable[ModelRun]) -> pd.DataFrame:
    """The comparison, one row per model in the order given."""
    return pd.DataFrame([comparison_row(run) for run in runs], columns=list(COLUMNS))


def compare_models(model_files: Iterable[Path], out_root: Path = Path("results"),
                   overrides: dict[str, object] | None = None,
                   on_start: Callable[[Path], None] | None = None,
                   on_done: Callable[[ModelRun], None] | None = None,
                   progress: Progress | None = None) -> list[ModelRun]:
    """Solve every model file in turn (writing each plan), reporting progress by callback.

    Stops after a solve the user interrupted: the last run then says so, and the caller
    should not write a comparison that silently leaves models out."""
    runs: list[ModelRun] = []
    seen: set[str] = set()
    for model_file in model_files:
        if on_start is not None:
            on_start(Path(model_file))
        run = run_model(Path(model_file), Path(out_root), overrides, seen, progress)
        seen.add(run.name)
        runs.append(run)
        if on_done is not None:
            on_done(run)
        if run.interrupted:
            break
    return runs


def write_comparison(table: pd.DataFrame, out_root: Path = Path("results")) -> Path:
    """Write comparison.csv and the cost-line chart to <out>/compare/, each file atomically."""
    folder = Path(out_root) / COMPARE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / CSV_NAME, lambda path: write_csv(table, path))
    atomic_write(folder / CHART_NAME, lambda path: cost_chart(table, path))
    return folder




def cost_chart(table: pd.DataFrame, path: Path) -> None:
    """Stacked bars of annual cost by line, one bar per model; a model without a plan is
    labelled as such instead of drawn as a zero-cost bar."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(table) + 3), 4.8))
    positions = range(len(table))
    bottom = pd.Series(0.0, index=table.index)
    drawn = False
    for (line, label), colour in zip(COST_LINES.items(), LINE_COLOURS, strict=True):
        values = pd.to_numeric(table[f"annual_{line}"], errors="coerce").fillna(0.0) / 1000.0
        if values.abs().sum() >= 0.0005:
            ax.bar(positions, values, bottom=bottom, color=colour, label=label, width=0.6)
            bottom += values
            drawn = True
    for pos, row in zip(positions, table.itertuples(), strict=True):
        if pd.isna(row.annual_cost):
            ax.text(pos, 0, textwrap.fill(str(row.status), 14), ha="center", va="bottom",
                    fontsize=7)
    ax.set_xticks(list(positions), table["model"], rotation=20, ha="right")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel("GBP thousand a year")
    ax.set_title("Annual cost by line, by commissioning model")
    if drawn:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _number(value: object, fmt: str) -> str:
    """A figure for the terminal, or a dash where the model has no plan."""
    return "-" if value is None or pd.isna(value) else format(value, fmt)


def _compact(title: str) -> Table:
    """A table without vertical rules, so eleven columns fit an 80-character terminal."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0),
                 pad_edge=False, show_edge=False, collapse_padding=True)


def _cost_cell(row) -> str:
    """Annual cost in GBP thousand, starred if not proven optimal; else what went wrong."""
    if pd.isna(row.annual_cost):
        return SHORT_STATUS.get(row.status, "no plan")
    star = "" if row.status == PLAN_STATUS["optimal"] else "*"
    return f"{row.annual_cost / 1000.0:,.0f}{star}"


def terminal_table(table: pd.DataFrame) -> Table:
    """The headline comparison for the terminal (the CSV has every column)."""
    out = _compact("Commissioning models side by side")
    for header in TERMINAL_HEADERS:
        out.add_column(header, justify="left" if header == "Model" else "right", no_wrap=True)
    for row in table.itertuples():
        share = row.onsite_share_of_planned_care
        prefs = "-" if pd.isna(row.annual_cost) else (
            f"{_number(row.preferences_honoured, 'g')}/{_number(row.preferences_stated, 'g')}")
        out.add_row(
            row.model, _cost_cell(row), _number(row.block_staff_hours_per_week, ",.0f"),
            "-" if share is None or pd.isna(share) else f"{100 * float(share):.0f} %",
            _number(row.framework_providers, "g"), _number(row.direct_payments, "g"),
            _number(row.night_cover_cost_per_flat_per_week, ",.2f"), prefs,
            _number(row.mean_satisfaction, ".1f"), _number(row.providers_per_scheme, ".2f"),
        )
    return out


def cost_lines_table(table: pd.DataFrame) -> Table:
    """Annual cost lines (GBP thousand), one column per model that has a plan."""
    with_plan = table[table["annual_cost"].notna()]
    out = _compact("Annual cost by line, GBP thousand")
    out.add_column("Cost line", no_wrap=True)
    for model in with_plan["model"]:
        out.add_column(str(model), justify="right")
    for line, label in SHORT_LINES.items():
        out.add_row(label, *(_number(v / 1000.0, ",.0f") for v in with_plan[f"annual_{line}"]))
    out.add_row("Total", *(_number(v / 1000.0, ",.0f") for v in with_plan["annual_cost"]),
                style="bold")
    return out


def reasons_text(runs: Iterable[ModelRun], limit: int = 3) -> list[str]:
    """Notes under the table: what a star means, and why some models have no plan (at most
    ``limit`` reasons each; the CSV has them all)."""
    runs = list(runs)
    lines = []
    if any(run.has_plan and run.status != PLAN_STATUS["optimal"] for run in runs):
        lines.append("* time limit reached before the plan was proven optimal; its gap is in "
                     f"{CSV_NAME}.")
    for run in runs:
        if run.has_plan or not run.reasons:
            continue
        lines.append(f"{run.name}: {run.status}.")
        lines += [f"  - {reason}" for reason in run.reasons[:limit]]
        if len(run.reasons) > limit:
            lines.append(f"  - ... and {len(run.reasons) - limit} more in {CSV_NAME}")
    return lines
